"""The HTML stepper: one self-contained page (or notebook output) playing forward and backward.

Graphviz lays the graph out once, when the page is built; the page holds that
SVG, its frames (`stepper_frames`: per frame, only the texts and colours that
change) and a small script (stepper_html.js, styled by stepper_html.css, both
inlined) that applies or undoes them, highlights, and pans and zooms the graph.
A collapsed Stepper's page draws and steps one box per neuron or layer. No
network, no Jupyter kernel. Without JavaScript (a static notebook export that
strips scripts) the page still shows the finished graph and the whole ledger.

This module knows nothing of `autograd_lite.stepper`: it shows any recorded
backward pass that has the shape of `Recording` (the Stepper has it, and
`Stepper.html()` calls `stepper_html`), so imports run one way:
viz_* -> stepper_frames -> stepper_html -> stepper.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Sequence
from importlib import resources
from typing import Any, Protocol

from autograd_lite.stepper_frames import FrameBuilder
from autograd_lite.viz_base import Drawing, DrawOptions, Moment
from autograd_lite.viz_draw import draw_graph
from autograd_lite.viz_names import fmt
from autograd_lite.viz_nodes import Node

MAX_NODES = 1500  # drawn boxes; the page pans and zooms, so only Graphviz's layout time limits it


class RecordedStep(Protocol):
    """One chain-rule step, as `autograd_lite.stepper.Step` records it."""

    @property
    def node(self) -> Node: ...
    @property
    def parents(self) -> tuple[Node, ...]: ...
    @property
    def after(self) -> tuple[float, ...]: ...
    @property
    def index(self) -> int: ...
    def ledger(self, names: dict[Node, str] | None = None, *, hide_constants: bool = True,
               digits: int = 4) -> list[str]: ...


class Recording(Protocol):
    """What the page shows: a backward pass recorded step by step (`autograd_lite.stepper.Stepper`)."""

    root: Node
    params: Any
    order: list[Node]
    names: dict[Node, str]
    initial: dict[Node, float]
    seed: float
    seeded: float
    final_grads: dict[Node, float]
    final_after: dict[Node, int]
    collapse: str | None  # "neuron" or "layer": one step per box

    @property
    def steps(self) -> Sequence[RecordedStep]: ...
    def scale_for(self, hide_constants: bool = True) -> float: ...
    def caption(self, k: int) -> str: ...
    def moment(self, k: int, *, hide_constants: bool = True, digits: int = 4) -> Moment: ...


# --- any label is safe: what could end a <script>, break the parser or the file, is escaped ----------

_UNSAFE_IN_SCRIPT = re.compile("[<>&\u2028\u2029\ud800-\udfff]")  # </script>, <!--, ]]>; JS line ends
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def script_json(data: Any) -> str:
    """JSON for inside `<script type="application/json">`: no `<`, `>` or `&` left for the HTML
    parser to act on (`</script>`, `<!--<script`, `]]>`), and lone surrogates as \\u escapes (the file
    stays valid UTF-8; JavaScript reads them back as they were)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _UNSAFE_IN_SCRIPT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def visible(text: str) -> str:
    """Text as the page shows it: control characters as their pictures (\\x00 -> ␀, a newline -> ␊),
    C1 controls and lone surrogates as �, so none of them can vanish, break a line or the file."""
    def picture(m: re.Match[str]) -> str:
        c = ord(m.group())
        return chr(0x2400 + c) if c < 0x20 else "\u2421" if c == 0x7F else "\ufffd"

    return _INVISIBLE.sub(picture, text)


# --- the page's data -------------------------------------------------------------------------------

def page_options(stepper: Recording, **draw_options: Any) -> DrawOptions:
    """How the page draws: draw_dot's options (rankdir=, color=, ...), collapsed as the Stepper is."""
    base = DrawOptions(params=stepper.params, color="grad", collapse=stepper.collapse, max_nodes=MAX_NODES)
    return base.but(**draw_options)


def page_drawing(stepper: Recording, opts: DrawOptions) -> Drawing:
    """The finished backward pass, every grad final: what the page shows without JavaScript."""
    final = Moment(stepper.final_grads, None, frozenset(stepper.order), (), 0, "",
                   stepper.scale_for(opts.hide_constants))
    return draw_graph(stepper.root, opts, order=stepper.order, moment=final)


def stepper_data(stepper: Recording, opts: DrawOptions | None = None, source: str | None = None
                 ) -> dict[str, Any]:
    """Everything the page's script needs, as plain JSON-able values (see `stepper_frames`)."""
    opts = opts or page_options(stepper)
    source = source if source is not None else page_drawing(stepper, opts).source
    frames = FrameBuilder(stepper, opts, source).build(seed_caption(stepper, opts.digits))
    data = frames.json()
    data["captions"] = [visible(c) for c in data["captions"]]
    data["name"] = visible(stepper.names[stepper.root])
    return data


