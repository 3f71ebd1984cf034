"""Drawing a graph of Values: labels, data and grads, with the chain rule on the edges.

    >>> from autograd_lite.viz import draw_dot, save
    >>> dot = draw_dot(loss)        # a graphviz.Digraph: shows inline in Jupyter (SVG)
    >>> save(dot, "loss.png", dpi=200)  # .svg .png .pdf (rendered by Graphviz's `dot`) or .dot/.gv

Every Value is a box with its label, data and grad; every op is a small node of
its own; the number on an edge is the op's local derivative d(output)/d(input),
read from the op's rule (`engine.local_grads`), never written again here. Fill colour
shows the gradient (blue > 0, red < 0, darker = larger); the border shows what
a leaf is (parameter, input) and which node is the output. Hovering a box or an
edge shows its formula, data, grad and local derivative.

Any micrograd-style node can be drawn (the lecture's `Value`, micrograd's own):
`.data`, `.grad`, `._prev`, `._op`, and `.label` if it has one.

The drawing code is layered, each module importing only those below it:
`viz_nodes` (reading any node), `viz_neurons` (finding an MLP's neurons),
`viz_names` (numbers and names), `viz_base` (the Graphviz wrapper, options,
colours, boxes), `viz_collapse` (one box per neuron or layer), `viz_draw` (the
drawing), `stepper_steps` and `stepper` (backward one step at a time), and this
module, the public entry point.
"""

from __future__ import annotations

from typing import Any

from autograd_lite.stepper import Stepper
from autograd_lite.viz_base import (
    BORDERS,
    HIGHLIGHT,
    KIND_FILLS,
    MAX_NODES,
    NEGATIVE,
    POSITIVE,
    Drawing,
    DrawOptions,
    GraphvizNotFound,
    Moment,
    grad_fill,
    grad_scale,
    save,
)
from autograd_lite.viz_draw import count_drawn, draw_graph
from autograd_lite.viz_names import fmt, node_ids, node_names
from autograd_lite.viz_nodes import Node, check_node


def draw_dot(root: Node, rankdir: str | None = None, *, params: Any = None, color: str = "auto",
             show_local: bool = True, hide_constants: bool = True, legend: bool = True,
             collapse: str | None = None, max_nodes: int = MAX_NODES, step: int | None = None,
             digits: int = 4, caption: str = "", format: str = "svg") -> Drawing:
    """Draw the graph that computed `root` (an autograd_lite Value or any micrograd-style one).

    rankdir:  "LR" (left to right, the default) or "TB" (top to bottom; the default for collapse="neuron").
    params:   a model (anything with `.parameters()`) or a list of Values: drawn as parameters
              (green rounded border); the other leaves as inputs (dashed). Needed for `collapse`;
              a model also names the nodes after its neurons (`L2N3.z`, `L2N3.out`).
    color:    "grad" (blue > 0, red < 0, darker = larger |grad|), "kind" (by node kind), "none",
              or "auto" (grad once any grad is non-zero).
    show_local: write each op's local derivative d(output)/d(input) on its input edges.
    hide_constants: fold plain numbers (the 2 in 2*x) into their op's label.
    collapse: "neuron" or "layer" (one box per neuron / layer of an MLP passed as `params`).
              Graphs above `max_nodes` are collapsed automatically when possible, else refused.
    step:     draw the backward pass as it stands after step `step` (see `autograd_lite.stepper`;
              with collapse=, one step per box); the graph's own grads are left as they were.
    caption:  a line of text under the drawing.
    format:   what `render()` writes ("svg", "png", "pdf", ...), as micrograd's draw_dot(root, format=).
    """
    check_node(root, "draw_dot")
    options = DrawOptions(rankdir=rankdir, params=params, color=color, show_local=show_local,
                          hide_constants=hide_constants, legend=legend, collapse=collapse,
                          max_nodes=max_nodes, digits=digits, caption=caption)
    if step is not None:
        stepper = Stepper(root, keep_grads=False, params=params, collapse=collapse)
        drawing = stepper.draw(step, options.but(color="grad" if color == "auto" else color))
    else:
        drawing = draw_graph(root, options)
    drawing.format = format  # (graphviz checks the name)
    return drawing


__all__ = ["BORDERS", "HIGHLIGHT", "KIND_FILLS", "MAX_NODES", "NEGATIVE", "POSITIVE", "DrawOptions",
           "Drawing", "GraphvizNotFound", "Moment", "count_drawn", "draw_dot", "draw_graph", "fmt",
           "grad_fill", "grad_scale", "node_ids", "node_names", "save"]
