"""Code written in micrograd's lecture runs on autograd_lite's Value: the constructor, closure ops,
`_backward` called by hand, attributes set on nodes, micrograd's `_op` names and nn arguments."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd_lite import (
    MLP,
    Layer,
    Neuron,
    Tape,
    TapeError,
    Value,
    backpropagate,
    detect_anomaly,
    gradcheck,
    no_grad,
)
from autograd_lite.engine import local_grads, topological_order
from autograd_lite.gradcheck import numeric_grads

# --- ops written as in the lecture: a node from the constructor, a closure for its derivative ---

def sig(self: Value) -> Value:  # sigmoid, as a learner writes it in the lecture
    s = 1 / (1 + math.exp(-self.data))
    out = Value(s, (self,), "sig")

    def _backward() -> None:
        self.grad += out.data * (1 - out.data) * out.grad  # reads out.data when it runs, as micrograd
    out._backward = _backward
    return out


def times(self: Value, other: Value) -> Value:  # micrograd's __mul__, children as a tuple
    out = Value(self.data * other.data, (self, other), "*")

    def _backward() -> None:
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad
    out._backward = _backward
    return out


def test_constructor_records_children_and_op() -> None:
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = Value(5.0, (a, b), "+", label="c")
    assert c._prev == (a, b) and c._op == "+" and c.label == "c" and c._rule is None
    assert Value(1.0, (), "", "x").label == "x"  # micrograd's positional label
    leaf = Value(5.0, (a,))
    assert leaf._prev == (a,) and leaf.label == ""  # no longer a tuple stored as the label


@pytest.mark.parametrize("second, message", [
    ("a", r"_children.*label='a'"), (3, r"_children"), ((Value(1.0), 2.0), r"child 1 is float 2.0"),
    ({"a": 1}, r"_children")])
def test_constructor_refuses_what_is_not_a_collection_of_values(second, message) -> None:
    with pytest.raises(TypeError, match=message):
        Value(5.0, second)


def test_children_given_as_a_set_are_sorted_by_label_then_value() -> None:
    a, b, c = Value(2.0, label="b"), Value(1.0, label="a"), Value(-1.0, label="a")
    assert Value(0.0, {a, b, c}, "f")._prev == (c, b, a)
    x, y = Value(3.0), Value(-3.0)
    for _ in range(5):  # micrograd's set((self, other)) shape; the order does not follow addresses
        assert Value(0.0, set((x, y)), "+")._prev == (y, x)


def test_closure_op_gradient_matches_central_differences() -> None:
    def f(x: Value, w: Value) -> Value:
        return sig(times(x, w) + 0.5).tanh() * x  # closure nodes inside and between built-in ops

    assert gradcheck(f, [0.7, -1.3])
    x, w = Value(0.7), Value(-1.3)
    f(x, w).backward()
    want = numeric_grads(f, [0.7, -1.3])
    assert [x.grad, w.grad] == pytest.approx(want, rel=1e-7)


@settings(max_examples=50, deadline=None)
@given(st.floats(-6, 6), st.floats(-3, 3))
def test_a_closure_sigmoid_gives_the_built_in_sigmoids_gradients(x: float, w: float) -> None:
    # Past |x*w| ~ 10 the two sigmoid formulas' 1 - s differ by more than rounding: s(1 - s) loses
    # about eps / (1 - s) of its relative precision (7e-9 at x*w = 17), so keep the product below 10.
    assume(abs(x * w) <= 10)
    ours = [Value(x), Value(w)]
    (sig(ours[0] * ours[1]) * ours[0]).backward()
    built_in = [Value(x), Value(w)]
    ((built_in[0] * built_in[1]).sigmoid() * built_in[0]).backward()
    # (1 - s where s is near 1 loses digits differently in the two formulas of sigmoid)
    assert [v.grad for v in ours] == pytest.approx([v.grad for v in built_in], rel=1e-9, abs=1e-15)


def test_backpropagate_runs_the_users_backward_and_yields_none_for_it() -> None:
    x = Value(0.3, label="x")
    s = sig(x)
    y = s * 2
    steps = dict(backpropagate(y))
    assert steps[s] is None and steps[y] == (2.0, s.data) and steps[x] == ()
    assert x.grad == pytest.approx(2 * s.data * (1 - s.data), rel=1e-15)


def test_detect_anomaly_names_a_closure_that_makes_a_nan() -> None:
    x = Value(2.0, label="x")
    out = Value(math.log(x.data), (x,), "mylog")
    out._backward = lambda: setattr(x, "grad", x.grad + math.nan)
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"the _backward of <mylog node.*'x'"):
        (out * 2).backward()


def test_detect_anomaly_names_a_closure_whose_forward_makes_a_nan() -> None:
    x = Value(-1.0, label="x")
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"closure node 'mysqrt' computed from 'x"):
        Value(math.nan, (x,), "mysqrt")  # e.g. the user's own math on x.data; was silent
    assert math.isnan(Value(math.nan, (x,), "mysqrt").data)  # outside detect_anomaly: nan propagates


def lecture_neuron() -> dict[str, Value]:
    """The neuron of micrograd's lecture, o = tanh(x1*w1 + x2*w2 + b), with its names."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    return dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, x1w1x2w2=x1w1x2w2, n=n, o=o)