def seed_caption(stepper: Recording, digits: int = 4) -> str:
    """What backward starts from: dL/dL = 1, or the grad the Stepper was given (plus what L had)."""
    name, seed, before = stepper.names[stepper.root], stepper.seed, stepper.initial[stepper.root]
    why = f"d{name}/d{name} = 1"
    if seed != 1:
        why = f"the seed given: Stepper({name}, grad={fmt(seed, digits)})"
    if before != 0:
        why = f"{fmt(before, digits)} it had + {why}"
    return f"backward starts: {name}.grad = {fmt(stepper.seeded, digits)} ({why})"


# --- the page --------------------------------------------------------------------------------------

def stepper_html(stepper: Recording, *, full_page: bool = True, **draw_options: Any) -> str:
    """The stepper as HTML: a whole page, or (full_page=False) a fragment for a notebook output.
    `draw_options` are draw_dot's (rankdir=, color=, show_local=, hide_constants=, legend=,
    max_nodes=, digits=); a collapsed Stepper is drawn collapsed, one box per neuron or layer."""
    opts = page_options(stepper, **draw_options)
    drawing = page_drawing(stepper, opts)
    svg = drawing.pipe(format="svg", encoding="utf-8")
    svg = svg[svg.index("<svg"):]
    data = stepper_data(stepper, opts, drawing.source)
    data["page"] = full_page
    payload = script_json(data)
    uid = "al-stepper-" + hashlib.sha1((svg + payload).encode("utf-8", "surrogatepass")).hexdigest()[:12]
    ledger = "".join(f'<li data-step="{step.index}">{html.escape(visible(line))}</li>'
                     for step in stepper.steps
                     for line in step.ledger(stepper.names, hide_constants=opts.hide_constants,
                                             digits=opts.digits))
    name = html.escape(data["name"])
    fragment = (
        f'<div class="al-stepper{" al-page" * full_page}" id="{uid}" tabindex="-1" role="group" '
        f'aria-label="backward pass of {name}, step by step"><style>{_CSS}</style>'
        f'<div class="al-bar"><div class="al-controls">{_CONTROLS}</div>'
        f'<div class="al-caption" aria-live="polite">The finished backward pass of {name} '
        "(the buttons need JavaScript).</div></div>"
        f'<div class="al-main"><div class="al-view">{svg}</div>'
        f'<div class="al-ledger-box"><b>ledger</b><ol class="al-ledger">{ledger}</ol></div></div>'
        f'<script type="application/json" class="al-data">{payload}</script>'
        f"<script>{_JS.replace('__UID__', uid)}</script></div>")
    if not full_page:
        return fragment
    title = html.escape(f"backward pass of {data['name']} - autograd_lite stepper")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="color-scheme" content="light dark"></head>'
            f'<body class="al-page-body" style="margin: 0.5em">{fragment}</body></html>\n')


def _button(cls: str, text: str, title: str) -> str:
    return f'<button class="{cls}" type="button" title="{title}" aria-label="{title}">{text}</button>'


_SPEEDS = "".join(f'<option value="{v}"{" selected" * (v == 4)}>{v}/s</option>' for v in (1, 2, 4, 8, 16, 32))
_CONTROLS = (
    _button("al-first", "⇤", "first frame (Home)") + _button("al-prev", "◀ Prev", "previous frame (←)")
    + _button("al-play", "▶ Play", "play / pause (space)") + _button("al-next", "Next ▶", "next frame (→)")
    + _button("al-last", "⇥", "last frame (End)")
    + '<input class="al-slider" type="range" min="0" max="0" value="0" aria-label="frame">'
    + f'<label>speed <select class="al-speed" aria-label="frames per second">{_SPEEDS}</select></label>'
    + '<span class="al-group"><span>zoom</span>' + _button("al-out", "−", "zoom out (-)")
    + '<span class="al-zoom-level">100%</span>' + _button("al-in", "+", "zoom in (+)")
    + _button("al-fit", "fit", "the whole graph (0)") + _button("al-actual", "100%", "actual size (1)")
    + "</span>" + '<span class="al-count"></span>')
_ASSETS = resources.files("autograd_lite")
_CSS = _ASSETS.joinpath("stepper_html.css").read_text(encoding="utf-8")
_JS = _ASSETS.joinpath("stepper_html.js").read_text(encoding="utf-8")
