"""Backward, one node at a time: see every application of the chain rule.

    >>> from autograd_lite.stepper import Stepper, backward_steps, explain
    >>> for step in backward_steps(loss):      # performs backward, like loss.backward()
    ...     print(step.ledger())
    >>> stepper = Stepper(loss)                 # the same, kept: draw any step, or play them in HTML
    >>> stepper.draw(3)                         # the graph after step 3, that node highlighted
    >>> stepper                                 # in Jupyter: Prev/Next buttons and a slider
    >>> stepper.save("backward.html")           # one self-contained file, no network needed
    >>> explain(loss, w1)                       # every path from w1 to loss, multiplied out
    >>> Stepper(loss, params=model, collapse="neuron")   # one neuron box per step
    >>> stepper.save_frames("frames/"); stepper.save_gif("backward.gif")

Nothing here knows a derivative: `engine.backpropagate` applies the chain rule
(`parent.grad += local * node.grad`) and the local derivatives come from the
ops' rules (or a micrograd-style node's own `_backward()`). This module only
records and shows what happened.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograd_lite.stepper_html import stepper_html
from autograd_lite.stepper_steps import BoxStep, Step, backward_steps, group_steps
from autograd_lite.viz_base import Drawing, DrawOptions, GraphvizNotFound, Moment, grad_scale, save
from autograd_lite.viz_collapse import box_title, plan
from autograd_lite.viz_draw import draw_graph
from autograd_lite.viz_names import fmt, forward_line, node_names, ref
from autograd_lite.viz_nodes import (
    Node,
    as_float,
    is_constant,
    local_derivatives,
    order_of,
    parents,
)

MAX_PATHS = 200  # explain() refuses graphs with more paths than this: the list would be unreadable
STEP_MAX_NODES = 2500  # a step's picture: micrograd's demo network (MLP(2, [16, 16, 1]), ~1,000 boxes) fits
FRAME_FORMATS = ("png", "svg")


class Stepper:
    """The backward pass of `root`, one step per node, kept so that any step can be drawn or played.

    Making a Stepper sets every grad of the graph to 0 (`zero_grad=False`: leaves keep theirs
    and accumulate, as with backward()) and runs backward once, so the graph then holds the
    grads of one clean `root.backward()`; `keep_grads=False` puts every grad back as it was.
    Pictures are drawn only when asked for (`draw(k)`, `save_frames`), so big graphs step fast.

    collapse="neuron" or "layer" (with the model as `params`): one step per neuron (or layer)
    box, whose picture lights the box and whose ledger says what it passed to each input and
    parameter (summarised for a layer). Any micrograd-style node works (see `backward_steps`).
    """

    def __init__(self, root: Node, grad: float = 1.0, *, params: Any = None, zero_grad: bool = True,
                 keep_grads: bool = True, collapse: str | None = None) -> None:
        self.root = root
        self.params = params
        self.collapse = collapse
        self.options = DrawOptions(params=params, color="grad", collapse=collapse, max_nodes=STEP_MAX_NODES)
        self.order = order_of(root)
        self.names = node_names(self.order, params=params)
        saved = {node: node.grad for node in self.order}
        if zero_grad:
            for node in self.order:
                node.grad = 0.0
        # the grads as backward starts (interior ones 0, leaves keep theirs), and the root's after the seed
        self.initial = {node: (0.0 if parents(node) else as_float(node.grad)) for node in self.order}
        self.seed = float(grad)
        self.seeded = self.initial[root] + self.seed
        self.node_steps: list[Step] = list(backward_steps(root, grad))
        self.final_grads = {node: as_float(node.grad) for node in self.order}
        self.plan = plan(self.order, params, collapse, True) if collapse is not None else None
        self.steps: list[Step] | list[BoxStep] = self.node_steps if self.plan is None else group_steps(
            self.node_steps, self.plan, self.initial, (root, self.seeded))
        self.scale = self.scale_for(hide_constants=True)
        if not keep_grads:
            for node, value in saved.items():
                node.grad = value
        last_use = {}  # a grad is final once every node that reads it has passed its grad on
        for step in self.steps:
            for parent in step.parents:
                last_use[parent] = step.index
        self.final_after = {node: last_use.get(node, -1) for node in self.order}

    def scale_for(self, hide_constants: bool = True) -> float:
        """The grad of the darkest colour: the largest final |grad| of a drawn node (as draw_dot's)."""
        drawn = (n for n in self.order if not (hide_constants and is_constant(n)))
        return grad_scale(drawn, self.root, self.final_grads)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, k: int) -> Step | BoxStep:
        return self.steps[k]

    def __iter__(self) -> Iterator[Step | BoxStep]:
        return iter(self.steps)

    def _index(self, k: int) -> int:
        if not -len(self.steps) <= k < len(self.steps):
            which = f"(0 to {len(self.steps) - 1})" if self.steps else "(its root is a leaf)"
            raise IndexError(f"step {k} out of range: this backward pass has {len(self.steps)} steps {which}")
        return k % len(self.steps)

    def grads_at(self, k: int) -> dict[Node, float]:
        """Every node's grad right after step k (k = -1 in the list sense: after the last step)."""
        grads = dict(self.initial)
        grads[self.root] = self.seeded
        for step in self.steps[: self._index(k) + 1]:
            for parent, value in zip(step.parents, step.after):
                grads[parent] = value
        return grads

    def final_at(self, k: int) -> frozenset[Node]:
        """Nodes whose grad will not change any more after step k."""
        k = self._index(k)
        return frozenset(n for n, last in self.final_after.items() if last <= k)

    def ledger(self, k: int | None = None, *, hide_constants: bool = True, digits: int = 4) -> list[str]:
        """The chain-rule ledger up to and including step k (all of it by default)."""
        upto = len(self.steps) if k is None else self._index(k) + 1
        return [line for step in self.steps[:upto]
                for line in step.ledger(self.names, hide_constants=hide_constants, digits=digits)]

    def caption(self, k: int) -> str:
        step = self.steps[self._index(k)]
        at = self.names[step.node]
        if isinstance(step, BoxStep) and step.box is not None:
            return (f"backward step {step.index + 1} of {len(self.steps)}: the {box_title(step.box)} box "
                    f"(output {at}, grad {fmt(step.upstream)}) passes the grad on to its inputs and "
                    "parameters")
        who = f"{ref(at)}._backward()" if isinstance(step, Step) and step.by_backward else "the chain rule"
        return (f"backward step {step.index + 1} of {len(self.steps)}: at {at} "
                f"(grad {fmt(step.upstream)}), {who} passes the grad on to its inputs")

    def moment(self, k: int, *, hide_constants: bool = True, digits: int = 4) -> Moment:
        k = self._index(k)
        step = self.steps[k]
        fresh = len(step.ledger(self.names, hide_constants=hide_constants, digits=digits))
        lit = step.members if isinstance(step, BoxStep) else frozenset()
        added: dict[Node, float] = {}  # per parent: x * x reads x twice, and gets both additions
        if isinstance(step, Step):
            for parent, amount in zip(step.parents, step.contributions):
                added[parent] = added.get(parent, 0.0) + amount
        return Moment(self.grads_at(k), step.node, self.final_at(k),
                      self.ledger(k, hide_constants=hide_constants, digits=digits), fresh, self.caption(k),
                      self.scale_for(hide_constants), lit, added)

    def draw(self, k: int, options: DrawOptions | None = None, **changes: Any) -> Drawing:
        """The graph after step k: the node (or box) being processed highlighted, final grads
        ticked (✓), and the ledger so far. `changes` are draw_dot's options (rankdir=, color=, ...)."""
        opts = (options or self.options).but(**changes)
        return draw_graph(self.root, opts, order=self.order,
                          moment=self.moment(k, hide_constants=opts.hide_constants, digits=opts.digits))

    def save_frames(self, folder: str | Path, format: str = "png", *, dpi: float | None = None,
                    **options: Any) -> list[Path]:
        """One picture per step, `step-001.png`, ... (format "png" or "svg"), for slides and handouts."""
        if format not in FRAME_FORMATS:
            raise ValueError(f"save_frames(format={format!r}): use 'png' or 'svg' (or save_gif for a GIF)")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        width = len(str(len(self.steps)))
        return [save(self.draw(k, **options), folder / f"step-{k + 1:0{max(width, 3)}d}.{format}", dpi=dpi)
                for k in range(len(self.steps))]

    def save_gif(self, path: str | Path, *, seconds_per_step: float = 1.0, dpi: float | None = None,
                 **options: Any) -> Path:
        """An animated GIF of the steps (needs Pillow, which comes with matplotlib)."""
        try:
            from PIL import Image
        except ImportError as e:
            raise ImportError("save_gif needs Pillow: pip install pillow (it comes with matplotlib)") from e
        import io

        frames = [Image.open(io.BytesIO(self._png(k, dpi, options))).convert("RGB") for k in range(len(self))]
        if not frames:
            raise ValueError("save_gif: this backward pass has no steps (its root is a leaf)")
        # the ledger grows from step to step: pad every frame to the largest
        size = (max(f.width for f in frames), max(f.height for f in frames))
        padded = []
        for frame in frames:
            canvas = Image.new("RGB", size, "white")
            canvas.paste(frame, (0, 0))
            padded.append(canvas.quantize(colors=255))
        path = Path(path)
        padded[0].save(path, save_all=True, append_images=padded[1:], loop=0,
                       duration=max(20, round(1000 * seconds_per_step)))
        return path

    def _png(self, k: int, dpi: float | None, options: dict[str, Any]) -> bytes:
        drawing = self.draw(k, **options)
        if dpi is not None:
            drawing = drawing.copy()
            drawing.attr(dpi=f"{dpi:g}")
        data: bytes = drawing.pipe(format="png")
        return data

    def html(self, *, full_page: bool = True, **draw_options: Any) -> str:
        """A self-contained page (or, full_page=False, a fragment for a notebook) playing the steps."""
        return stepper_html(self, full_page=full_page, **draw_options)

    def save(self, path: str | Path, **draw_options: Any) -> Path:
        """Write the HTML stepper to `path` (one file: open it in any browser, offline)."""
        path = Path(path)
        path.write_text(self.html(**draw_options), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        try:
            return self.html(full_page=False)
        except (ValueError, GraphvizNotFound) as error:  # say why in the notebook, not in a traceback
            return f"<pre>{html.escape(repr(self))}\n\n{html.escape(str(error))}</pre>"

    def __repr__(self) -> str:
        per = f" one {self.collapse} at a time" if self.collapse else ""
        return (f"<Stepper: backward of {self.names[self.root]} in {len(self.steps)} steps{per}; "
                f".draw(k), .ledger(), .save('backward.html')>")


# --- every path at once ------------------------------------------------------------------

@dataclass(frozen=True)
class ChainPath:
    nodes: tuple[Node, ...]  # from the node to the root
    factors: tuple[float, ...]  # the local derivative of each edge along it
    inputs: tuple[int, ...]  # which input of the next node each edge is
    product: float


@dataclass(frozen=True)
class Explanation:
    """d root / d node as the sum, over every path from node to root, of the product of local derivatives."""

    root: Node
    node: Node
    paths: tuple[ChainPath, ...]
    names: dict[Node, str]

    @property
    def total(self) -> float:
        return sum(path.product for path in self.paths)

    def lines(self, digits: int = 4) -> list[str]:
        root, node = self.names[self.root], self.names[self.node]
        head = (f"d{root}/d{node} = sum over {len(self.paths)} path{'s' * (len(self.paths) != 1)} from "
                f"{node} to {root} of the product of the local derivatives along it:")
        lines = [head]
        for path in self.paths:
            route = self.names[path.nodes[0]]
            for parent, child, i in zip(path.nodes, path.nodes[1:], path.inputs):
                twice = parents(child).count(parent) > 1  # say which edge: x*x reads x as input 1 and 2
                route += f" → {self.names[child]}" + (f" (as input {i + 1})" if twice else "")
            factors = " × ".join(fmt(d, digits) for d in path.factors) or "1"
            lines.append(f"  {route}:  {factors} = {fmt(path.product, digits)}")
        lines.append(f"  total = {fmt(self.total, digits)}   (what {node}.grad holds after "
                     f"{root}.backward(), if it started at 0)")
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    __repr__ = __str__


def explain(root: Node, node: Node, max_paths: int = MAX_PATHS, *, params: Any = None) -> Explanation:
    """Every path from `node` to `root`, with the product of the local derivatives along it.

    The products add up to d root / d node (the multivariable chain rule). For small graphs:
    refuses graphs with more than `max_paths` paths (they grow exponentially with depth).
    A node without a rule (micrograd-style) gets its local derivatives from its `_backward()`
    (see `probe_local`). `params=model` names the nodes after the neurons.
    """
    order = order_of(root)
    names = node_names(order, params=params)
    if node not in names:
        raise ValueError(f"explain: {node!r} is not part of the graph of {names[root]}: it does not "
                         "affect the root, so its derivative is 0")
    count = {n: 0 for n in order}  # paths from `node` to n, counted forward
    count[node] = 1
    children: dict[Node, list[tuple[Node, int]]] = {}
    for n in order:
        for i, parent in enumerate(parents(n)):
            count[n] += count[parent]
            children.setdefault(parent, []).append((n, i))
    if count[root] > max_paths:
        raise ValueError(f"explain: there are {count[root]} paths from {names[node]} to {names[root]}, "
                         f"more than max_paths={max_paths}; the list would be unreadable. Explain a smaller "
                         "graph, or step through backward instead (Stepper).")
    local = {n: local_derivatives(n) or probe_local(n) for n in order if parents(n)}
    paths: list[ChainPath] = []
    Partial = tuple[Node, tuple[Node, ...], tuple[float, ...], tuple[int, ...]]  # a path being walked
    stack: list[Partial] = [(node, (node,), (), ())]
    while stack:
        at, route, factors, inputs = stack.pop()
        if at is root:
            product = 1.0
            for d in factors:
                product *= d
            paths.append(ChainPath(route, factors, inputs, product))
            continue
        for child, i in reversed(children.get(at, [])):  # every child leads on to the root
            stack.append((child, (*route, child), (*factors, local[child][i]), (*inputs, i)))
    return Explanation(root, node, tuple(paths), names)



def probe_local(node: Node) -> tuple[float, ...]:
    """d node / d parent for a node whose derivative only its `_backward()` knows: run it once with
    node.grad = 1 and read what it added to each parent (every grad is put back afterwards).
    A parent listed twice, as in (x, x), gets the whole derivative at its first place and 0 at
    the others, so that the paths through the node add up to it."""
    inputs = parents(node)
    backward = getattr(node, "_backward", None)
    if not callable(backward):
        return tuple(math.nan for _ in inputs)
    saved = [(n, n.grad) for n in (node, *inputs)]
    try:
        for p in inputs:
            p.grad = 0.0
        node.grad = 1.0
        backward()
        first = {id(p): i for i, p in reversed(list(enumerate(inputs)))}
        return tuple(as_float(p.grad) if first[id(p)] == i else 0.0 for i, p in enumerate(inputs))
    finally:
        for n, g in saved:
            n.grad = g


__all__ = ["BoxStep", "ChainPath", "Explanation", "Step", "Stepper", "backward_steps", "explain",
           "forward_line", "probe_local"]
