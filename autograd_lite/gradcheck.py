"""Check backward() against central finite differences.

For each input x_i the numeric gradient is

    (f(..., x_i + eps, ...) - f(..., x_i - eps, ...)) / (2 * eps)

whose error shrinks like eps^2, and it must agree with the gradient that
backpropagation computes. `gradgradcheck` does the same one level up: second
derivatives (grad of grad) against central differences of the gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import product

from autograd_lite.engine import Value
from autograd_lite.higher_order import grad
from autograd_lite.modes import no_grad

Input = Value | float | int


class GradcheckError(AssertionError):
    """backward() and finite differences disagree; the message lists every input."""


def numeric_grads(f: Callable[..., Value], xs: Sequence[float], eps: float = 1e-6) -> list[float]:
    """Central-difference estimate of df/dx_i for every input."""
    grads = []
    with no_grad():
        for i in range(len(xs)):
            up = [Value(x) for x in xs]
            down = [Value(x) for x in xs]
            up[i].data += eps
            down[i].data -= eps
            grads.append((_scalar(f(*up)) - _scalar(f(*down))) / (2 * eps))
    return grads


def analytic_grads(f: Callable[..., Value], xs: Sequence[float]) -> list[float]:
    """df/dx_i for every input, by backward()."""
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
    out = f(*inputs)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    out.backward()
    return [x.grad for x in inputs]


def gradcheck(f: Callable[..., Value], inputs: Sequence[Input], eps: float = 1e-6,
              atol: float = 1e-6, rtol: float = 1e-4) -> bool:
    """Compare f's backward() gradients with central differences.

    `f` takes one Value per input and returns a scalar Value. Returns True when
    every |analytic - numeric| <= atol + rtol * |numeric|; otherwise raises
    GradcheckError with a table of both gradients for every input.

    >>> gradcheck(lambda a, b: (a * b).tanh(), [0.3, -1.2])
    True
    """
    xs = [x.data if isinstance(x, Value) else float(x) for x in inputs]
    analytic = analytic_grads(f, xs)
    numeric = numeric_grads(f, xs, eps)
    bad = [abs(a - n) > atol + rtol * abs(n) for a, n in zip(analytic, numeric)]
    if any(bad):
        names = [x.label if isinstance(x, Value) and x.label else f"x{i}" for i, x in enumerate(inputs)]
        rows = "\n".join(
            f"  {name:>8} = {x:<12.6g} analytic {a:<+16.10g} numeric {n:<+16.10g}"
            + ("  <-- mismatch" if b else "")
            for name, x, a, n, b in zip(names, xs, analytic, numeric, bad))
        raise GradcheckError(
            f"gradcheck failed (eps={eps}, atol={atol}, rtol={rtol}): backward() disagrees with "
            f"central differences for {sum(bad)} of {len(xs)} inputs\n{rows}")
    return True


def _scalar(out: Value | float) -> float:
    return out.data if isinstance(out, Value) else float(out)


def gradgradcheck(f: Callable[..., Value], inputs: Sequence[Input], eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    """Compare f's second derivatives (grad of grad) with central differences of its gradient.

    The numeric d2f / dx_i dx_j is (g_j(x + eps e_i) - g_j(x - eps e_i)) / (2 eps), where g is
    the first-order `grad()`. Returns True when every entry agrees within atol + rtol * |numeric|;
    otherwise raises GradcheckError with a table of both for every pair of inputs.

    >>> gradgradcheck(lambda a, b: (a * b).tanh(), [0.3, -1.2])
    True
    """
    xs = [x.data if isinstance(x, Value) else float(x) for x in inputs]
    analytic = analytic_hessian(f, xs)
    numeric = numeric_hessian(f, xs, eps)
    names = [x.label if isinstance(x, Value) and x.label else f"x{i}" for i, x in enumerate(inputs)]
    width = 6 + 2 * max(len(name) for name in names)
    rows, bad = [], 0
    for i, j in product(range(len(xs)), repeat=2):
        a, n = analytic[i][j], numeric[i][j]
        wrong = abs(a - n) > atol + rtol * abs(n)
        bad += wrong
        rows.append(f"  {f'd2/d{names[i]} d{names[j]}':<{width}}  analytic {a:<+16.10g} numeric {n:+.10g}"
                    + ("  <-- mismatch" if wrong else ""))
    if bad:
        raise GradcheckError(
            f"gradgradcheck failed (eps={eps}, atol={atol}, rtol={rtol}): grad of grad disagrees with "
            f"central differences of grad for {bad} of {len(xs) ** 2} second derivatives\n" + "\n".join(rows))
    return True


def analytic_hessian(f: Callable[..., Value], xs: Sequence[float]) -> list[list[float]]:
    """d2f / dx_i dx_j by differentiating grad(create_graph=True) again."""
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
    out = _checked(f(*inputs))
    first = grad(out, inputs, create_graph=True, materialize_grads=True)
    return [list(grad(g, inputs, materialize_grads=True)) for g in first]  # type: ignore[arg-type]


def numeric_hessian(f: Callable[..., Value], xs: Sequence[float], eps: float = 1e-6) -> list[list[float]]:
    """Central differences of the first-order gradient: row i is d grad / dx_i."""
    def gradient(at: list[float]) -> list[float]:
        inputs = [Value(x) for x in at]
        return list(grad(_checked(f(*inputs)), inputs, materialize_grads=True))  # type: ignore[arg-type]

    rows = []
    for i in range(len(xs)):
        up = gradient([x + eps if k == i else x for k, x in enumerate(xs)])
        down = gradient([x - eps if k == i else x for k, x in enumerate(xs)])
        rows.append([(u - d) / (2 * eps) for u, d in zip(up, down)])
    return rows


def _checked(out: Value) -> Value:
    if not isinstance(out, Value):
        raise TypeError(f"gradgradcheck: f must return a Value, got {type(out).__name__}")
    return out
