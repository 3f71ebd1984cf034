"""Export for slides and handouts: PNG at a chosen dpi, one frame per step, an animated GIF."""

from __future__ import annotations

import shutil

import pytest

from autograd_lite.engine import Value
from autograd_lite.stepper import Stepper
from autograd_lite.viz import draw_dot, save

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
Image = pytest.importorskip("PIL.Image")


def small() -> Value:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + a
    c.label = "c"
    return c


def test_png_at_a_dpi(tmp_path) -> None:
    drawing = draw_dot(small())
    at96 = Image.open(save(drawing, tmp_path / "a.png"))
    at192 = Image.open(save(drawing, tmp_path / "b.png", dpi=192))
    assert at192.width == pytest.approx(2 * at96.width, abs=4)
    assert "dpi" not in drawing.source  # the drawing itself is unchanged
    with pytest.raises(ValueError, match="dpi is a number"):
        save(drawing, tmp_path / "c.png", dpi=0)


def test_one_frame_per_step_and_a_gif(tmp_path) -> None:
    stepper = Stepper(small())
    frames = stepper.save_frames(tmp_path / "frames")
    assert [f.name for f in frames] == ["step-001.png", "step-002.png"] and len(stepper) == 2
    svgs = stepper.save_frames(tmp_path / "svg", format="svg")
    assert "backward step 2 of 2" in svgs[1].read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="format='gif'.*save_gif"):
        stepper.save_frames(tmp_path, format="gif")
    gif = Image.open(stepper.save_gif(tmp_path / "steps.gif", seconds_per_step=0.5))
    assert gif.n_frames == 2 and gif.info["duration"] == 500
