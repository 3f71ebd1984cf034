"""Every op, forward and gradient, against PyTorch in float64."""

from __future__ import annotations

import math
import random
import warnings

import pytest

from autograd_lite import Value, value_sum
from autograd_lite.engine import apply
from autograd_lite.ops import BUILTIN_OPS, OPS
from torch_reference import TORCH_OPS, torch


def close(ours: float, theirs: float, rel: float = 1e-13) -> bool:
    return math.isclose(ours, theirs, rel_tol=rel, abs_tol=1e-15)


def check(f, inputs: list[float], g=None) -> None:
    """Run f on Values and on float64 tensors (g, if torch needs other code); compare output and grads."""
    g = g or f
    vs = [Value(x, label=f"x{i}") for i, x in enumerate(inputs)]
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    out, tout = f(*vs), g(*ts)
    out.backward()
    tout.backward()
    assert close(out.data, tout.item()), (out.data, tout.item())
    for v, t in zip(vs, ts):
        expected = 0.0 if t.grad is None else t.grad.item()
        assert close(v.grad, expected), (v.label, v.grad, expected)


UNARY = {
    "exp": (lambda x: x.exp(), [-3.0, -0.5, 0.0, 0.7, 5.0]),
    "log": (lambda x: x.log(), [1e-3, 0.5, 1.0, 7.25]),
    "tanh": (lambda x: x.tanh(), [-4.0, -0.3, 0.0, 0.9, 3.0]),
    "sigmoid": (lambda x: x.sigmoid(), [-30.0, -2.0, 0.0, 1.5, 30.0]),
    "relu": (lambda x: x.relu(), [-2.0, -1e-9, 0.0, 1e-9, 3.0]),
    "abs": (lambda x: abs(x), [-2.5, 0.0, 4.0]),
    "sin": (lambda x: x.sin(), [-2.0, 0.0, 1.3]),
    "cos": (lambda x: x.cos(), [-2.0, 0.0, 1.3]),
    "sqrt": (lambda x: x.sqrt(), [1e-4, 0.25, 9.0]),
    "neg": (lambda x: -x, [-1.5, 2.0]),
}
TORCH_UNARY = {"leaky_relu": lambda x: torch.nn.functional.leaky_relu(x, 0.1),
               "sigmoid": torch.sigmoid, "abs": torch.abs}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops(name: str) -> None:
    f, points = UNARY[name]
    for x in points:
        check(f, [x], TORCH_UNARY.get(name))


def test_leaky_relu() -> None:
    for x in (-3.0, -0.1, 0.0, 0.2, 4.0):
        check(lambda v: v.leaky_relu(0.1), [x], TORCH_UNARY["leaky_relu"])


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("a, b", [(1.5, -0.75), (0.3, 2.0), (4.0, 0.5), (2.0, 3.0)])
def test_binary_ops(name: str, a: float, b: float) -> None:
    check(BINARY[name], [a, b])


@pytest.mark.parametrize("c", [2, 3, -1, -2, 0.5, 1.5, 0])
def test_pow_by_number(c: float) -> None:
    for x in (0.5, 1.7, 3.0):
        check(lambda v: v**c, [x])
    if float(c).is_integer():  # a negative base is fine with a whole-number exponent
        check(lambda v: v**c, [-1.3])


def test_pow_with_value_exponent_flows_into_both() -> None:
    check(lambda a, b: a**b, [2.5, 1.3])
    check(lambda a, b: a**b, [0.4, -2.0])


def test_number_to_the_power_of_a_value() -> None:
    check(lambda v: 2**v, [1.7], lambda t: 2.0**t)
    check(lambda v: 0.5**v, [-0.3], lambda t: 0.5**t)


def test_pow_exponent_gradient_at_zero_base_is_zero_like_torch() -> None:
    check(lambda a, b: a**b, [0.0, 2.0])


def test_constants_on_either_side() -> None:
    check(lambda a: 3 + a, [2.0], lambda t: 3 + t)
    check(lambda a: 3 - a, [2.0], lambda t: 3 - t)
    check(lambda a: 3 * a, [2.0], lambda t: 3 * t)
    check(lambda a: 3 / a, [2.0], lambda t: 3 / t)
    check(lambda a: a - 3, [2.0], lambda t: t - 3)
    check(lambda a: a / 4, [2.0], lambda t: t / 4)


def test_reused_nodes() -> None:
    check(lambda a: a * a, [-1.7])
    check(lambda a: a + a, [0.3])
    check(lambda a: a * a * a - a, [1.1])
    check(lambda a: a / a, [2.5])


def test_diamond() -> None:
    def f(a, b):
        c = a * b
        d = c.tanh() if isinstance(c, Value) else torch.tanh(c)
        e = c + a
        return d * e + c
    check(f, [0.6, -1.4])


def test_value_sum_is_one_node_with_the_gradient_of_chained_adds() -> None:
    xs = [0.1, -2.0, 3.5, 0.25]
    check(lambda *v: value_sum(v) * v[0], xs, lambda *t: sum(t[1:], t[0]) * t[0])
    assert value_sum([Value(1.0), 2.0])._op == "sum"


