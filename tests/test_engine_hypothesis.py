"""Random expression graphs: backward() against PyTorch float64 and against central differences.

A graph is a small program: inputs, then steps that each apply an op to earlier
nodes (so nodes are reused -- shared subexpressions, x * x -- and graphs are DAGs,
not trees). The steps are every built-in op of `ops.OPS` (a new op is drawn as soon
as it is written), both kinds of exponent (`x ** c` and `x ** y`), and the ops
built from primitives (-, /, sqrt, 2 ** x). Inputs are moved into each op's domain
and kept away from kinks (relu, abs at 0) and from overflow.

`make test` draws a few hundred programs per test; `make test-slow` (the `slow` marker)
draws 1,500.
"""

from __future__ import annotations

import inspect
import math

import pytest
from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st

from autograd_lite import Value, gradcheck, value_sum
from autograd_lite.engine import apply
from autograd_lite.gradcheck import numeric_grads
from autograd_lite.ops import BUILTIN_OPS, OPS
from torch_reference import TORCH_OPS, torch

KINKY = {"relu", "abs", "leaky_relu"}  # derivative jumps at 0
# at_least's slope is 1 by design (a clamp whose shift is a constant), not max's: neither torch nor
# central differences agree with it; test_ops_vs_torch.test_at_least_is_a_clamp_... tests it
NOT_THE_DERIVATIVE = {"at_least"}
PRIMITIVES = sorted(BUILTIN_OPS - NOT_THE_DERIVATIVE)


def positive(a, choice: int = 0):  # a * a + 0.5 > 0 in both worlds
    return a * a + 0.5


def away_from_zero(a, choice: int):  # |.| >= 0.5, of either sign (not a's: that would jump at 0)
    return positive(a) * (1 if choice % 2 else -1)


# Inputs moved into an op's domain, written with operators so they run on Values and tensors alike.
DOMAIN = {"log": (positive,), "pow": (positive, None), "div": (None, away_from_zero)}
EXPONENTS = [0.0, 1.0, 2.0, 3.0, -1.0, -2.0, 0.5, 1.5, -0.5]  # x ** c: whole, negative, fractional
# at_least's slope below its floor is 1 by design (the shift is a constant), not the derivative of its
# value, which central differences would see: here the floor is out of reach (test_ops_vs_torch goes below)
PARAMS: dict[str, list[float]] = {"powc": EXPONENTS, "leaky_relu": [0.01, 0.2], "at_least": [-1e300]}

# Ops built from primitives (Values and tensors share these operators and methods).
DERIVED = {
    "neg": lambda a, b: -a,
    "sub": lambda a, b: a - b,
    "rdiv": lambda a, b: 2 / (1.5 + b.tanh()),
    "sqrt": lambda a, b: positive(a) ** 0.5,
    "rpow": lambda a, b: 1.5 ** a.tanh(),
    "square": lambda a, b: a * a,  # the same node twice
}
STEPS = PRIMITIVES + sorted(DERIVED)


def arity(name: str, k: int) -> int:
    """How many inputs a step takes; k in 0..2 picks the size of an n-ary op."""
    if name in DERIVED:
        return 2
    params = inspect.signature(OPS[name].forward).parameters.values()
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 2 * k + 3 if name == "dot" else k + 1  # dot: n weights, n inputs, a bias
    return len(params) - 1 - OPS[name].has_param  # forward(xp, *inputs, [param])


programs = st.tuples(
    st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from(STEPS), st.lists(st.integers(0, 99), min_size=7, max_size=7),
                       st.integers(0, 99)),
             min_size=1, max_size=10),
)


def number(x) -> float:
    return x.data if isinstance(x, Value) else x.detach().item()


