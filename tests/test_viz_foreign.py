"""Drawing, stepping and explaining Values that are not ours: the lecture's class, micrograd's own."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite.stepper import Stepper, backward_steps, explain
from autograd_lite.viz import draw_dot
from autograd_lite.viz_nodes import order_of


class LectureValue:
    """The Value of micrograd's lecture, as a learner types it (children kept as a set)."""

    def __init__(self, data, _children=(), _op="", label=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op
        self.label = label

    def __add__(self, other):
        other = other if isinstance(other, LectureValue) else LectureValue(other)
        out = LectureValue(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += 1.0 * out.grad
            other.grad += 1.0 * out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, LectureValue) else LectureValue(other)
        out = LectureValue(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = (math.exp(2 * self.data) - 1) / (math.exp(2 * self.data) + 1)
        out = LectureValue(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo, visited = [], set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()


def lecture_neuron():
    """The lecture's neuron: o = tanh(x1*w1 + x2*w2 + b), with its numbers."""
    V = LectureValue
    x1, x2 = V(2.0, label="x1"), V(0.0, label="x2")
    w1, w2 = V(-3.0, label="w1"), V(1.0, label="w2")
    b = V(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    n = x1w1 + x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, n=n)


def test_a_lecture_value_is_drawn_with_its_labels_data_grad_and_ops() -> None:
    o, v = lecture_neuron()
    o.backward()
    source = draw_dot(o).source
    for label in ("x1", "w1", "x1*w1", "n", "o"):
        assert f"<B>{label}</B>" in source
    assert "data 0.7071" in source and "grad -1.5" in source  # o and x1.grad, as in the lecture
    assert "label=<tanh>" in source and "label=<*>" in source and "label=<+>" in source
    assert "∂ " not in source.split("key:")[0]  # no rule, so no local derivative on the edges


def test_stepping_a_lecture_value_runs_its_closures_and_records_the_grads() -> None:
    o, v = lecture_neuron()
    stepper = Stepper(o)
    # the lecture's hand-worked numbers: do/dn = 1 - o^2 = 0.5, x1.grad = w1 * 0.5, w1.grad = x1 * 0.5
    assert v["n"].grad == pytest.approx(0.5) and v["x1"].grad == pytest.approx(-1.5)
    assert v["w1"].grad == pytest.approx(1.0) and v["x2"].grad == pytest.approx(0.5) and v["w2"].grad == 0
    assert [stepper.names[s.node] for s in stepper] == ["o", "n", n_sum(stepper), "x2*w2", "x1*w1"]
    ledger = stepper.ledger()
    assert ledger[0] == "n.grad += 0.5   (added by o._backward(), o.grad = 1.0)"
    assert "x1.grad += -1.5   (added by x1*w1._backward(), x1*w1.grad = 0.5)" in ledger
    grads = stepper.grads_at(0)
    assert grads[v["n"]] == pytest.approx(0.5) and grads[v["x1"]] == 0  # after step 0 only n has its grad
    # the same grads as the class's own backward()
    o2, v2 = lecture_neuron()
    o2.backward()
    assert [v2[k].grad for k in sorted(v2)] == pytest.approx([v[k].grad for k in sorted(v)])
    picture = stepper.draw(1).source
    assert "backward step 2 of 5: at n" in picture and 'COLOR="#e6550d"' in picture


def n_sum(stepper: Stepper) -> str:
    """The unlabelled x1*w1 + x2*w2 node's name: its place in the order."""
    (node,) = [n for n in stepper.order if not n.label]
    return stepper.names[node]


def test_backward_steps_and_explain_read_foreign_closures() -> None:
    o, v = lecture_neuron()
    steps = list(backward_steps(o))
    assert all(s.by_backward for s in steps) and steps[0].local == pytest.approx((0.5,))
    e = explain(o, v["x1"])
    assert len(e.paths) == 1 and e.total == pytest.approx(-1.5)  # 0.5 * 1 * 1 * -3
    assert [f for f in e.paths[0].factors] == pytest.approx([-3.0, 1.0, 1.0, 0.5])
    assert v["x1"].grad == pytest.approx(-1.5)  # explain's probes put every grad back


def test_micrograd_s_own_value_and_mlp_are_drawn_and_stepped() -> None:
    engine = pytest.importorskip("micrograd.engine")
    mnn = pytest.importorskip("micrograd.nn")
    random.seed(3)
    model = mnn.MLP(2, [4, 4, 1])
    loss = (1 + -1 * model([0.5, -1.5])).relu()
    assert isinstance(loss, engine.Value)
    stepper = Stepper(loss, params=model)
    by_step = {p: p.grad for p in model.parameters()}
    model.zero_grad()
    (1 + -1 * model([0.5, -1.5])).relu().backward()  # micrograd's own backward, on a fresh graph
    assert [by_step[p] for p in model.parameters()] == pytest.approx([p.grad for p in model.parameters()])
    names = stepper.names
    first = model.layers[0].neurons[0]
    assert names[first.w[0]] == "L1N1.w1" and names[first.b] == "L1N1.b" and names[loss] == "loss"
    assert "L3N1.out" in names.values() and "L2N4.z" in names.values()
    assert "L1N1.out" in stepper.draw(len(stepper) - 1).source
    collapsed = Stepper(loss, params=model, collapse="neuron")
    assert len(collapsed) == 4 + 4 + 1 + 3  # 9 neurons and the 3 ops of the loss
    totals: dict = {}
    for step in collapsed:
        for p, added in zip(step.outside, step.added):
            totals[p] = totals.get(p, 0.0) + added
    assert [totals[p] for p in model.parameters()] == pytest.approx([p.grad for p in model.parameters()])
    assert "<B>L2N3</B>" in collapsed.draw(3).source


def test_what_is_not_a_node_is_named() -> None:
    o, _ = lecture_neuron()
    with pytest.raises(TypeError, match="draw_dot: float object .* is not a graph node"):
        draw_dot(1.5)
    assert len(order_of(o)) == 10


def test_an_autograd_lite_closure_node_is_stepped_drawn_and_explained() -> None:
    from autograd_lite.engine import Value

    def sig(v):  # micrograd's way of adding an op: the constructor and a closure
        s = 1 / (1 + math.exp(-v.data))
        out = Value(s, (v,), "sig")

        def _backward():
            v.grad += s * (1 - s) * out.grad
        out._backward = _backward
        return out

    x = Value(0.5, label="x")
    y = sig(x * 2) + x
    y.label = "y"
    stepper = Stepper(y)
    s = 1 / (1 + math.exp(-1.0))
    assert x.grad == pytest.approx(2 * s * (1 - s) + 1)
    (closure,) = [step for step in stepper if step.by_backward]
    assert closure.contributions == pytest.approx((s * (1 - s),))
    assert stepper.names[closure.node] == "n3"  # x, 2, x * 2, then sig
    assert f"n2.grad += {s * (1 - s):.4g}   (added by n3._backward(), n3.grad = 1.0)" in stepper.ledger()
    source = stepper.draw(closure.index).source
    assert "label=<sig>" in source and "at n3 (grad 1.0), n3._backward() passes the grad on" in source
    assert explain(y, x).total == pytest.approx(x.grad)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["+", "*", "tanh"]), st.integers(0, 20), st.integers(0, 20)),
                min_size=1, max_size=12),
       st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3))
