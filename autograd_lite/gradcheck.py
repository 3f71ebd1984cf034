"""Check backward() against central finite differences.

For each input x_i the numeric gradient is

    (f(..., x_i + eps, ...) - f(..., x_i - eps, ...)) / (2 * eps)

whose error shrinks like eps^2, and it must agree with the gradient that
backpropagation computes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from autograd_lite.engine import Value
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
