"""Names that explain (L2N3.z, L2N3.out, loss) and hover texts that say what a node is."""

from __future__ import annotations

import re

from autograd_lite.engine import Value
from autograd_lite.losses import hinge, mse
from autograd_lite.nn import MLP
from autograd_lite.stepper import Stepper, explain
from autograd_lite.viz import draw_dot


def demo(hidden=(4, 4)):
    model = MLP(2, [*hidden, 1], seed=0)
    x = [Value(0.5, label="x1"), Value(-1.0, label="x2")]
    return model, x, hinge(model(x), 1)


def test_each_neuron_s_nodes_are_named_after_it() -> None:
    model, x, loss = demo()
    stepper = Stepper(loss, params=model)
    names = set(stepper.names.values())
    for layer, width in ((1, 4), (2, 4), (3, 1)):
        for n in range(1, width + 1):
            assert {f"L{layer}N{n}.out", f"L{layer}N{n}.w1", f"L{layer}N{n}.b"} <= names
    assert "L1N2.z" in names  # a relu neuron's weighted sum, before the activation
    assert stepper.names[loss] == "loss"
    assert not any(re.fullmatch(r"n\d+", name) for name in names)  # no n44 left
    text = " ".join(stepper.ledger()) + stepper.caption(3)
    assert "L3N1.out" in text and not re.search(r"\bn\d+\b", text)
    lines = explain(loss, model.layers[0].neurons[1].w[0], params=model).lines()
    assert "L1N2.w1 → L1N2.z → L1N2.out → L2N" in lines[1]
    source = draw_dot(loss, params=model).source
    assert "L2N3.out" in source and "<I><FONT COLOR=\"#444444\">loss</FONT></I>" in source


def test_a_loss_s_parts_are_named_by_their_formula() -> None:
    model = MLP(2, [2, 1], seed=1)
    x = [Value(0.5, label="x1"), Value(-1.0, label="x2")]
    loss = mse(model(x), 0.25)
    names = Stepper(loss, params=model).names.values()
    assert "L2N1.out - 0.25" in names or "L2N1.out + -0.25" in names
    assert "loss" in names


def test_hover_shows_formula_data_grad_and_local_derivative() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    c.backward()
    source = draw_dot(c).source
    tooltips = re.findall(r'tooltip="([^"]*)"', source)
    box = next(t for t in tooltips if t.startswith("c = a * b"))
    assert box == "c = a * b = 2.0 * -3.0 = -6.0\\nop *\\ndata -6.0\\ngrad 1.0\\n∂c/∂a = -3.0\\n∂c/∂b = 2.0"
    assert any(t.startswith("∂c/∂a = -3.0") for t in tooltips)  # the edge a -> (*)
    assert any(t.startswith("a: a leaf\\ndata 2.0\\ngrad -3.0") for t in tooltips)
    assert not any(re.fullmatch(r"n\d+(op)?(->n\d+(op)?)?", t) for t in tooltips)


def test_a_long_loss_s_parts_are_named_by_their_op() -> None:
    from autograd_lite.losses import cross_entropy

    model = MLP(3, [4, 3], seed=0)
    loss = cross_entropy(model([Value(0.1, label="x1"), Value(0.2, label="x2"), Value(0.3, label="x3")]), 2)
    names = set(Stepper(loss, params=model).names.values())
    assert {"loss", "loss.exp1", "loss.exp3", "loss.sum1", "log(loss.sum1)"} <= names
    assert not any(re.fullmatch(r"n\d+", name) for name in names)
