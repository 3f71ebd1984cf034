"""The building blocks of every drawing: the Graphviz wrapper, options, colours and boxes.

Nothing here walks a graph or decides what to draw (that is `viz_draw` and
`viz_collapse`); it only knows how to write one box, one op node, one table.
Every piece of user text (labels, ledgers, captions) goes through `text()`, which
escapes it for Graphviz's HTML-like labels and makes control characters and lone
surrogates visible (`\\x00`, `\\udc80`) instead of letting them break the render.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import graphviz

from autograd_lite.viz_names import fmt, visible
from autograd_lite.viz_nodes import (
    Node,
    as_float,
    is_constant,
    label_of,
    local_derivatives,
    op_symbol,
    parents,
)

MAX_NODES = 400  # above this many drawn nodes Graphviz gets slow and the picture unreadable
FONT = "Helvetica,Arial,sans-serif"
CELL_PX = 900  # a notebook cell's width at the default zoom (JupyterLab, VS Code)
MIN_SCALE = 0.75  # shrunk to a cell, 11pt text stays >= 11px; a wider drawing scrolls instead
POSITIVE = (67, 147, 195)  # blue: grad > 0
NEGATIVE = (214, 96, 77)  # red: grad < 0
HIGHLIGHT = "#e6550d"  # the node the stepper is at
# border colour, width and table style of each kind of node
BORDERS = {
    "output": ("#000000", 3, ""),
    "param": ("#1b7837", 2, "ROUNDED"),
    "input": ("#555555", 1, "DASHED"),
    "leaf": ("#555555", 1, "ROUNDED"),
    "": ("#888888", 1, ""),  # an intermediate result
}
KIND_FILLS = {"output": "#fff2cc", "param": "#e5f5e0", "input": "#f0f0f0", "leaf": "#f0f0f0", "": "#ffffff"}
RANKDIRS = ("LR", "RL", "TB", "BT")
COLORS = ("auto", "grad", "kind", "none")
INSTALL_HINT = (
    "Graphviz's `dot` program was not found, so the drawing cannot be rendered (building it worked: "
    "`.source` holds its DOT text). Install Graphviz and restart Python: `sudo apt-get install graphviz` "
    "(Debian/Ubuntu), `brew install graphviz` (macOS), `conda install -c conda-forge graphviz`, or the "
    "installer from https://graphviz.org/download/ (Windows; tick 'add to PATH').")


class GraphvizNotFound(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's `dot` program; the message says how to install it."""

    def __init__(self) -> None:
        RuntimeError.__init__(self, INSTALL_HINT)


