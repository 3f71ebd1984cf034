"""pickle and copy.deepcopy of Values, graphs and models: rules by name, no recursion, sharing kept."""

from __future__ import annotations

import copy
import math
import pickle

import pytest

from autograd_lite import MLP, Value, value_sum
from autograd_lite.engine import Constant, topological_order, value_dot

COPIES = {"pickle": lambda x: pickle.loads(pickle.dumps(x)), "deepcopy": copy.deepcopy}


def every_op(a: Value, b: Value) -> Value:
    """A graph with each op and shared subexpressions (c is used four times, a and b everywhere)."""
    c = a * b + a / b
    d = (c ** 2 + c ** b.sigmoid()).log() + c.exp().tanh() + c.relu() + (-c).leaky_relu(0.2)
    e = abs(c).sin() * c.cos() + value_sum([a, b, c]) + value_dot([a, b], [c, d], 0.5) + 2 ** a
    return d * e + (a - b) ** -1


@pytest.mark.parametrize("how", sorted(COPIES))
def test_a_value_made_by_an_op_copies(how: str) -> None:
    y = COPIES[how](Value(1.0) * 2)  # was PicklingError: the rules are lambdas
    y.backward()
    assert y.data == 2.0 and y._op == "*" and [p.data for p in y._prev] == [1.0, 2.0]
    assert y._prev[0].grad == 2.0 and isinstance(y._prev[1], Constant)


@pytest.mark.parametrize("how", sorted(COPIES))
def test_a_copied_graph_gives_the_same_gradients_and_keeps_its_sharing(how: str) -> None:
    a, b = Value(0.7, label="a"), Value(1.3, label="b")
    out = every_op(a, b)
    out.label = "out"
    twin = COPIES[how](out)
    out.backward()
    twin.backward()
    order, twin_order = topological_order(out), topological_order(twin)
    assert len(twin_order) == len(order)  # shared nodes are still shared: none was duplicated
    assert [n.label for n in twin_order] == [n.label for n in order]
    assert [n._op for n in twin_order] == [n._op for n in order]
    assert [n.data for n in twin_order] == [n.data for n in order]
    assert [n.grad for n in twin_order] == [n.grad for n in order]  # the same floats, bit for bit
    assert not set(map(id, twin_order)) & set(map(id, order))  # and all of them new objects
    c = Value(2.0)
    d = COPIES[how](c * c)
    assert d._prev[0] is d._prev[1]  # x * x: one parent, twice


@pytest.mark.parametrize("how", sorted(COPIES))
def test_a_100000_node_chain_copies_without_recursion(how: str) -> None:
    x = Value(0.1, label="x")
    node = x
    for _ in range(100_000):
        node = node.tanh()
    twin = COPIES[how](node)  # was RecursionError past ~5,000 nodes
    assert twin.data == node.data
    twin.backward()
    node.backward()
    leaf = topological_order(twin)[0]
    assert leaf.label == "x" and leaf is not x and leaf.grad == x.grad and math.isfinite(x.grad)


@pytest.mark.parametrize("how", sorted(COPIES))
def test_leaves_stay_one_object_across_what_is_copied_together(how: str) -> None:
    model = MLP(2, [3, 1], seed=0)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    model_twin, loss_twin = COPIES[how]((model, loss))
    loss_twin.backward()
    assert all(p.grad == 0.0 for p in model.parameters())  # the original is untouched
    loss.backward()
    assert [p.grad for p in model_twin.parameters()] == [p.grad for p in model.parameters()]  # the twin's
    leaves = {id(n) for n in topological_order(loss_twin) if not n._prev}
    assert {id(p) for p in model_twin.parameters()} <= leaves


def test_what_a_node_carries_is_kept() -> None:
    p = Value(0.25, label="w")
    p.m = 0.5  # optimizer state micrograd code keeps on a parameter
    p.grad = -3.0
    leaf = Value(4.0, (), "input", label="x")  # micrograd's constructor: a leaf with its own _op
    y = pickle.loads(pickle.dumps(p ** 3 * leaf))
    cube, x = y._prev
    assert cube._op == "**3" and cube._param == 3.0 and x._op == "input" and x.label == "x"
    w = cube._prev[0]
    assert (w.label, w.grad, w.m, w.data) == ("w", -3.0, 0.5, 0.25)


def test_a_model_pickles_and_computes_the_same() -> None:
    model = MLP(3, [4, 2], activation="tanh", seed=1)
    twin = pickle.loads(pickle.dumps(model))
    x = [0.1, -0.2, 0.3]
    assert [v.data for v in twin(x)] == [v.data for v in model(x)]
    assert repr(twin) == repr(model)


def test_a_closure_node_is_refused_with_a_reason() -> None:
    a = Value(2.0)
    out = Value(a.data * 3, (a,), "triple")

    def _backward() -> None:
        a.grad += 3 * out.grad
    out._backward = _backward
    with pytest.raises(TypeError, match="closure node .* _op='triple'.*define_op"):
        pickle.dumps(out + 1)