def test_at_least_is_a_clamp_whose_shift_is_a_constant() -> None:
    # torch's spelling of the same thing: lo where x < lo, plus x - x.detach() (0, with slope 1)
    from autograd_lite.engine import apply
    from autograd_lite.ops import AT_LEAST
    for x in (-2.0, 0.0, 1e-13, 0.5):
        check(lambda v: apply(AT_LEAST, v, param=1e-12).log() * v, [x],
              lambda t: torch.where(t < 1e-12, t - t.detach() + 1e-12, t).log() * t)


def test_every_op_in_the_table_is_tested() -> None:
    tested = {"add", "mul", "sum", "powc", "pow", "leaky_relu", "at_least", "dot"} | set(UNARY) | set(BINARY)
    assert set(OPS) <= tested, set(OPS) - tested


# --- nan and inf: every op, values and gradients, as PyTorch float64 -----------------------

ARITY = {"sum": 3, "dot": 3}
PARAMS = {"powc": [0.0, 1.0, 2.0, 3.0, -1.0, -2.0, 0.5, -0.5], "leaky_relu": [0.1], "at_least": [1e-12]}
SPECIAL = [math.nan, math.inf, -math.inf]


def same(ours: float, theirs: float) -> bool:
    return (math.isnan(ours) and math.isnan(theirs)) or ours == theirs or close(ours, theirs)


def nonfinite_cases():
    for name in sorted(BUILTIN_OPS - {"at_least"}):  # its slope is 1 by design: tested on its own above
        n = ARITY.get(name, OPS[name].forward.__code__.co_argcount - 1 - OPS[name].has_param)
        for param in PARAMS.get(name, [None]):
            for slot in range(n):
                for special in SPECIAL:
                    inputs = [special if i == slot else (1.5, 0.7, 0.3)[i] for i in range(n)]
                    label = f"{name}{inputs}" + ("" if param is None else f"-{param}")
                    yield pytest.param(name, inputs, param, id=label)


@pytest.mark.parametrize(("name", "inputs", "param"), list(nonfinite_cases()))
def test_nan_and_inf_propagate_like_pytorch(name: str, inputs: list[float], param) -> None:
    op = OPS[name]
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    tout = TORCH_OPS[name](*ts, *([param] if op.has_param else []))
    vs = [Value(x) for x in inputs]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the engine prints no NumPy warning on the way
        try:
            out = apply(op, *vs, param=param)
        except op.error:  # only a real domain error: log(-inf), (-inf) ** 0.5 (torch: nan)
            assert not any(math.isnan(x) for x in inputs), "nan must propagate, never raise"
            # -inf is refused where a huge negative number is: (-inf) ** 0.7 as (-1e300) ** 0.7
            # (torch says inf for a tensor exponent 0.7, but nan for 0.5, its sqrt)
            stand_in = [math.copysign(1e300, x) if math.isinf(x) else x for x in inputs]
            assert math.isnan(tout.item()) or not op.valid(*stand_in, *([param] if op.has_param else []))
            return
        assert same(out.data, tout.item()), (out.data, tout.item())
        out.backward()
    tout.backward()
    for v, t in zip(vs, ts):
        assert same(v.grad, t.grad.item()), (v.grad, t.grad.item())


def test_the_reported_cases() -> None:
    assert math.isnan(Value(math.nan).exp().data)  # was OverflowError "inputs above ~709.78"
    assert math.isnan(Value(math.nan).relu().data)  # was 0.0
    assert math.isnan(Value(math.inf).sin().data)  # was a bare "math domain error"
    x = Value(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x**0).backward()
    assert x.grad == 0.0  # was nan, with a NumPy RuntimeWarning
    assert (Value(0.3) / Value(0.1)).data == 0.3 / 0.1 == 2.9999999999999996  # was 3.0


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_division_by_zero_keeps_its_message(zero: float) -> None:
    with pytest.raises(ZeroDivisionError, match=r"division by zero: 'a' \(= 1.5\) / -?0.0; the divisor must"):
        Value(1.5, label="a") / Value(zero)


def test_division_is_one_correctly_rounded_node() -> None:
    rng = random.Random(13)
    for _ in range(5000):
        a = rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30)
        b = rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30)
        assert (Value(a) / Value(b)).data == a / b  # bit for bit, as Python and torch
        assert (a / Value(b)).data == a / b and (Value(a) / b).data == a / b
    q = Value(1.0, label="x") / Value(4.0, label="y")
    assert q._op == "/" and [p.label for p in q._prev] == ["x", "y"]  # one node, drawn as /
    assert OPS["div"].local_text == ("1 / {1}", "-{0} / {1}²")  # what the ledger writes


def test_division_grads_bit_for_bit_as_torch() -> None:
    rng = random.Random(5)
    pairs = [(1e-300, 1e-200), (1e200, 1e-100), (-3e-170, 7e-160)]  # y * y under- or overflows
    for x, y in pairs + [(rng.uniform(-10, 10), rng.uniform(-10, 10)) for _ in range(2000)]:
        a, b = Value(x), Value(y)
        (a / b).backward()
        ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, y))
        (ta / tb).backward()
        assert (a.grad, b.grad) == (ta.grad.item(), tb.grad.item()), (x, y)  # was -inf, or an ulp off
