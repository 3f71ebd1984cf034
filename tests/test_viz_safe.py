"""Any label is drawn: markup, CDATA ends, control characters and lone surrogates, with real renders."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

from autograd_lite.engine import Value
from autograd_lite.stepper import Stepper
from autograd_lite.viz import draw_dot, save

NASTY = ["<!--<script>alert(1)</script>", "a]]>b", "nul\x00here", "bell\x07", "lone\udc80surrogate",
         'quote" & amp', "back\\slash \\N"]

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")


def graph_with(label: str) -> Value:
    x = Value(2.0, label=label)
    y = Value(-1.0, label="y")
    out = (x * y).tanh()
    out.label = label + "!"
    return out


@needs_dot
@pytest.mark.parametrize("label", NASTY)
def test_a_nasty_label_renders_to_well_formed_svg_and_is_visible(label: str, tmp_path) -> None:
    out = graph_with(label)
    out.backward()
    for drawing in (draw_dot(out), Stepper(out).draw(1)):
        svg = drawing.pipe(format="svg", encoding="utf-8")
        root = ET.fromstring(svg)  # well-formed XML: no stray <!--, ]]> or control characters
        texts = " ".join(t for t in root.itertext())
        shown = label.replace("\x00", "\\x00").replace("\x07", "\\x07").replace("\udc80", "\\udc80")
        assert shown in texts  # drawn as the reader typed it, control characters written out
        assert "<script" not in svg and "<!--<" not in svg
        save(drawing, tmp_path / "x.png")


def test_ledgers_and_captions_show_control_characters_visibly() -> None:
    out = graph_with("nul\x00here")
    stepper = Stepper(out)
    text = "\n".join(stepper.ledger()) + stepper.caption(0)
    assert "\x00" not in text and "nul\\x00here" in text
    lone = Stepper(graph_with("lone\udc80"))
    "\n".join(lone.ledger()).encode("utf-8")  # encodable: the surrogate is written out
