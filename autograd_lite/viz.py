"""Drawing a graph of Values: labels, data and grads, with the chain rule on the edges.

    >>> from autograd_lite.viz import draw_dot, save
    >>> dot = draw_dot(loss)        # a graphviz.Digraph: shows inline in Jupyter (SVG)
    >>> save(dot, "loss.png")       # .svg .png .pdf (rendered by Graphviz's `dot`) or .dot/.gv

Every Value is a box with its label, data and grad; every op is a small node of
its own; the number on an edge is the op's local derivative d(output)/d(input),
read from the op's rule (`node._local`), never recomputed here. Fill colour
shows the gradient (blue > 0, red < 0, darker = larger); the border shows what
a leaf is (parameter, input) and which node is the output.

The drawing is deterministic: node ids are positions in the topological order,
so the same graph gives byte-identical DOT source. Big graphs are collapsed
into one box per neuron or per layer (see `autograd_lite.viz_collapse`), or
refused with a clear message, instead of a render that hangs Jupyter.
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphviz

from autograd_lite.engine import Constant, Value, topological_order
from autograd_lite.viz_names import fmt, node_ids, node_names

MAX_NODES = 400  # above this many drawn nodes Graphviz gets slow and the picture unreadable
FONT = "Helvetica,Arial,sans-serif"
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
    """A `graphviz.Digraph` (inline SVG in Jupyter) whose rendering errors say how to install Graphviz."""

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


def save(drawing: graphviz.Digraph, path: str | Path) -> Path:
    """Write `drawing` to `path`; the extension picks the format (.svg .png .pdf .jpg, or .dot .gv)."""
    path = Path(path)
    fmt_ = path.suffix.lower().lstrip(".")
    if fmt_ in ("dot", "gv"):
        path.write_text(drawing.source, encoding="utf-8")
    elif fmt_ in ("svg", "png", "pdf", "jpg", "jpeg"):
        try:
            path.write_bytes(drawing.pipe(format=fmt_))
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFound() from None
    else:
        raise ValueError(f"save({str(path)!r}): unknown extension {path.suffix!r}; "
                         "use .svg, .png, .pdf, .jpg, or .dot/.gv for the DOT source")
    return path


def parameter_set(params: Any) -> set[Value]:
    """The parameters, from a model (anything with .parameters()) or an iterable of Values."""
    if params is None:
        return set()
    if hasattr(params, "parameters"):
        params = params.parameters()
    return set(params)


def grad_fill(grad: float, scale: float) -> str:
    """Fill colour for a grad: white at 0, blue > 0, red < 0, darker for larger |grad| / scale."""
    if grad == 0 or not math.isfinite(grad) or not scale > 0:
        return "#ffffff" if grad == 0 or math.isfinite(grad) else "#bbbbbb"
    strength = 0.2 + 0.8 * math.sqrt(min(abs(grad) / scale, 1.0))  # sqrt: small grads stay visible
    base = POSITIVE if grad > 0 else NEGATIVE
    return "#" + "".join(f"{round(255 + (c - 255) * strength):02x}" for c in base)


def grad_scale(nodes: Iterable[Value], root: Value, grads: Mapping[Value, float] | None = None) -> float:
    """The largest |grad| below the root (whose grad, the seed 1.0, would wash out every other colour),
    over the nodes drawn; `grads` instead of their .grad when given."""
    values = (abs(n.grad if grads is None else grads[n]) for n in nodes if n is not root)
    return max((g for g in values if math.isfinite(g)), default=0.0)


# --- one moment of a backward pass (the stepper draws these) ----------------------------

@dataclass
class Moment:
    """What the stepper wants shown: grads at one step, the node being processed, final grads."""

    grads: Mapping[Value, float]
    current: Value | None = None
    final: frozenset[Value] = frozenset()
    ledger: Sequence[str] = ()  # the ledger so far
    fresh: int = 0  # how many of its last lines this step added
    caption: str = ""
    scale: float = 0.0  # the grad that gets the darkest colour (the largest final one)


@dataclass
class Options:
    rankdir: str
    params: set[Value]
    color: str
    show_local: bool
    hide_constants: bool
    legend: bool
    digits: int
    model: Any = None  # what was passed as params (for parameter names)


# --- the drawing ---------------------------------------------------------------------------

def draw_dot(root: Value, rankdir: str | None = None, *, params: Any = None, color: str = "auto",
             show_local: bool = True, hide_constants: bool = True, legend: bool = True,
             collapse: str | None = None, max_nodes: int = MAX_NODES, step: int | None = None,
             digits: int = 4) -> Drawing:
    """Draw the graph that computed `root`.

    rankdir:  "LR" (left to right, the default) or "TB" (top to bottom; the default for collapse="neuron").
    params:   a model (anything with `.parameters()`) or a list of Values: drawn as parameters
              (green rounded border); the other leaves as inputs (dashed). Needed for `collapse`.
    color:    "grad" (blue > 0, red < 0, darker = larger |grad|), "kind" (by node kind), "none",
              or "auto" (grad once any grad is non-zero).
    show_local: write each op's local derivative d(output)/d(input) on its input edges.
    hide_constants: fold plain numbers (the 2 in 2*x) into their op's label.
    collapse: "neuron" or "layer" (one box per neuron / layer of an MLP passed as `params`).
              Graphs above `max_nodes` are collapsed automatically when possible, else refused.
    step:     draw the backward pass as it stands after step `step` (see `autograd_lite.stepper`);
              the graph's own grads are left as they were.
    """
    if rankdir not in (None, "LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_dot: rankdir={rankdir!r}; use 'LR', 'RL', 'TB' or 'BT'")
    if color not in ("auto", "grad", "kind", "none"):
        raise ValueError(f"draw_dot: color={color!r}; use 'auto', 'grad', 'kind' or 'none'")
    if step is not None:
        if collapse is not None:
            raise ValueError("draw_dot: step= shows single nodes; it cannot be combined with collapse=")
        from autograd_lite.stepper import Stepper  # the stepper draws with this module

        return Stepper(root, keep_grads=False, params=params).draw(
            step, rankdir=rankdir or "LR", color=color, show_local=show_local, hide_constants=hide_constants,
            legend=legend, max_nodes=max_nodes, digits=digits)
    return draw_graph(root, rankdir=rankdir, params=params, color=color, show_local=show_local,
                      hide_constants=hide_constants, legend=legend, collapse=collapse,
                      max_nodes=max_nodes, digits=digits)


def draw_graph(root: Value, *, rankdir: str | None = None, params: Any = None, color: str = "auto",
               show_local: bool = True, hide_constants: bool = True, legend: bool = True,
               collapse: str | None = None, max_nodes: int = MAX_NODES, digits: int = 4,
               moment: Moment | None = None) -> Drawing:
    """draw_dot without the argument checks, and with an optional stepper `moment`."""
    order = topological_order(root)
    opts = Options(rankdir or "LR", parameter_set(params), color, show_local, hide_constants, legend, digits,
                   params)
    if collapse is None:
        size = count_drawn(order, hide_constants)
        if size <= max_nodes:
            return _draw_nodes(root, order, opts, moment)
        if moment is not None or not hasattr(params, "parameters"):
            raise ValueError(_too_big(root, size, max_nodes, stepping=moment is not None))
        from autograd_lite.viz_collapse import collapse_sizes

        sizes = collapse_sizes(order, params, hide_constants)
        collapse = next((mode for mode in ("neuron", "layer") if sizes[mode] <= max_nodes), None)
        if collapse is None:
            raise ValueError(_too_big(root, size, max_nodes, sizes))
        warnings.warn(f"draw_dot: the graph has {size} nodes (max_nodes={max_nodes}); drawn with "
                      f"collapse={collapse!r}, one box per {collapse}", stacklevel=3)
    from autograd_lite.viz_collapse import draw_collapsed

    opts.rankdir = rankdir or ("TB" if collapse == "neuron" else "LR")  # wide layers read best as rows
    return draw_collapsed(root, order, opts, params, collapse, max_nodes)


def count_drawn(order: Sequence[Value], hide_constants: bool) -> int:
    """How many boxes and op nodes an uncollapsed drawing has."""
    if hide_constants:
        return sum(1 + bool(n._prev) for n in order if not isinstance(n, Constant))
    return sum(1 + bool(n._prev) for n in order)


def _too_big(root: Value, size: int, max_nodes: int, sizes: Mapping[str, int] | None = None,
             stepping: bool = False) -> str:
    start = (f"draw_dot: the graph of {root.label or 'the root'} (= {fmt(root.data)}) has {size} drawn "
             f"boxes (Values and ops), more than max_nodes={max_nodes}: Graphviz would take very long and "
             "the picture would be unreadable.")
    if stepping:  # a step drawing shows single nodes: collapsing them would hide what the step does
        return (f"{start} Step through a smaller graph (e.g. the loss of one example of a small model), "
                "or raise max_nodes.")
    if sizes is not None:
        return (f"{start} Even one box per neuron or per layer would leave {sizes['neuron']} or "
                f"{sizes['layer']} nodes. Draw the loss of one example (or a few), or raise max_nodes.")
    return (f"{start} Draw a smaller graph (e.g. the loss of one example), pass the model to draw one box "
            "per neuron or layer (draw_dot(loss, params=model, collapse='layer')), or raise max_nodes.")


def new_drawing(opts: Options) -> Drawing:
    dot = Drawing(format="svg", graph_attr={"rankdir": opts.rankdir, "bgcolor": "white", "nodesep": "0.2",
                                            "ranksep": "0.35", "fontname": FONT, "fontsize": "12"})
    dot.attr("node", fontname=FONT, fontsize="11")
    dot.attr("edge", fontname=FONT, fontsize="9", color="#777777", fontcolor="#555555", arrowsize="0.6")
    return dot


def kind_of(node: Value, root: Value, params: set[Value]) -> str:
    """'output', 'param', 'input' (a leaf when parameters are known), 'leaf', or '' (intermediate)."""
    if node is root:
        return "output"
    if node._prev:
        return ""
    if node in params:
        return "param"
    return "input" if params else "leaf"


def use_grad_colours(opts: Options, nodes: Iterable[Value], moment: Moment | None) -> bool:
    if opts.color == "auto":
        return moment is not None or any(n.grad != 0 for n in nodes)
    return opts.color == "grad"


def table(rows: Sequence[str], *, fill: str, border: tuple[str, int, str]) -> str:
    """An HTML-like Graphviz label: a box of rows separated by a rule under the first."""
    colour, width, style = border
    style_attr = f' STYLE="{style}"' if style else ""
    cells = [f"<TR><TD>{row}</TD></TR>" for row in rows]
    if len(cells) > 1:
        cells.insert(1, "<HR/>")
    return (f'<<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" BGCOLOR="{fill}" '
            f'COLOR="{colour}"{style_attr}>{"".join(cells)}</TABLE>>')


def _draw_nodes(root: Value, order: list[Value], opts: Options, moment: Moment | None) -> Drawing:
    """One box per Value and one small node per op (the uncollapsed drawing)."""
    ids, names = node_ids(order), node_names(order, opts.digits, opts.model)
    shown = [n for n in order if not (opts.hide_constants and isinstance(n, Constant))]
    grads = moment.grads if moment is not None else {n: n.grad for n in order}
    by_grad = use_grad_colours(opts, shown, moment)
    scale = moment.scale if moment is not None else grad_scale(shown, root)
    dot = new_drawing(opts)
    current_edges = set(moment.current._prev) if moment is not None and moment.current is not None else set()
    for node in shown:
        kind = kind_of(node, root, opts.params)
        grad = grads.get(node, node.grad)
        fill = grad_fill(grad, scale if node is not root else abs(grad)) if by_grad else (
            KIND_FILLS[kind] if opts.color != "none" else "#ffffff")
        draw_value(dot, ids[node], node, kind, names[node], grad, fill, opts.digits, moment)
        if node._prev:
            is_current = moment is not None and node is moment.current
            draw_op(dot, node, ids[node] + "op", ids.get, opts, is_current, current_edges, grad)
            dot.edge(ids[node] + "op", ids[node])
    parts = [ledger_table(moment)] if moment is not None and moment.ledger else []
    if opts.legend:
        parts.append(legend_table(by_grad, scale, names[root], bool(opts.params), opts.show_local))
    finish(dot, moment.caption if moment is not None else "", parts)
    return dot


def op_label(node: Value, digits: int, hide_constants: bool) -> str:
    """The op's symbol, with hidden constants and a plain-number parameter written in: '* 2', '** 3'."""
    assert node._rule is not None
    before: list[str] = []
    after: list[str] = []
    seen_value = False
    for parent in node._prev:
        if hide_constants and isinstance(parent, Constant):
            (after if seen_value else before).append(fmt(parent.data, digits))
        else:
            seen_value = True
    if node._param is not None:
        after.append(fmt(node._param, digits))
    return " ".join([*before, node._rule.symbol, *after])