def test_stepping_a_random_lecture_graph_gives_torch_s_grads(program, inputs) -> None:
    """Any graph of the lecture's Values, stepped by its closures, against PyTorch in float64."""
    torch = pytest.importorskip("torch")
    ours = [LectureValue(x, label=f"x{i}") for i, x in enumerate(inputs)]
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    nodes, tensors = list(ours), list(theirs)
    for op, i, j in program:  # each op reads two earlier nodes (x * x and shared nodes included)
        a, b = i % len(nodes), j % len(nodes)
        if op == "tanh":
            nodes.append(nodes[a].tanh())
            tensors.append(torch.tanh(tensors[a]))
        else:
            nodes.append(nodes[a] + nodes[b] if op == "+" else nodes[a] * nodes[b])
            tensors.append(tensors[a] + tensors[b] if op == "+" else tensors[a] * tensors[b])
    stepper = Stepper(nodes[-1])
    tensors[-1].backward()
    expected = [0.0 if t.grad is None else t.grad.item() for t in theirs]
    assert [x.grad for x in ours] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    final = stepper.grads_at(-1) if len(stepper) else {x: 0.0 for x in ours}
    assert [final.get(x, 0.0) for x in ours] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_explain_counts_a_closure_input_listed_twice_once() -> None:
    from autograd_lite.engine import Value

    x = Value(3.0, label="x")
    square = Value(x.data * x.data, (x, x), "*")  # micrograd's __mul__ with self is other

    def _backward() -> None:
        x.grad += x.data * square.grad
        x.grad += x.data * square.grad
    square._backward = _backward
    y = square * 2.0
    y.backward()
    assert x.grad == 12.0 and explain(y, x).total == 12.0  # was 24: both places got the whole 6