def test_calling_backward_by_hand_in_the_lectures_order_gives_backwards_grads() -> None:
    v = lecture_neuron()
    v["o"].grad = 1.0
    for name in ["o", "n", "b", "x1w1x2w2", "x2w2", "x1w1"]:  # the lecture's cells, in order
        v[name]._backward()
    for name in ["x1", "x2", "w1", "w2"]:  # leaves: nothing to pass on
        v[name]._backward()
    want = lecture_neuron()
    want["o"].backward()
    assert {k: n.grad for k, n in v.items()} == {k: n.grad for k, n in want.items()}  # exactly
    assert v["w1"].grad == pytest.approx(1.0, abs=1e-6) and v["x1"].grad == pytest.approx(-1.5, abs=1e-6)


def test_the_lectures_topological_loop_of_backward_calls_equals_backward() -> None:
    def graph() -> tuple[Value, list[Value]]:
        a, b = Value(-4.0), Value(2.0)
        c = a + b
        d = a * b + b**3
        e = sig(c - d) + (d * 0.01).tanh() + (a + 2).relu()
        return e, [a, b, c, d, e]

    e, nodes = graph()
    e.grad = 1.0
    for node in reversed(topological_order(e)):
        node._backward()
    e2, nodes2 = graph()
    e2.backward()
    assert [n.grad for n in nodes] == [n.grad for n in nodes2]


def test_backward_of_a_built_in_node_applies_its_rule_once() -> None:
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    c.grad = 2.0
    c._backward()
    c._backward()  # as micrograd: each call adds again
    assert (a.grad, b.grad) == (-12.0, 8.0)
    Value(1.0)._backward()  # a leaf's does nothing
    assert Value(1.0, (a,), "f")._backward() is None  # nor does an unassigned closure's


def test_assigning_backward_on_a_built_in_node_replaces_its_rule() -> None:
    a = Value(2.0)
    c = a * 3
    c._backward = lambda: setattr(a, "grad", a.grad + 100 * c.grad)  # e.g. a straight-through trick
    assert c._rule is None and c._op == "*" and vars(c)["_backward"] is c._backward
    c.backward()
    assert a.grad == 100.0
    with pytest.raises(TypeError, match="function"):
        c._backward = 3  # type: ignore[assignment]


def test_a_built_in_nodes_backward_can_be_wrapped() -> None:
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    seen = []
    rule_step = c._backward

    def traced() -> None:  # e.g. printing each step, then doing what the node did
        seen.append(c.grad)
        rule_step()
    c._backward = traced
    (c * 2).backward()  # was a RecursionError: rule_step called the wrapper again
    assert seen == [2.0] and (a.grad, b.grad) == (-6.0, 4.0) and c._rule is None


def test_a_closure_node_is_refused_by_the_tape() -> None:
    w = Value(0.5, label="w")
    with pytest.raises(TapeError, match="define_op"):
        Tape.record(lambda x: sig(x[0] * w), np.array([[0.1], [0.2]]))


def test_a_closure_node_made_under_no_grad_is_a_leaf() -> None:
    a = Value(1.0)
    with no_grad():
        out = sig(a)
    assert out._prev == () and out._op == "sig"


# --- user attributes ----------------------------------------------------------------------------

def test_attributes_can_be_set_on_any_value() -> None:
    p = Value(0.5, label="p")
    p.m, p.v = 0.0, 0.0  # an optimizer's moments, as micrograd code keeps them
    p.m = 0.9 * p.m + 0.1 * 2.0
    n = p * 2
    n._vis_color = "red"
    assert (p.m, n._vis_color) == (0.2, "red")
    assert vars(p) == {"m": 0.2, "v": 0.0}
    assert not vars(Value(1.0))  # nothing stored until an attribute is set