class Drawing(graphviz.Digraph):
    """A `graphviz.Digraph` whose rendering errors say how to install Graphviz, and which shows in
    Jupyter at a readable size (see `_repr_mimebundle_`)."""

    def pipe(self, *args: Any, **kwargs: Any) -> Any:  # what Jupyter's display calls
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFound() from None

    def render(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFound() from None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> Any:
        """Jupyter shrinks an image to its cell. That is kept while the text stays legible
        (MIN_SCALE of a CELL_PX cell); a wider drawing is marked "unconfined": shown at its own
        size (11pt text reads at ~15px), and the cell scrolls sideways."""
        bundle = super()._repr_mimebundle_(include, exclude, **kwargs)
        svg = bundle.get("image/svg+xml")
        match = re.search(r'<svg width="([\d.]+)pt"', svg) if isinstance(svg, str) else None
        if match is None or float(match.group(1)) * 4 / 3 * MIN_SCALE <= CELL_PX:  # 1pt = 4/3 CSS px
            return bundle
        return bundle, {"image/svg+xml": {"unconfined": True}}


def save(drawing: graphviz.Digraph, path: str | Path, *, dpi: float | None = None) -> Path:
    """Write `drawing` to `path`; the extension picks the format (.svg .png .pdf .jpg, or .dot .gv).

    dpi: the resolution of a .png/.jpg (Graphviz's default is 96; 200 suits slides and print)."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if dpi is not None:
        if not (isinstance(dpi, (int, float)) and 10 <= dpi <= 2400):
            raise ValueError(f"save({str(path)!r}, dpi={dpi!r}): dpi is a number from 10 to 2400")
        drawing = drawing.copy()
        drawing.attr(dpi=f"{dpi:g}")
    if kind in ("dot", "gv"):
        path.write_text(drawing.source, encoding="utf-8")
    elif kind in ("svg", "png", "pdf", "jpg", "jpeg"):
        try:
            path.write_bytes(drawing.pipe(format=kind))
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFound() from None
    else:
        raise ValueError(f"save({str(path)!r}): unknown extension {path.suffix!r}; "
                         "use .svg, .png, .pdf, .jpg, or .dot/.gv for the DOT source")
    return path


@dataclass(frozen=True)
class DrawOptions:
    """How to draw (see `draw_dot`); change one with `options.but(color="kind")`."""

    rankdir: str | None = None  # None: "LR", or "TB" for collapse="neuron"
    params: Any = None  # a model or a list of parameters
    color: str = "auto"
    show_local: bool = True
    hide_constants: bool = True
    legend: bool = True
    collapse: str | None = None
    max_nodes: int = MAX_NODES
    digits: int = 4
    caption: str = ""  # a line under the drawing (a stepper's caption takes its place)

    def __post_init__(self) -> None:
        if self.rankdir not in (None, *RANKDIRS):
            raise ValueError(f"draw_dot: rankdir={self.rankdir!r}; use 'LR', 'RL', 'TB' or 'BT'")
        if self.color not in COLORS:
            raise ValueError(f"draw_dot: color={self.color!r}; use 'auto', 'grad', 'kind' or 'none'")
        if self.collapse not in (None, "neuron", "layer"):
            raise ValueError(f"draw_dot: collapse={self.collapse!r}; use 'neuron', 'layer' or None")

    def but(self, **changes: Any) -> DrawOptions:
        return replace(self, **changes)

    @property
    def direction(self) -> str:
        return self.rankdir or ("TB" if self.collapse == "neuron" else "LR")

    @cached_property
    def param_set(self) -> set[Node]:
        """The parameters, from a model (anything with .parameters()) or an iterable of Values."""
        if self.params is None:
            return set()
        params = self.params.parameters() if hasattr(self.params, "parameters") else self.params
        return set(params)


@dataclass
class Moment:
    """What the stepper wants shown: grads at one step, the node being processed, final grads."""

    grads: Mapping[Node, float]
    current: Node | None = None
    final: frozenset[Node] = frozenset()
    ledger: Sequence[str] = ()  # the ledger so far
    fresh: int = 0  # how many of its last lines this step added
    caption: str = ""
    scale: float = 0.0  # the grad that gets the darkest colour (the largest final one)
    lit: frozenset[Node] = frozenset()  # collapsed stepping: the nodes of the box being processed
    added: Mapping[Node, float] = field(default_factory=dict)  # what this step added to each parent


# --- text and colours -----------------------------------------------------------------------

def text(value: Any) -> str:
    """User text for an HTML-like label: visible(), then escaped (`<!--`, `<script`, `]]>`, `&`)."""
    return html.escape(visible(value)).replace("\n", "<BR/>")


def tooltip(lines: Iterable[str]) -> str:
    """A hover text (the SVG's title): backslashes doubled, as Graphviz reads `\\N`, `\\n`."""
    return "\\n".join(visible(line).replace("\\", "\\\\") for line in lines)


def grad_fill(grad: float, scale: float) -> str:
    """Fill colour for a grad: white at 0, blue > 0, red < 0, darker for larger |grad| / scale."""
    grad = as_float(grad)
    if grad == 0 or not math.isfinite(grad) or not scale > 0:
        return "#ffffff" if grad == 0 or math.isfinite(grad) else "#bbbbbb"
    strength = 0.2 + 0.8 * math.sqrt(min(abs(grad) / scale, 1.0))  # sqrt: small grads stay visible
    base = POSITIVE if grad > 0 else NEGATIVE
    return "#" + "".join(f"{round(255 + (c - 255) * strength):02x}" for c in base)


def grad_scale(nodes: Iterable[Node], root: Node, grads: Mapping[Node, float] | None = None) -> float:
    """The largest |grad| below the root (whose grad, the seed 1.0, would wash out every other colour),
    over the nodes drawn; `grads` instead of their .grad when given."""
    values = (abs(as_float(n.grad if grads is None else grads[n])) for n in nodes if n is not root)
    return max((g for g in values if math.isfinite(g)), default=0.0)


def kind_of(node: Node, root: Node, params: Collection[Node]) -> str:
    """'output', 'param', 'input' (a leaf when parameters are known), 'leaf', or '' (intermediate)."""
    if node is root:
        return "output"
    if parents(node):
        return ""
    if node in params:
        return "param"
    return "input" if params else "leaf"


def use_grad_colours(opts: DrawOptions, nodes: Iterable[Node], moment: Moment | None) -> bool:
    if opts.color == "auto":
        return moment is not None or any(as_float(n.grad) != 0 for n in nodes)
    return opts.color == "grad"


def node_fill(opts: DrawOptions, by_grad: bool, kind: str, grad: float, scale: float) -> str:
    if by_grad:
        return grad_fill(grad, scale if kind != "output" else abs(as_float(grad)))
    return KIND_FILLS[kind] if opts.color != "none" else "#ffffff"


# --- boxes, op nodes and tables ------------------------------------------------------------

def new_drawing(opts: DrawOptions) -> Drawing:
    dot = Drawing(format="svg", graph_attr={"rankdir": opts.direction, "bgcolor": "white", "nodesep": "0.2",
                                            "ranksep": "0.35", "fontname": FONT, "fontsize": "12"})
    dot.attr("node", fontname=FONT, fontsize="11")
    dot.attr("edge", fontname=FONT, fontsize="10", color="#777777", fontcolor="#555555", arrowsize="0.6")
    return dot


def table(rows: Sequence[str], *, fill: str, border: tuple[str, int, str]) -> str:
    """An HTML-like Graphviz label: a box of rows separated by a rule under the first."""
    colour, width, style = border
    style_attr = f' STYLE="{style}"' if style else ""
    cells = [f"<TR><TD>{row}</TD></TR>" for row in rows]
    if len(cells) > 1:
        cells.insert(1, "<HR/>")
    return (f'<<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" BGCOLOR="{fill}" '
            f'COLOR="{colour}"{style_attr}>{"".join(cells)}</TABLE>>')


def draw_value(dot: Drawing, node_id: str, node: Node, kind: str, name: str, grad: float, fill: str,
               digits: int, moment: Moment | None = None, hover: Sequence[str] = ()) -> None:
    """A Value's box: its name (and kind), data and grad; `hover` is its tooltip."""
    border = BORDERS[kind]
    if moment is not None and node is moment.current:
        border = (HIGHLIGHT, 4, border[2])
    head = f"<B>{text(name)}</B>" if label_of(node) else f'<I><FONT COLOR="#444444">{text(name)}</FONT></I>'
    if kind:
        head += f' <FONT POINT-SIZE="9" COLOR="{BORDERS[kind][0]}">{kind}</FONT>'
    grad_text = f"grad {fmt(grad, digits)}"
    if moment is not None:
        grad_text = (f"<B>{grad_text} ✓</B>" if node in moment.final
                     else f'<FONT COLOR="#888888">{grad_text}</FONT>')
    attrs = {"tooltip": tooltip(hover)} if hover else {}
    dot.node(node_id, table([head, f"data {fmt(node.data, digits)}", grad_text], fill=fill, border=border),
             shape="plain", **attrs)


def op_label(node: Node, digits: int, hide_constants: bool) -> str:
    """The op's symbol, with hidden constants and a plain-number parameter written in: '* 2', '** 3'."""
    before: list[str] = []
    after: list[str] = []
    seen_value = False
    for parent in parents(node):
        if hide_constants and is_constant(parent):
            (after if seen_value else before).append(fmt(parent.data, digits))
        else:
            seen_value = True
    param = getattr(node, "_param", None)
    if param is not None:
        after.append(fmt(param, digits))
    return " ".join([*before, op_symbol(node) or "?", *after])


def draw_op(dot: Drawing, node: Node, op_id: str, source: Callable[[Node], str | None], opts: DrawOptions,
            is_current: bool = False, current_edges: Collection[Node] = (), upstream: float = 0.0,
            names: Mapping[Node, str] | None = None, added: Mapping[Node, float] | None = None) -> None:
    """The op's small node and its input edges, labelled with the local derivatives.

    `source(parent)` is the drawn node an input edge starts from (None: not drawn)."""
    label = op_label(node, opts.digits, opts.hide_constants)
    fill, line = ("#fdd0a2", HIGHLIGHT) if is_current else ("#eeeeee", "#999999")
    name = (names or {}).get(node, "")
    dot.node(op_id, f"<{text(label)}>", shape="circle" if len(label) <= 2 else "ellipse", width="0.3",
             height="0.3", margin="0.03", fontsize="10", style="filled", fillcolor=fill, color=line,
             tooltip=tooltip([f"op {op_symbol(node)}: makes {name}" if name else f"op {op_symbol(node)}"]))
    local = local_derivatives(node)
    drawn = set()
    for i, parent in enumerate(parents(node)):
        start = source(parent)
        if start is None or (opts.hide_constants and is_constant(parent)):
            continue
        if not opts.show_local and start in drawn:  # two inputs from one collapsed box: one arrow
            continue
        drawn.add(start)
        attrs: dict[str, str] = {}
        pname = (names or {}).get(parent, "")
        if local is not None:
            d = f"∂{name}/∂{pname} = {fmt(local[i], opts.digits)}" if name and pname else ""
            attrs["tooltip"] = tooltip([d or f"local derivative {fmt(local[i], opts.digits)}",
                                        "(how much the op's output moves per unit of this input)"])
            if opts.show_local:
                attrs["label"] = f"∂ {fmt(local[i], opts.digits)}"
        else:
            attrs["tooltip"] = tooltip([f"{pname} → {name}: the derivative is in {name}._backward()"])
        if is_current and parent in current_edges:
            attrs.update(color=HIGHLIGHT, penwidth="2.2", fontcolor=HIGHLIGHT)
            # per edge from the rule (x * x: two edges, each adds x.data * upstream); else what
            # the node's own _backward() added to this parent
            amount = local[i] * upstream if local is not None else (added or {}).get(parent)
            if amount is not None and (opts.show_local or local is None):
                plus = fmt(amount, opts.digits)
                plus = plus if plus.startswith("-") else "+" + plus
                attrs["label"] = f"{attrs['label']} → {plus}" if "label" in attrs else plus
        dot.edge(start, op_id, **attrs)


def legend_table(by_grad: bool, scale: float, out: str, params_known: bool, show_local: bool,
                 per_row: int = 2) -> str:
    """The key: what the colours, borders and edge numbers mean, `per_row` entries a row (so that
    the key never makes a drawing wider than its graph). Its samples are cells of a fixed size:
    Graphviz stretches a table to the width of the ledger above it, and they must not grow."""
    out = text(out)
    entries = []
    fixed = 'FIXEDSIZE="TRUE" CELLPADDING="0" WIDTH="16" HEIGHT="13"'
    if by_grad:
        swatch = f'<TD BGCOLOR="{{}}" {fixed}></TD>'
        entries += [(swatch.format(grad_fill(1, 1)), f"grad &gt; 0: raising it raises {out}"),
                    (swatch.format(grad_fill(-1, 1)), f"grad &lt; 0: lowers {out}")]
        if scale > 0:
            entries.append((swatch.format(grad_fill(scale / 10, scale)),
                            f"paler: smaller |grad| (darkest {fmt(scale)})"))
    for kind in ["param", "input", "output"] if params_known else ["leaf", "output"]:
        colour, width, style = BORDERS[kind]
        dashed = ' STYLE="dashed"' if style == "DASHED" else ""  # (a cell cannot be ROUNDED)
        entries.append((f'<TD BORDER="{width}" COLOR="{colour}"{dashed} {fixed}></TD>', _KIND_TEXT[kind]))
    if show_local:
        entries.append(("<TD>∂</TD>", "on an edge: the local derivative d(op output)/d(this input)"))
    rows = []
    for start in range(0, len(entries), per_row):
        row = entries[start:start + per_row]
        cells = "".join(f'{cell}<TD ALIGN="LEFT">{what}</TD>' for cell, what in row)
        rows.append(f"<TR>{'<TD><B>key:</B></TD>' if start == 0 else '<TD></TD>'}{cells}</TR>")
    return f'<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="1">{"".join(rows)}</TABLE>'


_KIND_TEXT = {"param": "parameter (learned)", "input": "input (data)", "output": "output",
              "leaf": "leaf (pass params= to tell parameters from inputs)"}


def ledger_table(moment: Moment, last: int = 14) -> str:
    """The chain-rule ledger of the steps so far (its last lines; the current step's in bold)."""
    lines = list(moment.ledger)
    fresh_from = len(lines) - moment.fresh
    start = max(0, len(lines) - last)
    rows = ['<TR><TD ALIGN="LEFT"><B>ledger</B>'
            + (f" ({start} earlier lines not shown)" if start else "") + "</TD></TR>"]
    for i in range(start, len(lines)):
        line = text(lines[i])
        rows.append(f'<TR><TD ALIGN="LEFT">{"<B>" + line + "</B>" if i >= fresh_from else line}</TD></TR>')
    return f'<TABLE BORDER="1" COLOR="#bbbbbb" CELLSPACING="0" CELLPADDING="2">{"".join(rows)}</TABLE>'


def finish(dot: Drawing, caption: str = "", parts: Sequence[str] = ()) -> None:
    """Put the caption, ledger and key below the graph (as the graph's label, so they never crowd it)."""
    if not caption and not parts:
        return
    rows = []
    if caption:
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="12">{text(caption)}</FONT></TD></TR>')
    rows += [f'<TR><TD ALIGN="LEFT">{part}</TD></TR>' for part in parts]
    dot.attr(label=f'<<TABLE BORDER="0" CELLSPACING="4">{"".join(rows)}</TABLE>>', labelloc="b",
             labeljust="l", fontsize="9")
