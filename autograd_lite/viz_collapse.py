"""Drawing a big graph with one box per neuron or per layer of an MLP (used by `viz.draw_dot`).

A neuron's computation is found in the graph from its parameters, in one pass
in topological order:

* a `w·x+b` (dot) node whose parameters all belong to one neuron is that
  neuron's weighted sum (autograd_lite's Neuron makes one),
* a `*` node with exactly one of the neuron's parameters as an input starts
  (or continues) the neuron's weighted sum (micrograd's Neuron, or one written by hand),
* a `+`/`sum` node whose inputs are all parts of that sum or the neuron's
  own parameters (the bias) continues it,
* an activation (tanh, sigmoid, relu, leaky_relu) of the sum ends it.

Each evaluation of a neuron (one per example) becomes one box; for
collapse="layer", the evaluations of one layer's neurons that read the same
inputs become one box. A model is anything with `.layers`, each with
`.neurons`, each with `.parameters()` (as micrograd's and autograd_lite's MLP).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd_lite.engine import Constant, Value
from autograd_lite.viz import (
    BORDERS,
    KIND_FILLS,
    Drawing,
    Options,
    draw_op,
    draw_value,
    finish,
    fmt,
    grad_fill,
    grad_scale,
    kind_of,
    legend_table,
    new_drawing,
    node_ids,
    node_names,
    table,
    use_grad_colours,
)

ACTIVATIONS = frozenset({"tanh", "sigmoid", "relu", "leaky_relu"})
MAX_LOOSE_INPUTS = 6  # more inputs than this into one layer are drawn as one "inputs" box
MAX_LOOSE_TAIL = 8  # more ops than this after the model's outputs (a loss) are drawn as one box


def neuron_map(model: Any) -> dict[Value, tuple[int, int]]:
    """parameter -> (layer index, neuron index), from a model's .layers[i].neurons[j].parameters()."""
    layers = getattr(model, "layers", None)
    if layers is None and hasattr(model, "neurons"):
        layers = [model]  # a single layer
    if layers is None:
        raise ValueError("collapse needs to know the neurons: pass the model as params, e.g. "
                         "draw_dot(loss, params=model, collapse='neuron'), where the model has .layers, "
                         "each with .neurons, each with .parameters() (like an MLP)")
    return {p: (li, ni) for li, layer in enumerate(layers)
            for ni, neuron in enumerate(layer.neurons) for p in neuron.parameters()}