def draw_value(dot: Drawing, node_id: str, node: Value, kind: str, name: str, grad: float, fill: str,
               digits: int, moment: Moment | None = None) -> None:
    """A Value's box: its name (and kind), data and grad."""
    border = BORDERS[kind]
    if moment is not None and node is moment.current:
        border = (HIGHLIGHT, 4, border[2])
    name = html.escape(name)
    head = f"<B>{name}</B>" if node.label else f'<I><FONT COLOR="#444444">{name}</FONT></I>'
    if kind:
        head += f' <FONT POINT-SIZE="8" COLOR="{BORDERS[kind][0]}">{kind}</FONT>'
    grad_text = f"grad {fmt(grad, digits)}"
    if moment is not None:
        grad_text = (f"<B>{grad_text} ✓</B>" if node in moment.final
                     else f'<FONT COLOR="#888888">{grad_text}</FONT>')
    dot.node(node_id, table([head, f"data {fmt(node.data, digits)}", grad_text], fill=fill, border=border),
             shape="plain")


def draw_op(dot: Drawing, node: Value, op_id: str, source: Callable[[Value], str | None], opts: Options,
            is_current: bool = False, current_edges: Collection[Value] = (), upstream: float = 0.0) -> None:
    """The op's small node and its input edges, labelled with the local derivatives.

    `source(parent)` is the drawn node an input edge starts from (None: not drawn)."""
    label = op_label(node, opts.digits, opts.hide_constants)
    fill, line = ("#fdd0a2", HIGHLIGHT) if is_current else ("#eeeeee", "#999999")
    dot.node(op_id, label, shape="circle" if len(label) <= 2 else "ellipse", width="0.3", height="0.3",
             margin="0.03", fontsize="10", style="filled", fillcolor=fill, color=line)
    drawn = set()
    for parent, local in zip(node._prev, node._local):
        start = source(parent)
        if start is None or (opts.hide_constants and isinstance(parent, Constant)):
            continue
        if not opts.show_local and start in drawn:  # two inputs from one collapsed box: one arrow
            continue
        drawn.add(start)
        attrs: dict[str, str] = {}
        if opts.show_local:
            attrs["label"] = f"∂ {fmt(local, opts.digits)}"
        if is_current and parent in current_edges:
            attrs.update(color=HIGHLIGHT, penwidth="2.2", fontcolor=HIGHLIGHT)
            if opts.show_local:
                added = fmt(local * upstream, opts.digits)
                attrs["label"] += f" → {added if added.startswith('-') else '+' + added}"
        dot.edge(start, op_id, **attrs)


