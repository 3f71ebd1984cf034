"""define_op: a user's primitive, one row of ops.OPS, works wherever the built-in rules do."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite import MLP, Tape, Value, backward_steps, define_op, gradcheck, value_sum
from autograd_lite.ops import OPS


@pytest.fixture(autouse=True)
def _forget_user_ops() -> Iterator[None]:
    """Each test's ops leave ops.OPS as it was (other test files loop over its rows)."""
    before = dict(OPS)
    yield
    OPS.clear()
    OPS.update(before)


def softplus_op():  # log1p: log(1 + e^x) loses digits where e^x is small
    return define_op("softplus", lambda xp, x: xp.log1p(xp.exp(x)),
                     lambda xp, out, x: (1 / (1 + xp.exp(-x)),))


def hypot_op():  # two inputs: sqrt(x^2 + y^2), d/dx = x / out, d/dy = y / out
    return define_op("hypot", lambda xp, x, y: xp.sqrt(x * x + y * y),
                     lambda xp, out, x, y: (x / out, y / out), symbol="‖·‖",
                     local_text=("{0} / {out}", "{1} / {out}"))


@settings(max_examples=40, deadline=None)
@given(st.floats(-20, 20))
def test_softplus_matches_pytorch_float64(x: float) -> None:
    softplus = softplus_op()
    v = Value(x)
    y = softplus(v) * 3
    y.backward()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (torch.nn.functional.softplus(t) * 3).backward()
    assert y.data == pytest.approx((torch.nn.functional.softplus(t) * 3).item(), rel=1e-12, abs=1e-300)
    assert v.grad == pytest.approx(t.grad.item(), rel=1e-12, abs=1e-300)


def test_two_input_op_against_pytorch_and_central_differences() -> None:
    hypot = hypot_op()
    a, b = Value(3.0), Value(-4.0)
    out = hypot(a, b).tanh()
    out.backward()
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (3.0, -4.0))
    torch.tanh(torch.hypot(ta, tb)).backward()
    assert (a.grad, b.grad) == pytest.approx((ta.grad.item(), tb.grad.item()), rel=1e-12)
    assert gradcheck(lambda x, y: hypot(x, y) * x, [0.7, -1.1])


def test_numbers_are_accepted_and_the_op_reads_like_a_function() -> None:
    softplus = softplus_op()
    y = softplus(0.0)
    assert y.data == math.log(2) and y._op == "softplus" and y._rule is OPS["softplus"]
    assert softplus.__name__ == "softplus" and "define_op" in repr(softplus)
    with pytest.raises(TypeError, match=r"softplus\(\) takes 1 input, got 2"):
        softplus(1.0, 2.0)


def test_any_number_of_inputs() -> None:
    mean = define_op("mean_of", lambda xp, *xs: sum(xs) / len(xs),
                     lambda xp, out, *xs: tuple(xp.ones_like(x) / len(xs) for x in xs))
    xs = [Value(v) for v in (1.0, 2.0, 6.0)]
    m = mean(*xs)
    m.backward()
    assert m.data == 3.0 and [x.grad for x in xs] == [1 / 3] * 3
    step = next(backward_steps(mean(Value(1.0, label="a"), Value(2.0, label="b"))))
    assert step.ledger()[0].startswith("a.grad += ∂mean_of/∂a.data × node.grad")


def test_the_stepper_ledger_writes_the_default_formula_and_the_right_numbers() -> None:
    softplus = softplus_op()
    x = Value(0.5, label="x")
    y = softplus(x)
    y.label = "y"
    (step,) = list(backward_steps(y))
    slope = 1 / (1 + math.exp(-0.5))
    assert step.local == (slope,)
    want = f"x.grad += softplus′(x.data) × y.grad = {slope:.4f} × 1.0 = {slope:.4f}"
    assert step.ledger(digits=4) == [want]


def test_the_stepper_ledger_uses_a_given_formula() -> None:
    hypot = hypot_op()
    a, b = Value(3.0, label="a"), Value(4.0, label="b")
    y = hypot(a, b)
    y.label = "h"
    (step,) = list(backward_steps(y))
    assert step.ledger(digits=2)[0] == "a.grad += a.data / h.data × h.grad = 0.6 × 1.0 = 0.6"