def step(name: str, args: list, choice: int, lib: str):
    if name in DERIVED:
        return DERIVED[name](*args)
    op = OPS[name]
    moves = DOMAIN.get(name, ())
    args = [move(a, choice) if move is not None else a for a, move in zip(args, moves)] + args[len(moves):]
    param = None
    if op.has_param:
        options = PARAMS.get(name, [0.5])
        param = options[choice % len(options)]
        if name == "powc" and not param.is_integer():
            args[0] = positive(args[0])
        if name == "powc" and param < 0:
            assume(abs(number(args[0])) > 0.1)
    if name in KINKY:
        assume(abs(number(args[0])) > 1e-3)
    if name == "max":  # a kink where two different nodes tie (the same node twice is no kink)
        xs = sorted({id(a): number(a) for a in args}.values())
        assume(all(b - a > 1e-3 for a, b in zip(xs, xs[1:])))
    values = [number(a) for a in args] + ([param] if op.has_param else [])
    assume(op.valid is None or bool(op.valid(*values)))
    if lib == "value":
        try:
            return apply(op, *args, param=param)
        except OverflowError:  # e.g. 4.5 ** 8303: a result past float's range is refused, as it should be
            reject()
    extra = (param,) if op.has_param else ()
    # an op missing from TORCH_OPS (a new one) runs its own forward with xp = torch: its derivative
    # rule is still checked against torch's autograd
    if name in TORCH_OPS:
        return TORCH_OPS[name](*args, *extra)
    return op.forward(torch, *args, *extra)


def run(program, inputs, lib: str):
    """Evaluate the program; the output mixes in every node so all of them matter."""
    _, steps = program
    nodes = list(inputs)
    for name, picks, choice in steps:
        k = arity(name, choice % 3)
        out = step(name, [nodes[i % len(nodes)] for i in picks[:k]], choice, lib)
        assume(abs(number(out)) < 1e4)
        nodes.append(out)
    if lib == "value":
        return nodes[-1] * nodes[0] + value_sum(nodes)
    return nodes[-1] * nodes[0] + sum(nodes[1:], nodes[0])


def check_against_pytorch(program) -> None:
    xs, _ = program
    vs = [Value(x) for x in xs]
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = run(program, vs, "value")
    tout = run(program, ts, "torch")
    out.backward()
    tout.backward()
    assert math.isclose(out.data, tout.item(), rel_tol=1e-12, abs_tol=1e-12)
    for v, t in zip(vs, ts):
        expected = t.grad.item() if t.grad is not None else 0.0
        assert math.isclose(v.grad, expected, rel_tol=1e-9, abs_tol=1e-12), (v.grad, expected)


def check_against_central_differences(program) -> None:
    xs, _ = program
    # reject programs where a kink (relu, abs at 0) lies within reach of the finite differences
    for shift in (-1e-5, 1e-5):
        for k in range(len(xs)):
            moved = [Value(x + shift if i == k else x) for i, x in enumerate(xs)]
            run(program, moved, "value")
    f = lambda *v: run(program, v, "value")  # noqa: E731
    # reject programs so curved that central differences have not settled at eps = 1e-6 (their
    # error grows with the third derivative: sin of a large power): halving eps must agree
    coarse, fine = numeric_grads(f, xs, 1e-6), numeric_grads(f, xs, 5e-7)
    assume(all(abs(c - n) <= 1e-6 + 1e-5 * abs(n) for c, n in zip(coarse, fine)))
    assert gradcheck(f, xs, eps=1e-6, atol=1e-5, rtol=1e-4)


QUICK = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
THOROUGH = settings(QUICK, max_examples=1500)  # >= 1,000 even after hypothesis's own rejections


@QUICK
@given(programs)
def test_random_graphs_match_pytorch(program) -> None:
    check_against_pytorch(program)


@QUICK
@given(programs)
def test_random_graphs_match_central_differences(program) -> None:
    check_against_central_differences(program)


@pytest.mark.slow
@THOROUGH
@given(programs)
def test_many_random_graphs_match_pytorch(program) -> None:
    check_against_pytorch(program)


@pytest.mark.slow
@THOROUGH
@given(programs)
def test_many_random_graphs_match_central_differences(program) -> None:
    check_against_central_differences(program)


def test_every_builtin_op_is_drawn_with_its_arity() -> None:
    assert set(PRIMITIVES) == set(BUILTIN_OPS) - NOT_THE_DERIVATIVE and {"pow", "powc"} <= set(PRIMITIVES)
    for name in PRIMITIVES:
        k = arity(name, 1)
        inputs = [Value(0.7 + 0.1 * i) for i in range(k)]
        param = PARAMS.get(name, [0.5])[2 % len(PARAMS.get(name, [0.5]))] if OPS[name].has_param else None
        assert isinstance(apply(OPS[name], *inputs, param=param), Value), name