def legend_table(by_grad: bool, scale: float, out: str, params_known: bool, show_local: bool) -> str:
    """A one-line key: what the colours, borders and edge numbers mean."""
    out = html.escape(out)
    cells = ['<TD><B>key:</B></TD>']
    if by_grad:
        cells += [f'<TD BGCOLOR="{grad_fill(1, 1)}" WIDTH="14"> </TD>'
                  f"<TD>grad &gt; 0: raising it raises {out}</TD>",
                  f'<TD BGCOLOR="{grad_fill(-1, 1)}" WIDTH="14"> </TD><TD>grad &lt; 0: lowers {out}</TD>']
        if scale > 0:
            cells.append(f'<TD BGCOLOR="{grad_fill(scale / 10, scale)}" WIDTH="14"> </TD>'
                         f"<TD>paler: smaller |grad| (darkest {fmt(scale)})</TD>")
    for kind in ["param", "input", "output"] if params_known else ["leaf", "output"]:
        colour, width, style = BORDERS[kind]
        style_attr = f' STYLE="{style}"' if style else ""
        cells.append(f'<TD><TABLE BORDER="{width}" COLOR="{colour}" CELLPADDING="1"{style_attr}>'
                     f'<TR><TD WIDTH="8"> </TD></TR></TABLE></TD><TD>{_KIND_TEXT[kind]}</TD>')
    if show_local:
        cells.append("<TD>∂ on an edge: the local derivative d(op output)/d(this input)</TD>")
    return f'<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="1"><TR>{"".join(cells)}</TR></TABLE>'


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
        text = html.escape(lines[i])
        rows.append(f'<TR><TD ALIGN="LEFT">{"<B>" + text + "</B>" if i >= fresh_from else text}</TD></TR>')
    return f'<TABLE BORDER="1" COLOR="#bbbbbb" CELLSPACING="0" CELLPADDING="2">{"".join(rows)}</TABLE>'


def finish(dot: Drawing, caption: str = "", parts: Sequence[str] = ()) -> None:
    """Put the caption, ledger and key below the graph (as the graph's label, so they never crowd it)."""
    if not caption and not parts:
        return
    rows = []
    if caption:
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="12">{html.escape(caption)}</FONT></TD></TR>')
    rows += [f'<TR><TD ALIGN="LEFT">{part}</TD></TR>' for part in parts]
    dot.attr(label=f'<<TABLE BORDER="0" CELLSPACING="4">{"".join(rows)}</TABLE>>', labelloc="b",
             labeljust="l", fontsize="9")
