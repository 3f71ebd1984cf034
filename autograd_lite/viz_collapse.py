"""Drawing a big graph with one box per neuron or per layer of an MLP (used by `viz_draw`).

`viz_neurons` finds which nodes compute which neuron; here they become boxes. Each
evaluation of a neuron (one per example) is one box; for collapse="layer", the
evaluations of one layer's neurons that read the same inputs are one box. Inputs
that are plain numbers, a regularizer computed from the parameters alone, and a long
loss computed from the model's outputs get boxes of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd_lite.viz_base import (
    BORDERS,
    HIGHLIGHT,
    KIND_FILLS,
    Drawing,
    DrawOptions,
    Moment,
    draw_op,
    draw_value,
    finish,
    grad_fill,
    grad_scale,
    kind_of,
    ledger_table,
    legend_table,
    new_drawing,
    node_fill,
    table,
    text,
    tooltip,
    use_grad_colours,
)
from autograd_lite.viz_names import fmt, node_ids, node_names
from autograd_lite.viz_neurons import ACTIVATIONS, Groups, find_neurons, neuron_map
from autograd_lite.viz_nodes import Node, as_float, is_constant, op_name, op_symbol, parents

MAX_LOOSE_INPUTS = 6  # more inputs than this into one layer are drawn as one "inputs" box
MAX_LOOSE_TAIL = 8  # more ops than this after the model's outputs (a loss) are drawn as one box


@dataclass
class Box:
    """One drawn box standing for many nodes."""

    id: str
    what: str  # "neuron", "layer", "inputs" or "tail" (what is computed from the model's outputs)
    layer: int = 0
    neurons: set[int] = field(default_factory=set)
    members: list[Node] = field(default_factory=list)
    params: set[Node] = field(default_factory=set)
    inputs: list[float] = field(default_factory=list)  # an inputs box of plain numbers: their values
    row: int = -1  # a neuron box: which evaluation of its layer it belongs to


@dataclass
class Plan:
    """Where every node goes: into a box, drawn on its own, or hidden."""

    box_of: dict[Node, Box]
    boxes: list[Box]
    loose: list[Node]  # nodes drawn on their own
    hidden: set[Node]

    def size(self) -> int:
        return len(self.boxes) + sum(1 + bool(parents(n)) for n in self.loose)


def plan(order: Sequence[Node], model: Any, mode: str, hide_constants: bool) -> Plan:
    """Which box each node goes into (see the module's docstring)."""
    if mode not in ("neuron", "layer"):
        raise ValueError(f"collapse={mode!r}: use 'neuron' or 'layer'")
    found = find_neurons(order, model)
    owner, index, neuron_of, layer_groups = found.owner, found.index, found.neuron_of, found.layer_groups
    groups = found.neuron_groups if mode == "neuron" else layer_groups

    box_of: dict[Node, Box] = {}
    boxes: dict[int, Box] = {}
    for node, (layer, neuron) in neuron_of.items():
        root = groups.find(index[node])
        box = boxes.get(root) or boxes.setdefault(root, Box(f"g{root}", mode, layer,
                                                            row=layer_groups.find(index[node])))
        box.members.append(node)
        box.neurons.add(neuron)
        box_of[node] = box
    children: dict[Node, list[Node]] = {}
    for node in order:
        for p in parents(node):
            children.setdefault(p, []).append(node)
    _box_params_only(order, owner, box_of, boxes)
    hidden: set[Node] = set()
    for p in owner:  # a parameter used only inside boxes is part of them
        kids = children.get(p, [])
        if p in index and kids and all(k in box_of for k in kids):
            hidden.add(p)
            for k in kids:
                box_of[k].params.add(p)
    if hide_constants:
        hidden.update(n for n in order if is_constant(n))
    _box_inputs(order, children, box_of, boxes, hidden, layer_groups, index, neuron_of)
    _box_tail(order, box_of, boxes, hidden)
    loose = [n for n in order if n not in box_of and n not in hidden]
    ordered = [boxes[key] for key in sorted(boxes)]  # inputs (negative keys) first, then by position
    return Plan(box_of, ordered, loose, hidden)


def _box_params_only(order: Sequence[Node], owner: dict[Node, tuple[int, int]], box_of: dict[Node, Box],
                     boxes: dict[int, Box]) -> None:
    """What is computed from the parameters and constants alone (a regularizer such as
    1e-4 * sum(p*p for p in params)) as one box, so that its parameters can hide inside boxes."""
    only: list[Node] = []
    seen: set[Node] = set()
    for node in order:
        if parents(node) and node not in box_of and all(
                p in owner or p in seen or (is_constant(p) and not parents(p)) for p in parents(node)):
            seen.add(node)
            only.append(node)
    if only:
        key = order.index(only[0])  # a node in no neuron, so no neuron box has this key
        box = boxes[key] = Box(f"r{key}", "params", members=only)
        for node in only:
            box_of[node] = box


def _box_inputs(order: Sequence[Node], children: dict[Node, list[Node]], box_of: dict[Node, Box],
                boxes: dict[int, Box], hidden: set[Node], layer_groups: Groups,
                index: dict[Node, int], neuron_of: dict[Node, tuple[int, int]]) -> None:
    """The data a layer reads, as one 'inputs' box: plain numbers (model([0.5, -0.5]) makes a
    constant per weight that reads them) and, when there are many (64 pixels), Nodes too."""
    feeding: dict[tuple[int, bool], list[Node]] = {}
    box_params = {p for box in boxes.values() for p in box.params}
    for node in order:
        kids = children.get(node, [])
        if parents(node) or not kids or not all(k in neuron_of for k in kids) or node in box_params:
            continue
        layers = {layer_groups.find(index[k]) for k in kids}
        if len(layers) == 1:
            feeding.setdefault((layers.pop(), is_constant(node)), []).append(node)
    for (group, numbers), leaves in feeding.items():
        if numbers or len(leaves) > MAX_LOOSE_INPUTS:
            box = Box(f"i{group}" + "c" * numbers, "inputs", members=leaves)
            if numbers:  # the numbers the first neuron read, in order, are the input vector
                first = neuron_of[children[leaves[0]][0]]
                box.inputs = [x.data for x in leaves if neuron_of[children[x][0]] == first]
            boxes[-1 - 2 * group - numbers] = box
            for leaf in leaves:
                box_of[leaf] = box
                hidden.discard(leaf)


def _box_tail(order: Sequence[Node], box_of: dict[Node, Box], boxes: dict[int, Box],
               hidden: set[Node]) -> None:
    """What is computed from the model's outputs (a cross-entropy's exp, sum, log, ...) as one box,
    when it is more than a few ops; the root stays a box of its own."""
    root, after = order[-1], set()
    for node in order:
        if node is not root and node not in box_of and any(p in box_of or p in after for p in parents(node)):
            after.add(node)
    tail = [n for n in order if n in after]
    if len(tail) > MAX_LOOSE_TAIL:
        box = Box(f"t{len(order)}", "tail", members=tail)
        boxes[len(order)] = box
        for node in tail:
            box_of[node] = box
            hidden.discard(node)


def collapse_sizes(order: Sequence[Node], model: Any, hide_constants: bool) -> dict[str, int]:
    """How many nodes the drawing would have, collapsed per neuron and per layer."""
    return {mode: plan(order, model, mode, hide_constants).size() for mode in ("neuron", "layer")}


def _span(values: list[float], digits: int) -> str:
    low, high = min(values), max(values)
    return fmt(low, digits) if low == high else f"{fmt(low, digits)} … {fmt(high, digits)}"


def box_outputs(box: Box) -> list[Node]:
    """The members that leave the box: activations, and results no other member reads."""
    inside = {id(p) for m in box.members for p in parents(m)}
    return [m for m in box.members if op_name(m) in ACTIVATIONS or id(m) not in inside]


def box_title(box: Box) -> str:
    if box.what == "neuron":
        (neuron,) = box.neurons
        return f"L{box.layer + 1}N{neuron + 1}"
    if box.what == "layer":
        return f"layer {box.layer + 1}"
    return {"tail": "the loss's ops", "params": "the ops on the parameters"}.get(box.what, "inputs")


def _box_label(box: Box, opts: DrawOptions, fill: str, grads: Any, border: tuple[str, int, str],
               moment: Moment | None = None) -> str:
    outputs = box_outputs(box)
    d = opts.digits

    def grad_row(node: Node, digits: int) -> str:
        """As in a stepper's uncollapsed picture: bold and ticked once final."""
        row = f"grad {fmt(grads(node), digits)}"
        return f"<B>{row} ✓</B>" if moment is not None and node in moment.final else row

    if box.what in ("tail", "params"):
        symbols = text(", ".join(dict.fromkeys(op_symbol(m) for m in box.members if parents(m))))
        title, what = ((f"{len(box.members)} more ops", f"on the outputs: {symbols}") if box.what == "tail"
                       else (f"{len(box.members)} ops on the parameters", f"{symbols} (a regularizer?)"))
        return table([f"<B>{title}</B>", f'<FONT POINT-SIZE="9">{what}</FONT>',
                      f"data {fmt(box.members[-1].data, d)} | {grad_row(box.members[-1], d)}"],
                     fill=fill, border=border)
    if box.what == "inputs" and box.inputs:
        shown = ", ".join(fmt(x, d) for x in box.inputs) if len(box.inputs) <= 4 else _span(box.inputs, d)
        return table([f"<B>inputs</B> <I>({len(box.inputs)} numbers)</I>", f"data {shown}"],
                     fill=fill, border=BORDERS["input"])
    if box.what == "inputs":
        rows = [f"<B>inputs</B> <I>({len(box.members)} values)</I>",
                f"data {_span([as_float(m.data) for m in box.members], d)}",
                f"grad {_span([grads(m) for m in box.members], d)}"]
        return table(rows, fill=fill, border=BORDERS["input"])
    act = next((op_symbol(m) for m in outputs if op_name(m) in ACTIVATIONS), "")
    formula = f"{act}(w·x + b)" if act else "w·x + b"
    if box.what == "neuron":  # compact: a layer of 16 of these side by side must still fit a cell
        short = min(d, 3)
        return table([f"<B>{box_title(box)}</B>", f"out {fmt(outputs[-1].data, short)}",
                      grad_row(outputs[-1], short)], fill=fill, border=border)
    rows = [f"<B>layer {box.layer + 1}</B>",
            f'<FONT POINT-SIZE="9">{len(box.neurons)} neuron{"s" * (len(box.neurons) > 1)}: {formula}</FONT>',
            f"data {_span([as_float(m.data) for m in outputs], d)}",
            f"grad {_span([grads(m) for m in outputs], d)}"]
    if box.params:
        biggest = max(abs(grads(p)) for p in box.params)
        rows.append(f'<FONT POINT-SIZE="9">{len(box.params)} params, max |grad| {fmt(biggest, d)}</FONT>')
    return table(rows, fill=fill, border=border)


def _box_hover(box: Box, names: dict[Node, str], grads: Any, digits: int) -> list[str]:
    """A box's tooltip: what it computes, and its parameters' grads (the first few)."""
    lines = [f"{box_title(box)}: {len(box.members)} nodes"]
    for out in box_outputs(box)[:4]:
        lines.append(f"{names[out]} = {fmt(out.data, digits)}, grad {fmt(grads(out), digits)}")
    for p in sorted(box.params, key=lambda p: names[p])[:8]:
        lines.append(f"{names[p]}: data {fmt(p.data, digits)}, grad {fmt(grads(p), digits)}")
    if len(box.params) > 8:
        lines.append(f"... and {len(box.params) - 8} more parameters")
    return lines


def _advice(laid: Plan, mode: str) -> str:
    """How to make a collapsed drawing smaller: only what is not already done."""
    examples = len({box.row for box in laid.boxes if box.what in ("neuron", "layer") and box.layer == 0})
    advice = [f"draw the loss of fewer examples (this one has {examples})"] * (examples > 1)
    advice += ["use collapse='layer'"] * (mode == "neuron")
    if len(laid.loose) > len(laid.boxes):
        advice.append(f"compute less outside the model ({len(laid.loose)} nodes are in no neuron)")
    advice.append("raise max_nodes")
    joined = ", ".join(advice[:-1]) + " or " * (len(advice) > 1) + advice[-1]
    return joined[0].upper() + joined[1:] + "."


def draw_collapsed(root: Node, order: list[Node], opts: DrawOptions, mode: str,
                   moment: Moment | None = None, laid: Plan | None = None) -> Drawing:
    """The drawing with boxes for neurons (or layers) and their parameters folded in; with a
    stepper `moment`, the box being processed (`moment.lit`) and its input edges lit."""
    model = opts.params
    if not hasattr(model, "parameters"):
        neuron_map(model)  # raises the explanation
    laid = laid or plan(order, model, mode, opts.hide_constants)
    if laid.size() > opts.max_nodes:
        raise ValueError(f"draw_dot: collapsed per {mode}, the graph still has {laid.size()} nodes "
                         f"(max_nodes={opts.max_nodes}). {_advice(laid, mode)}")
    # no numbers on edges: an edge label makes dot give every edge a node of its own, which spreads
    # the hundreds of layer-to-layer edges over a drawing tens of metres wide
    opts = opts.but(show_local=False)
    ids, names = node_ids(order), node_names(order, opts.digits, model)
    values = moment.grads if moment is not None else None

    def grads(node: Node) -> float:
        return as_float(values[node] if values is not None and node in values else node.grad)

    by_grad = use_grad_colours(opts, order, moment)
    scale = moment.scale if moment is not None else grad_scale(
        [*laid.loose, *(box.members[-1] for box in laid.boxes if box.what == "neuron")], root)
    lit = moment.lit if moment is not None else frozenset()
    dot = new_drawing(opts)
    # layer-to-layer edges: straight, thin, from the bottom of one box to the top of the next,
    # so that a dense layer looks like the textbook picture of a network
    dot.attr(splines="line", ranksep="0.8" if mode == "neuron" else "0.5", nodesep="0.1")
    tail, head = ("s", "n") if opts.direction in ("TB", "BT") else ("e", "w")
    if opts.direction in ("BT", "RL"):
        tail, head = head, tail
    thin = {"tailport": tail, "headport": head, "penwidth": "0.6", "arrowsize": "0.4", "color": "#8c8c8c"}

    def source(parent: Node) -> str | None:
        if parent in laid.hidden:
            return None
        box = laid.box_of.get(parent)
        return box.id if box is not None else ids[parent]

    lit_boxes = {laid.box_of[n].id for n in lit if n in laid.box_of}
    for box in laid.boxes:
        last = box.members[-1]
        fill = grad_fill(grads(last), scale) if by_grad and box.what == "neuron" else KIND_FILLS[""]
        border = BORDERS["input"] if box.what == "inputs" else (
            ("#2166ac", 2, "ROUNDED") if box.what in ("neuron", "layer") else BORDERS[""])
        if box.id in lit_boxes:
            border = (HIGHLIGHT, 4, border[2])
        dot.node(box.id, _box_label(box, opts, fill, grads, border, moment), shape="plain",
                 tooltip=tooltip(_box_hover(box, names, grads, opts.digits)))
    rows: dict[int, list[Box]] = {}
    for box in laid.boxes:
        if box.what == "neuron":
            rows.setdefault(box.row, []).append(box)
    for row in rows.values():  # a layer's neurons side by side, in order: neuron 1, 2, 3, ...
        row.sort(key=lambda b: min(b.neurons))
        with dot.subgraph() as same:
            same.attr(rank="same")
            for left, right in zip(row, row[1:]):
                same.edge(left.id, right.id, style="invis")
    for node in laid.loose:
        kind = kind_of(node, root, opts.param_set)
        fill = node_fill(opts, by_grad, kind, grads(node), scale)
        current = moment is not None and node is moment.current
        draw_value(dot, ids[node], node, kind, names[node], grads(node), fill, opts.digits, moment,
                   hover=[f"{names[node]}: data {fmt(node.data)}, grad {fmt(grads(node))}"])
        if parents(node):
            draw_op(dot, node, ids[node] + "op", source, opts, current, set(parents(node)), grads(node),
                    names)
            dot.edge(ids[node] + "op", ids[node])
    drawn: set[tuple[str, str]] = set()
    for box in laid.boxes:  # edges into boxes, each once
        for member in box.members:
            for parent in parents(member):
                start = source(parent)
                if start is not None and start != box.id and (start, box.id) not in drawn:
                    drawn.add((start, box.id))
                    attrs = dict(thin, color=HIGHLIGHT, penwidth="2") if box.id in lit_boxes else thin
                    dot.edge(start, box.id, **attrs)
    parts = [ledger_table(moment)] if moment is not None and moment.ledger else []
    if opts.legend:
        parts.append(legend_table(by_grad, scale, names[root], bool(opts.params), opts.show_local))
    boxes = f"one box per {mode} (collapse={mode!r}); the parameters are inside the boxes"
    caption = moment.caption if moment is not None and moment.caption else (
        f"{opts.caption} ({boxes})" if opts.caption else boxes)
    finish(dot, caption, parts)
    return dot
