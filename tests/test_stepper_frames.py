"""The HTML stepper's frames, without a browser: replayed, each backward frame is the Stepper's own
picture of that step (every box's rows and fill), and the last is the page's finished drawing."""

from __future__ import annotations

from typing import Any

import pytest

from autograd_lite.data import moons
from autograd_lite.engine import Value
from autograd_lite.losses import hinge
from autograd_lite.nn import MLP
from autograd_lite.stepper import Stepper
from autograd_lite.stepper_frames import looks, unknown
from autograd_lite.stepper_html import page_drawing, page_options, stepper_data


def replayed(data: dict[str, Any]) -> list[list[list[Any]]]:
    """Every frame's state, by applying each frame's changes to the one before."""
    state = [[s[0], s[1], s[2], *s[3]] for s in data["start"]]
    frames = [[list(s) for s in state]]
    for changes in data["changes"][1:]:
        for item, slot, value in changes:
            state[item][slot] = value
        frames.append([list(s) for s in state])
    return frames


def reused() -> Stepper:
    a, b = Value(-1.5, label="a"), Value(0.8, label="b")
    a.grad = 0.25
    x = a * b
    total = ((x * x + a).tanh() * b + x) * 3
    total.label = "T"
    return Stepper(total, grad=2.0, params=[a, b], zero_grad=False)


def demo(collapse: str | None) -> Stepper:
    data = moons(100, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    loss = hinge(model(data.X[0]), data.y[0] * 2 - 1)
    loss.label = "loss"
    return Stepper(loss, params=model, collapse=collapse)


@pytest.mark.parametrize("make", [reused, lambda: demo("neuron"), lambda: demo("layer")],
                         ids=["reused nodes", "neuron boxes", "layer boxes"])
def test_each_backward_frame_is_the_steppers_picture_of_that_step(make) -> None:
    stepper = make()
    opts = page_options(stepper)
    source = page_drawing(stepper, opts).source
    data = stepper_data(stepper, opts, source)
    frames = replayed(data)
    assert len(frames) == 1 + data["forward"] + 1 + len(stepper)  # leaves, forward, seed, steps
    ids = [item for item, _ in data["items"]]
    for k in range(len(stepper)):
        drawn = looks(stepper.draw(k).source)  # every box's fill, hover text and rows
        state = frames[data["forward"] + 2 + k]
        assert {i: (s[1], s[2], s[3:]) for i, s in zip(ids, state)} == {i: drawn[i] for i in ids}
        assert data["steps"][data["forward"] + 2 + k] == k
    finished = looks(source)  # the page without JavaScript: the same as its last frame
    assert [[0, *finished[i]] for i in ids] == [[s[0], s[1], s[2], s[3:]] for s in frames[-1]]


def test_before_the_forward_pass_reaches_a_box_its_values_are_unknown() -> None:
    stepper = demo("neuron")
    data = stepper_data(stepper)
    first, by_id = replayed(data)[0], {item: i for i, (item, _) in enumerate(data["items"])}
    neuron = next(b for b in stepper.plan.boxes if b.what == "neuron")
    state = first[by_id[neuron.id]]
    assert state[0] == 1 and [row[0] for row in state[3:]] == ["out ?", "grad 0.0"]
    assert unknown([["data 1.5 | grad 0.0", 0], ["data 1.0, 2.0", 0]]) == [["data ? | grad 0.0", 0],
                                                                            ["data ?", 0]]
    inputs = next(b for b in stepper.plan.boxes if b.what == "inputs")
    assert first[by_id[inputs.id]][0] == 0  # the data is there from the start
