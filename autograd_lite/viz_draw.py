"""The drawing of a graph: one box per Value and one small node per op, or collapsed.

`draw_graph` is what `draw_dot`, the stepper and the HTML page call: it takes one
`DrawOptions`, and optionally a stepper `Moment` (the grads at one step and the node
being processed). Graphs above `max_nodes` are collapsed into one box per neuron or
layer when the model is known, or refused with a message that says what to do.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from autograd_lite.viz_base import (
    Drawing,
    DrawOptions,
    Moment,
    draw_op,
    draw_value,
    finish,
    grad_scale,
    kind_of,
    ledger_table,
    legend_table,
    new_drawing,
    node_fill,
    tooltip,
    use_grad_colours,
)
from autograd_lite.viz_collapse import collapse_sizes, draw_collapsed
from autograd_lite.viz_names import fmt, forward_line, node_ids, node_names
from autograd_lite.viz_nodes import (
    Node,
    as_float,
    has_rule,
    is_constant,
    local_derivatives,
    op_symbol,
    order_of,
    parents,
)

DEFAULT = DrawOptions()


def draw_graph(root: Node, options: DrawOptions = DEFAULT, *, moment: Moment | None = None,
               order: list[Node] | None = None, **changes: Any) -> Drawing:
    """The drawing of `root`'s graph with `options` (and `changes` to them, e.g. color="kind")."""
    opts = options.but(**changes) if changes else options
    order = order if order is not None else order_of(root)
    if opts.collapse is not None:
        return draw_collapsed(root, order, opts, opts.collapse, moment)
    size = count_drawn(order, opts.hide_constants)
    if size <= opts.max_nodes:
        return draw_nodes(root, order, opts, moment)
    if moment is not None or not hasattr(opts.params, "parameters"):
        raise ValueError(_too_big(root, size, opts.max_nodes, stepping=moment is not None))
    sizes = collapse_sizes(order, opts.params, opts.hide_constants)
    collapse = next((mode for mode in ("neuron", "layer") if sizes[mode] <= opts.max_nodes), None)
    if collapse is None:
        raise ValueError(_too_big(root, size, opts.max_nodes, sizes))
    warnings.warn(f"draw_dot: the graph has {size} nodes (max_nodes={opts.max_nodes}); drawn with "
                  f"collapse={collapse!r}, one box per {collapse}", stacklevel=3)
    return draw_collapsed(root, order, opts.but(collapse=collapse), collapse)


def count_drawn(order: Sequence[Node], hide_constants: bool) -> int:
    """How many boxes and op nodes an uncollapsed drawing has."""
    return sum(1 + bool(parents(n)) for n in order if not (hide_constants and is_constant(n)))


def _too_big(root: Node, size: int, max_nodes: int, sizes: Mapping[str, int] | None = None,
             stepping: bool = False) -> str:
    start = (f"draw_dot: the graph of {getattr(root, 'label', '') or 'the root'} (= {fmt(root.data)}) has "
             f"{size} drawn boxes (Values and ops), more than max_nodes={max_nodes}: Graphviz would take "
             "very long and the picture would be unreadable.")
    if stepping:
        return (f"{start} Step it collapsed (Stepper(loss, params=model, collapse='neuron')), step a "
                "smaller graph, or raise max_nodes.")
    if sizes is not None:
        return (f"{start} Even one box per neuron or per layer would leave {sizes['neuron']} or "
                f"{sizes['layer']} nodes. Draw the loss of one example (or a few), or raise max_nodes.")
    return (f"{start} Draw a smaller graph (e.g. the loss of one example), pass the model to draw one box "
            "per neuron or layer (draw_dot(loss, params=model, collapse='layer')), or raise max_nodes.")


def hover_lines(node: Node, kind: str, names: Mapping[Node, str], grad: float, digits: int) -> list[str]:
    """A node's tooltip: what it is, how it was computed, its data, grad and local derivatives."""
    name = names[node]
    if not parents(node):
        what = {"param": "a parameter (learned)", "input": "an input (data)", "output": "the output"}
        lines = [f"{name}: {what.get(kind, 'a leaf')}"]
    else:
        lines = [forward_line(node, dict(names), digits), f"op {op_symbol(node)}"]
    lines += [f"data {fmt(node.data, digits)}", f"grad {fmt(grad, digits)}"]
    local = local_derivatives(node)
    for i, parent in enumerate(parents(node)):
        if local is not None and not is_constant(parent):
            lines.append(f"∂{name}/∂{names[parent]} = {fmt(local[i], digits)}")
    if parents(node) and local is None:
        lines.append(f"local derivatives: in {name}._backward()")
    return lines


def draw_nodes(root: Node, order: list[Node], opts: DrawOptions, moment: Moment | None) -> Drawing:
    """One box per Value and one small node per op (the uncollapsed drawing)."""
    ids, names = node_ids(order), node_names(order, opts.digits, opts.params)
    shown = [n for n in order if not (opts.hide_constants and is_constant(n))]
    grads = moment.grads if moment is not None else {n: as_float(n.grad) for n in order}
    by_grad = use_grad_colours(opts, shown, moment)
    scale = moment.scale if moment is not None else grad_scale(shown, root)
    dot = new_drawing(opts)
    current = moment.current if moment is not None else None
    current_edges = set(parents(current)) if current is not None else set()
    for node in shown:
        kind = kind_of(node, root, opts.param_set)
        grad = grads.get(node, as_float(node.grad))
        fill = node_fill(opts, by_grad, kind, grad, scale)
        draw_value(dot, ids[node], node, kind, names[node], grad, fill, opts.digits, moment,
                   hover=hover_lines(node, kind, names, grad, opts.digits))
        if parents(node):
            draw_op(dot, node, ids[node] + "op", ids.get, opts, node is current, current_edges, grad, names,
                    moment.added if moment is not None and node is current else None)
            dot.edge(ids[node] + "op", ids[node], tooltip=tooltip([f"{op_symbol(node)} → {names[node]}"]))
    parts = [ledger_table(moment)] if moment is not None and moment.ledger else []
    if opts.legend:
        ruled = opts.show_local and any(has_rule(n) for n in shown)  # a foreign graph has no ∂ to explain
        parts.append(legend_table(by_grad, scale, names[root], bool(opts.params), ruled))
    finish(dot, moment.caption if moment is not None and moment.caption else opts.caption, parts)
    return dot


__all__ = ["DEFAULT", "count_drawn", "draw_graph", "draw_nodes", "hover_lines"]
