"""The walk (backprop.py): topological order and the chain rule, on any node that has a rule."""

from __future__ import annotations

from collections import deque

import pytest

from autograd_lite import ops
from autograd_lite.backprop import backpropagate, describe, local_grads, topological_order
from autograd_lite.engine import Value


class Plain:
    """Not a Value: just what the walk reads (data, grad, parents, rule)."""

    def __init__(self, data: float, prev: tuple = (), rule: ops.Op | None = None) -> None:
        self.data, self.grad, self._prev, self._rule, self._param = data, 0.0, prev, rule, None
        self.label = ""


def test_the_walk_needs_only_data_grad_parents_and_a_rule() -> None:
    x, y = Plain(3.0), Plain(-2.0)
    xy = Plain(-6.0, (x, y), ops.MUL)
    out = Plain(-3.0, (xy, x), ops.ADD)  # x*y + x: d/dx = y + 1 = -1, d/dy = x = 3
    assert topological_order(out) == [x, y, xy, out]  # parents first, the first input first
    steps = list(backpropagate(out))
    assert (x.grad, y.grad) == (-1.0, 3.0)
    assert [node for node, _ in steps][0] is out and local_grads(xy) == (-2.0, 3.0)


def test_the_walk_gives_values_the_same_gradients() -> None:
    x, y = Value(3.0), Value(-2.0)
    out = x * y + x
    deque(backpropagate(out), maxlen=0)
    assert (x.grad, y.grad) == (-1.0, 3.0)


@pytest.mark.parametrize(("thing", "text"), [(2.5, "2.5"), (Value(1.5, label="w"), "'w' (= 1.5)"),
                                               (Value(2.0) * 3, "<mul node = 6.0>"), ("s", "'s'")])
def test_describe_names_nodes_by_label_and_value(thing, text) -> None:
    assert describe(thing) == text
