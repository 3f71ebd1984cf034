"""Stepping micrograd's demo network, MLP(2, [16, 16, 1]): collapsed one box at a time, and whole."""

from __future__ import annotations

import random
import re
import shutil

import pytest

from autograd_lite.engine import Value
from autograd_lite.losses import hinge
from autograd_lite.nn import MLP
from autograd_lite.stepper import Stepper
from autograd_lite.viz_base import HIGHLIGHT


def demo_loss():
    model = MLP(2, [16, 16, 1], seed=0)
    x = [Value(0.5, label="x1"), Value(-1.0, label="x2")]
    return model, hinge(model(x), 1)


def test_one_neuron_at_a_time_passes_each_parameter_its_grad() -> None:
    model, loss = demo_loss()
    stepper = Stepper(loss, params=model, collapse="neuron")
    neurons = [s for s in stepper if s.box is not None]
    assert len(neurons) == 16 + 16 + 1 and len(stepper) == 33 + 3  # and the 3 ops of the hinge loss
    totals: dict[Value, float] = {}
    for step in stepper:
        for p, added in zip(step.outside, step.added):
            totals[p] = totals.get(p, 0.0) + added
    grads = [p.grad for p in model.parameters()]
    assert [totals.get(p, 0.0) for p in model.parameters()] == pytest.approx(grads)
    last = stepper[-1]  # a neuron of layer 1: its weights, bias and inputs, one line each
    lines = last.ledger(stepper.names)
    assert lines[0].startswith("L1N") and len(lines) == 1 + 2 + 3
    assert stepper.grads_at(-1) == pytest.approx(stepper.final_grads)
    source = stepper.draw(len(stepper) - 1).source
    assert source.count(f'COLOR="{HIGHLIGHT}"') == 1  # the box being stepped
    assert "backward step" in source and "passes the grad on to its inputs and parameters" in source


def test_one_layer_at_a_time_summarises() -> None:
    model, loss = demo_loss()
    stepper = Stepper(loss, params=model, collapse="layer")
    layers = [s for s in stepper if s.box is not None]
    assert [s.box.layer for s in layers] == [2, 1, 0]
    head, inputs, params = layers[1].ledger(stepper.names)
    assert head.startswith("layer 2 (") and inputs.startswith("  16 inputs: grads += ")
    assert params.startswith("  272 parameters: grads += ")  # 16 neurons x (16 weights + bias)
    assert "layer 2" in stepper.draw(layers[1].index).source


def test_the_whole_network_steps_uncollapsed_and_a_step_is_drawn() -> None:
    mnn = pytest.importorskip("micrograd.nn")
    random.seed(0)
    model = mnn.MLP(2, [16, 16, 1])  # micrograd's own: a * and a + per weight, over 1,000 nodes
    loss = (1 + -1 * model([0.5, -1.0])).relu()
    stepper = Stepper(loss, params=model)
    assert len(stepper.order) > 1000 and len(stepper) > 600
    drawing = stepper.draw(len(stepper) // 2)
    assert drawing.source.count("->") > 1500
    if shutil.which("dot"):
        assert drawing.pipe(format="svg").startswith(b"<?xml")


def test_a_box_s_hover_lists_its_output_and_parameters() -> None:
    model, loss = demo_loss()
    loss.backward()
    from autograd_lite.viz import draw_dot

    source = draw_dot(loss, params=model, collapse="neuron").source
    hover = next(t for t in re.findall(r'tooltip="([^"]*)"', source) if t.startswith("L2N3: "))
    assert "\\nL2N3.out = " in hover and "\\nL2N3.b: data " in hover and "more parameters" in hover
