"""value_dot: a neuron's weighted sum as one node -- the same numbers as its products and a sum."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_lite.engine import Constant, Value, no_grad, value_dot, value_sum
from autograd_lite.gradcheck import gradcheck
from autograd_lite.tape import Tape

RNG = np.random.default_rng(11)


def test_value_and_gradients_are_bitwise_those_of_products_and_a_sum() -> None:
    w, x, b = RNG.normal(size=7), RNG.normal(size=7), 0.3
    fused = [Value(v) for v in w], [Value(v) for v in x], Value(b)
    plain = [Value(v) for v in w], [Value(v) for v in x], Value(b)
    out = value_dot(*fused).tanh()
    want = value_sum([wi * xi for wi, xi in zip(plain[0], plain[1])] + [plain[2]]).tanh()
    out.backward()
    want.backward()
    assert out.data == want.data
    for a, c in zip([*fused[0], *fused[1], fused[2]], [*plain[0], *plain[1], plain[2]]):
        assert a.grad == c.grad
    assert out._prev[0]._op == "w·x+b" and len(out._prev[0]._prev) == 15


def test_gradients_match_pytorch_and_central_differences() -> None:
    torch = pytest.importorskip("torch")
    w, x = RNG.normal(size=4), RNG.normal(size=4)
    ws, xs, b = [Value(v) for v in w], [Value(v) for v in x], Value(-0.7)
    value_dot(ws, xs, b).backward()
    tw, tx = torch.tensor(w, requires_grad=True), torch.tensor(x, requires_grad=True)
    tb = torch.tensor(-0.7, dtype=torch.float64, requires_grad=True)
    (tw @ tx + tb).backward()
    np.testing.assert_allclose([v.grad for v in ws], tw.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose([v.grad for v in xs], tx.grad.numpy(), rtol=1e-15)
    assert b.grad == 1.0
    assert gradcheck(lambda *v: value_dot(v[:3], v[3:6], v[6]) ** 2, list(RNG.normal(size=7)))


def test_numbers_become_constants_and_no_grad_makes_a_leaf() -> None:
    w = Value(2.0)
    out = value_dot([w, 3.0], [4.0, Value(5.0)], 1.0)
    assert out.data == 2 * 4 + 3 * 5 + 1
    assert sum(isinstance(p, Constant) for p in out._prev) == 3
    out.backward()
    assert w.grad == 4.0
    with no_grad():
        assert value_dot([w], [w], w)._prev == ()


@pytest.mark.parametrize("ws, xs", [([], []), ([1.0, 2.0], [1.0])])
def test_mismatched_or_empty_lists_are_explained(ws, xs) -> None:
    with pytest.raises(ValueError, match="as many weights as inputs"):
        value_dot(ws, xs, 0.0)


def test_the_tape_replays_dot_nodes_like_eager() -> None:
    W, c = RNG.normal(size=(3, 5)), [Value(v) for v in RNG.normal(size=3)]
    weights = [[Value(v) for v in row] for row in W]
    params = [p for row in weights for p in row] + c
    fn = lambda x: value_sum([value_dot(row, x, b).relu() for row, b in zip(weights, c)])  # noqa: E731
    X = RNG.normal(size=(9, 5))
    for p in params:
        p.grad = 0.0
    (value_sum([fn([Value(v) for v in row]) for row in X]) / len(X)).backward()
    want = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    Tape.record(fn, X).run(X)
    np.testing.assert_allclose([p.grad for p in params], want, rtol=1e-12, atol=1e-15)