def test_a_graph_is_still_freed_without_the_collector_when_attributes_are_set() -> None:
    import gc
    import weakref
    gc.disable()
    try:
        x = Value(1.5)
        y = (x * 2).tanh()
        y._vis_color = "red"
        y.backward()
        ref = weakref.ref(y)
        del y
        assert ref() is None
    finally:
        gc.enable()


# --- no stale derivatives -----------------------------------------------------------------------

def test_backward_reads_the_data_a_leaf_has_now() -> None:
    a = Value(3.0)
    b = a * a
    a.data = 10.0  # micrograd's closures read a.data when backward runs
    b.backward()
    assert a.grad == 20.0
    x = Value(0.5)
    y = x.exp() * x.log()
    x.data = 2.0
    y.backward()  # d/dx e^x ln x with the node values it holds: out of exp is still e^0.5
    assert x.grad == pytest.approx(math.exp(0.5) * math.log(0.5) + math.exp(0.5) / 2.0, rel=1e-15)


def test_backward_reads_the_data_an_interior_node_has_now() -> None:
    x = Value(0.3)
    t = x.tanh()
    t.data = 0.5  # tanh's rule is 1 - out^2, with out read now
    assert local_grads(t) == (0.75,) == t._local
    t.backward()
    assert x.grad == 0.75


def test_the_same_graph_after_a_parameter_update_gives_the_new_gradient() -> None:
    w = Value(1.0)
    loss = (w * w - 2.0) ** 2
    for _ in range(3):  # reuse the graph: update w.data, recompute forward by hand, backward
        w.grad = 0.0
        for node in topological_order(loss):  # the forward pass again, from the rules
            if node._rule is not None:
                args = [p.data for p in node._prev] + ([node._param] if node._rule.has_param else [])
                node.data = node._rule.forward(math, *args)
        loss.backward()
        assert w.grad == pytest.approx(4 * w.data * (w.data**2 - 2), rel=1e-15)
        w.data -= 0.05 * w.grad


# --- micrograd's names -------------------------------------------------------------------------

def test_op_names_are_micrographs() -> None:
    x, y = Value(2.0), Value(3.0)
    assert [(x + y)._op, (x * y)._op, x.tanh()._op, x.relu()._op, x.exp()._op] == ["+", "*", "tanh", "ReLU",
                                                                                     "exp"]
    assert [(x**2)._op, (x**-1)._op, (x**0.5)._op, (x**y)._op, Value(1.0)._op] == ["**2", "**-1", "**0.5",
                                                                                  "**", ""]


def test_drawings_keep_writing_powers_readably() -> None:
    pytest.importorskip("graphviz")
    from autograd_lite import draw_dot
    source = draw_dot(Value(3.0, label="x") ** 2).source
    assert "** 2" in source and "**2 2" not in source


def test_abs_is_a_method_too() -> None:
    x = Value(-2.0)
    y = x.abs()
    y.backward()
    assert (y.data, x.grad, abs(Value(3.0)).data) == (2.0, -1.0, 3.0)


def test_nn_takes_micrographs_positional_and_keyword_arguments() -> None:
    assert Neuron(3, False).activation == "linear" and Neuron(3, True).activation == "relu"
    assert Neuron(3, nonlin=False).activation == "linear" and Neuron(3).activation == "relu"
    assert Layer(2, 3, nonlin=False).activation == "linear" and Layer(2, 3, False).activation == "linear"
    assert Layer(2, 3, "tanh").activation == "tanh"
    assert MLP(2, [4, 4, 1]).activations == ["relu", "relu", "linear"]
    with pytest.raises(ValueError, match="not both"):
        Neuron(3, "tanh", nonlin=True)
    with pytest.raises(ValueError, match="unknown activation 1"):
        Neuron(3, 1)  # type: ignore[arg-type]


def test_micrograds_mlp_with_its_seed_and_arguments_gives_its_numbers() -> None:
    micrograd_nn = pytest.importorskip("micrograd.nn")
    random.seed(1337)
    theirs = micrograd_nn.MLP(2, [4, 1])
    random.seed(1337)
    ours = MLP(2, [4, 1])
    x = [0.5, -1.5]
    assert ours(x).data == theirs(x).data
