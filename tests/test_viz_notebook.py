"""Drawings in Jupyter: legible at the default cell width, scrolled rather than shrunk when wide."""

from __future__ import annotations

import re
import shutil

import pytest

from autograd_lite.engine import Value, value_sum
from autograd_lite.losses import binary_cross_entropy, hinge
from autograd_lite.nn import MLP
from autograd_lite.viz import draw_dot
from autograd_lite.viz_base import CELL_PX, MIN_SCALE

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")


def width_px(drawing) -> float:
    svg = drawing.pipe(format="svg", encoding="utf-8")
    return float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1)) * 4 / 3


def worked_example() -> tuple[Value, list[Value]]:
    """Notebook 02's 2-2-1 sigmoid network."""
    x1, x2 = Value(0.5, label="x1"), Value(-0.5, label="x2")
    w = [Value(v, label=f"w{i}") for i, v in enumerate([0.15, -0.2, 0.25, 0.2, -0.3, 0.5])]
    b = [Value(v, label=f"b{i}") for i, v in enumerate([0.35, -0.35, 0.1])]
    h1 = value_sum([w[0] * x1, w[1] * x2, b[0]]).sigmoid()
    h2 = value_sum([w[2] * x1, w[3] * x2, b[1]]).sigmoid()
    loss = binary_cross_entropy(value_sum([w[4] * h1, w[5] * h2, b[2]]).sigmoid(), 1.0)
    loss.backward()
    return loss, w + b


def test_the_worked_example_fits_a_notebook_cell_at_full_size() -> None:
    loss, params = worked_example()
    drawing = draw_dot(loss, "TB", params=params)
    assert width_px(drawing) <= CELL_PX  # 11pt text at 100%: ~15px
    assert not isinstance(drawing._repr_mimebundle_(), tuple)  # no metadata: Jupyter may fit it


def test_a_wide_drawing_scrolls_instead_of_shrinking_to_unreadable_text() -> None:
    model = MLP(2, [16, 16, 1], seed=1337)
    loss = hinge(model([0.3, -0.2]), 1)
    loss.backward()
    drawing = draw_dot(loss, params=model, collapse="neuron")
    assert width_px(drawing) * MIN_SCALE > CELL_PX  # shrunk to the cell, its text would be < 11px
    bundle, metadata = drawing._repr_mimebundle_()
    assert bundle["image/svg+xml"].startswith("<?xml") and metadata == {"image/svg+xml": {"unconfined": True}}


def test_draw_dot_steps_a_collapsed_graph() -> None:
    model = MLP(2, [4, 1], seed=0)
    loss = hinge(model([0.3, -0.2]), -1)
    source = draw_dot(loss, params=model, collapse="neuron", step=3).source
    assert "backward step 4 of" in source and "the L2N1 box" in source or "the L1N" in source