class _Groups:
    """Union-find over node positions; a group is named by its earliest member."""

    def __init__(self, n: int) -> None:
        self.up = list(range(n))

    def find(self, i: int) -> int:
        while self.up[i] != i:
            self.up[i] = self.up[self.up[i]]
            i = self.up[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.up[max(a, b)] = min(a, b)


@dataclass
class Box:
    """One drawn box standing for many nodes."""

    id: str
    what: str  # "neuron", "layer", "inputs" or "tail" (what is computed from the model's outputs)
    layer: int = 0
    neurons: set[int] = field(default_factory=set)
    members: list[Value] = field(default_factory=list)
    params: set[Value] = field(default_factory=set)
    inputs: list[float] = field(default_factory=list)  # an inputs box of plain numbers: their values
    row: int = -1  # a neuron box: which evaluation of its layer it belongs to


@dataclass
class Plan:
    """Where every node goes: into a box, drawn on its own, or hidden."""

    box_of: dict[Value, Box]
    boxes: list[Box]
    loose: list[Value]  # nodes drawn on their own
    hidden: set[Value]

    def size(self) -> int:
        return len(self.boxes) + sum(1 + bool(n._prev) for n in self.loose)


def plan(order: Sequence[Value], model: Any, mode: str, hide_constants: bool) -> Plan:
    if mode not in ("neuron", "layer"):
        raise ValueError(f"collapse={mode!r}: use 'neuron' or 'layer'")
    owner = neuron_map(model)
    index = {node: i for i, node in enumerate(order)}
    neuron_groups, layer_groups = _Groups(len(order)), _Groups(len(order))
    neuron_of: dict[Value, tuple[int, int]] = {}
    ended: set[Value] = set()  # activations: the sum is over
    readers: dict[tuple[int, Value], int] = {}  # (layer, input node) -> first mul reading it
    for i, node in enumerate(order):
        rule = node._rule.name if node._rule is not None else ""
        if rule == "mul":
            weights = [p for p in node._prev if p in owner]
            if len(weights) == 1:
                neuron_of[node] = owner[weights[0]]
                for x in node._prev:
                    if x is not weights[0]:  # neurons of a layer that read the same input: one layer box
                        key = (owner[weights[0]][0], x)
                        layer_groups.union(readers.setdefault(key, i), i)
        elif rule == "dot":
            owners = {owner[p] for p in node._prev if p in owner}
            if len(owners) == 1:
                neuron_of[node] = owners.pop()
                for x in node._prev:
                    if x not in owner:  # neurons of a layer that read the same input: one layer box
                        layer_groups.union(readers.setdefault((neuron_of[node][0], x), i), i)
        elif rule in ("add", "sum"):
            owners, inside = set(), []
            for p in node._prev:
                if p in owner:
                    owners.add(owner[p])
                elif p in neuron_of and p not in ended:
                    owners.add(neuron_of[p])
                    inside.append(p)
                else:
                    break
            else:
                if inside and len(owners) == 1:
                    neuron_of[node] = owners.pop()
                    for p in inside:
                        neuron_groups.union(index[p], i)
        elif rule in ACTIVATIONS and node._prev[0] in neuron_of and node._prev[0] not in ended:
            neuron_of[node] = neuron_of[node._prev[0]]
            ended.add(node)
            neuron_groups.union(index[node._prev[0]], i)
    read_by: dict[int, int] = {}  # neuron evaluation -> an earlier neuron output it reads
    for node in neuron_of:  # a layer box holds whole neuron evaluations ...
        layer_groups.union(index[node], neuron_groups.find(index[node]))
        if node._rule is not None and node._rule.name in ("mul", "dot"):  # ... and the outputs it reads
            for x in node._prev:  # (inputs that are plain numbers are never shared, so this is needed)
                if x in neuron_of:
                    reader = neuron_groups.find(index[node])
                    layer_groups.union(read_by.setdefault(reader, index[x]), index[x])
    groups = neuron_groups if mode == "neuron" else layer_groups

    box_of: dict[Value, Box] = {}
    boxes: dict[int, Box] = {}
    for node, (layer, neuron) in neuron_of.items():
        root = groups.find(index[node])
        box = boxes.get(root) or boxes.setdefault(root, Box(f"g{root}", mode, layer,
                                                            row=layer_groups.find(index[node])))
        box.members.append(node)
        box.neurons.add(neuron)
        box_of[node] = box
    children: dict[Value, list[Value]] = {}
    for node in order:
        for p in node._prev:
            children.setdefault(p, []).append(node)
    _box_params_only(order, owner, box_of, boxes)
    hidden: set[Value] = set()
    for p in owner:  # a parameter used only inside boxes is part of them
        kids = children.get(p, [])
        if p in index and kids and all(k in box_of for k in kids):
            hidden.add(p)
            for k in kids:
                box_of[k].params.add(p)
    if hide_constants:
        hidden.update(n for n in order if isinstance(n, Constant))
    _box_inputs(order, children, box_of, boxes, hidden, layer_groups, index, neuron_of)
    _box_tail(order, box_of, boxes, hidden)
    loose = [n for n in order if n not in box_of and n not in hidden]
    ordered = [boxes[key] for key in sorted(boxes)]  # inputs (negative keys) first, then by position
    return Plan(box_of, ordered, loose, hidden)


def _box_params_only(order: Sequence[Value], owner: dict[Value, tuple[int, int]], box_of: dict[Value, Box],
                     boxes: dict[int, Box]) -> None:
    """What is computed from the parameters and constants alone (a regularizer such as
    1e-4 * sum(p*p for p in params)) as one box, so that its parameters can hide inside boxes."""
    only: list[Value] = []
    seen: set[Value] = set()
    for node in order:
        if node._prev and node not in box_of and all(
                p in owner or p in seen or (isinstance(p, Constant) and not p._prev) for p in node._prev):
            seen.add(node)
            only.append(node)
    if only:
        key = order.index(only[0])  # a node in no neuron, so no neuron box has this key
        box = boxes[key] = Box(f"r{key}", "params", members=only)
        for node in only:
            box_of[node] = box


def _box_inputs(order: Sequence[Value], children: dict[Value, list[Value]], box_of: dict[Value, Box],
                boxes: dict[int, Box], hidden: set[Value], layer_groups: _Groups,
                index: dict[Value, int], neuron_of: dict[Value, tuple[int, int]]) -> None:
    """The data a layer reads, as one 'inputs' box: plain numbers (model([0.5, -0.5]) makes a
    constant per weight that reads them) and, when there are many (64 pixels), Values too."""
    feeding: dict[tuple[int, bool], list[Value]] = {}
    box_params = {p for box in boxes.values() for p in box.params}
    for node in order:
        kids = children.get(node, [])
        if node._prev or not kids or not all(k in neuron_of for k in kids) or node in box_params:
            continue
        layers = {layer_groups.find(index[k]) for k in kids}
        if len(layers) == 1:
            feeding.setdefault((layers.pop(), isinstance(node, Constant)), []).append(node)
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


def _box_tail(order: Sequence[Value], box_of: dict[Value, Box], boxes: dict[int, Box],
               hidden: set[Value]) -> None:
    """What is computed from the model's outputs (a cross-entropy's exp, sum, log, ...) as one box,
    when it is more than a few ops; the root stays a box of its own."""
    root, after = order[-1], set()
    for node in order:
        if node is not root and node not in box_of and any(p in box_of or p in after for p in node._prev):
            after.add(node)
    tail = [n for n in order if n in after]
    if len(tail) > MAX_LOOSE_TAIL:
        box = Box(f"t{len(order)}", "tail", members=tail)
        boxes[len(order)] = box
        for node in tail:
            box_of[node] = box
            hidden.discard(node)


def collapse_sizes(order: Sequence[Value], model: Any, hide_constants: bool) -> dict[str, int]:
    """How many nodes the drawing would have, collapsed per neuron and per layer."""
    return {mode: plan(order, model, mode, hide_constants).size() for mode in ("neuron", "layer")}


def _span(values: list[float], digits: int) -> str:
    low, high = min(values), max(values)
    return fmt(low, digits) if low == high else f"{fmt(low, digits)} … {fmt(high, digits)}"


def _box_label(box: Box, opts: Options, fill: str) -> str:
    outputs = [m for m in box.members if m._rule is None or m._rule.name in ACTIVATIONS
               or not any(m in other._prev for other in box.members)]
    if box.what == "tail":
        symbols = list(dict.fromkeys(m._rule.symbol for m in box.members if m._rule is not None))
        return table([f"<B>{len(box.members)} more ops</B>",
                      f'<FONT POINT-SIZE="9">on the outputs: {html.escape(", ".join(symbols))}</FONT>'],
                     fill=fill, border=BORDERS[""])
    if box.what == "params":
        symbols = list(dict.fromkeys(m._rule.symbol for m in box.members if m._rule is not None))
        return table([f"<B>{len(box.members)} ops on the parameters</B>",
                      f'<FONT POINT-SIZE="9">{html.escape(", ".join(symbols))} (a regularizer?)</FONT>',
                      f"data {fmt(box.members[-1].data, opts.digits)}"],
                     fill=fill, border=BORDERS[""])
    if box.what == "inputs" and box.inputs:
        shown = ", ".join(fmt(x, opts.digits) for x in box.inputs) if len(box.inputs) <= 4 \
            else _span(box.inputs, opts.digits)
        return table([f"<B>inputs</B> <I>({len(box.inputs)} numbers)</I>", f"data {shown}"],
                     fill=fill, border=BORDERS["input"])
    if box.what == "inputs":
        rows = [f"<B>inputs</B> <I>({len(box.members)} values)</I>",
                f"data {_span([m.data for m in box.members], opts.digits)}",
                f"grad {_span([m.grad for m in box.members], opts.digits)}"]
        return table(rows, fill=fill, border=BORDERS["input"])
    act = next((m._rule.symbol for m in outputs if m._rule is not None and m._rule.name in ACTIVATIONS), "")
    formula = f"{act}(w·x + b)" if act else "w·x + b"
    if box.what == "neuron":  # compact: a layer of 16 of these side by side must still fit
        (neuron,) = box.neurons
        return table([f"<B>layer {box.layer + 1} · neuron {neuron + 1}</B>",
                      f"{fmt(outputs[-1].data, opts.digits)} | grad {fmt(outputs[-1].grad, opts.digits)}"],
                     fill=fill, border=("#2166ac", 2, "ROUNDED"))
    rows = [f"<B>layer {box.layer + 1}</B>",
            f'<FONT POINT-SIZE="9">{len(box.neurons)} neuron{"s" * (len(box.neurons) > 1)}: {formula}</FONT>',
            f"data {_span([m.data for m in outputs], opts.digits)}",
            f"grad {_span([m.grad for m in outputs], opts.digits)}"]
    if box.params:
        biggest = max(abs(p.grad) for p in box.params)
        rows.append(f'<FONT POINT-SIZE="9">{len(box.params)} params, max |grad| {fmt(biggest, opts.digits)}'
                    "</FONT>")
    return table(rows, fill=fill, border=("#2166ac", 2, "ROUNDED"))


def _advice(laid: Plan, mode: str) -> str:
    """How to make a collapsed drawing smaller: only what is not already done."""
    examples = len({box.row for box in laid.boxes if box.what in ("neuron", "layer") and box.layer == 0})
    advice = [f"draw the loss of fewer examples (this one has {examples})"] * (examples > 1)
    advice += ["use collapse='layer'"] * (mode == "neuron")
    if len(laid.loose) > len(laid.boxes):
        advice.append(f"compute less outside the model ({len(laid.loose)} nodes are in no neuron)")
    advice.append("raise max_nodes")
    text = ", ".join(advice[:-1]) + " or " * (len(advice) > 1) + advice[-1]
    return text[0].upper() + text[1:] + "."


def draw_collapsed(root: Value, order: list[Value], opts: Options, model: Any, mode: str,
                   max_nodes: int) -> Drawing:
    """The drawing with boxes for neurons (or layers) and their parameters folded in."""
    if not hasattr(model, "parameters"):
        neuron_map(model)  # raises the explanation
    laid = plan(order, model, mode, opts.hide_constants)
    if laid.size() > max_nodes:
        raise ValueError(f"draw_dot: collapsed per {mode}, the graph still has {laid.size()} nodes "
                         f"(max_nodes={max_nodes}). {_advice(laid, mode)}")
    # no numbers on edges: an edge label makes dot give every edge a node of its own, which spreads
    # the hundreds of layer-to-layer edges over a drawing tens of metres wide
    opts.show_local = False
    ids, names = node_ids(order), node_names(order, opts.digits, model)
    by_grad = use_grad_colours(opts, order, None)
    scale = grad_scale([*laid.loose, *(box.members[-1] for box in laid.boxes if box.what == "neuron")], root)
    dot = new_drawing(opts)
    # layer-to-layer edges: straight, thin, from the bottom of one box to the top of the next,
    # so that a dense layer looks like the textbook picture of a network
    dot.attr(splines="line", ranksep="0.8" if mode == "neuron" else "0.5")
    tail, head = ("s", "n") if opts.rankdir in ("TB", "BT") else ("e", "w")
    if opts.rankdir in ("BT", "RL"):
        tail, head = head, tail
    thin = {"tailport": tail, "headport": head, "penwidth": "0.6", "arrowsize": "0.4", "color": "#8c8c8c"}

    def source(parent: Value) -> str | None:
        if parent in laid.hidden:
            return None
        box = laid.box_of.get(parent)
        return box.id if box is not None else ids[parent]

    for box in laid.boxes:
        last = box.members[-1]
        fill = grad_fill(last.grad, scale) if by_grad and box.what == "neuron" else KIND_FILLS[""]
        dot.node(box.id, _box_label(box, opts, fill), shape="plain")
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
        kind = kind_of(node, root, opts.params)
        fill = grad_fill(node.grad, scale if node is not root else abs(node.grad)) if by_grad else (
            KIND_FILLS[kind] if opts.color != "none" else "#ffffff")
        draw_value(dot, ids[node], node, kind, names[node], node.grad, fill, opts.digits)
        if node._prev:
            draw_op(dot, node, ids[node] + "op", source, opts)
            dot.edge(ids[node] + "op", ids[node])
    drawn: set[tuple[str, str]] = set()
    for box in laid.boxes:  # edges into boxes, each once
        for member in box.members:
            for parent in member._prev:
                start = source(parent)
                if start is not None and start != box.id and (start, box.id) not in drawn:
                    drawn.add((start, box.id))
                    dot.edge(start, box.id, **thin)
    parts = [legend_table(by_grad, scale, names[root], bool(opts.params), opts.show_local)] * opts.legend
    finish(dot, f"one box per {mode} (collapse={mode!r}); the parameters are inside the boxes", parts)
    return dot