def test_drawings_show_the_symbol_and_the_local_derivatives() -> None:
    pytest.importorskip("graphviz")
    from autograd_lite import draw_dot
    hypot = hypot_op()
    source = draw_dot(hypot(Value(3.0, label="a"), Value(4.0, label="b"))).source
    assert "‖·‖" in source and "∂ 0.6" in source and "∂ 0.8" in source


def test_the_tape_replays_a_user_op_like_eager_backward() -> None:
    softplus = softplus_op()
    model = MLP(2, [5, 1], seed=2)
    params = model.parameters()

    def loss(x, t):
        return softplus(-t * model(x)) + 1e-3 * value_sum([p * p for p in params])  # logistic loss

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 2)), np.where(rng.normal(size=16) > 0, 1.0, -1.0)
    model.zero_grad()
    total = value_sum([loss([Value(v) for v in row], t) for row, t in zip(X.tolist(), y.tolist())]) / len(X)
    total.backward()
    want = np.array([p.grad for p in params])
    model.zero_grad()
    got_loss = Tape.record(loss, (X, y), static=[1]).run((X, y))
    assert got_loss == pytest.approx(total.data, rel=1e-12)
    np.testing.assert_allclose([p.grad for p in params], want, rtol=1e-11, atol=1e-14)
    assert np.abs(want).max() > 1e-3


def test_domain_is_checked_with_the_ops_name_and_the_nodes_label() -> None:
    root = define_op("root", lambda xp, x: xp.sqrt(x), lambda xp, out, x: (0.5 / out,),
                     valid=lambda x: x >= 0, domain="root is only defined for x >= 0")
    with pytest.raises(ValueError, match=r"root\('z' \(= -2.0\)\): root is only defined for x >= 0"):
        root(Value(-2.0, label="z"))
    X = np.array([[4.0], [-1.0]])
    with pytest.raises(ValueError, match="root"):  # the tape checks every example's row
        Tape.record(lambda x: root(x[0]), X[:1]).forward(X)


def test_built_in_names_are_refused_and_own_names_can_be_redefined() -> None:
    with pytest.raises(ValueError, match="'tanh' is a built-in op"):
        define_op("tanh", lambda xp, x: x, lambda xp, out, x: (1.0,))
    first = define_op("twice", lambda xp, x: 2 * x, lambda xp, out, x: (2.0,))
    y = first(1.0)
    second = define_op("twice", lambda xp, x: x + x, lambda xp, out, x: (2.0,))  # a re-run cell
    assert OPS["twice"] is second.op and y._rule is first.op


def test_definition_errors_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="identifier"):
        define_op("my op", lambda xp, x: x, lambda xp, out, x: (1.0,))
    with pytest.raises(TypeError, match="forward takes 1 input and local_grads 2 inputs"):
        define_op("f", lambda xp, x: x, lambda xp, out, x, y: (1.0, 1.0))
    with pytest.raises(TypeError, match="needs xp first"):
        define_op("g", lambda xp: 1.0, lambda xp, out: ())
    with pytest.raises(TypeError, match="must be a function"):
        define_op("h", "x + 1", lambda xp, out, x: (1.0,))  # type: ignore[arg-type]


def test_a_missing_xp_function_names_what_the_eager_xp_has() -> None:
    erf = define_op("erf_", lambda xp, x: xp.erf(x),
                    lambda xp, out, x: (2 / math.sqrt(math.pi) * xp.exp(-x * x),))
    with pytest.raises(AttributeError, match=r"xp.erf: the eager engine's xp \(ops.scalar_math\) has no"):
        erf(Value(0.5))


def test_local_grads_must_give_one_derivative_per_input() -> None:
    bare = define_op("bare", lambda xp, x: 2 * x, lambda xp, out, x: 2.0)  # no tuple
    with pytest.raises(TypeError, match=r"define_op\('bare'\): local_grads returned float 2.0 for 1 input"):
        bare(Value(1.0)).backward()
    short = define_op("short", lambda xp, x, y: x * y, lambda xp, out, x, y: (y,))  # was y.grad = 0, silently
    with pytest.raises(TypeError, match=r"local_grads returned 1 values for 2 inputs"):
        short(Value(2.0), Value(3.0)).backward()
    listed = define_op("listed", lambda xp, x: 2 * x, lambda xp, out, x: [2.0])  # a list is fine
    x = Value(1.0)
    listed(x).backward()
    assert x.grad == 2.0
