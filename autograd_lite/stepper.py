"""Backward, one node at a time: see every application of the chain rule.

    >>> from autograd_lite.stepper import Stepper, backward_steps, explain
    >>> for step in backward_steps(loss):      # performs backward, like loss.backward()
    ...     print(step.ledger())
    >>> stepper = Stepper(loss)                 # the same, kept: draw any step, or play them in HTML
    >>> stepper.draw(3)                         # the graph after step 3, that node highlighted
    >>> stepper                                 # in Jupyter: Prev/Next buttons and a slider
    >>> stepper.save("backward.html")           # one self-contained file, no network needed
    >>> explain(loss, w1)                       # every path from w1 to loss, multiplied out

Nothing here knows a derivative: `engine.backpropagate` applies the chain rule
(`parent.grad += local * node.grad`) and the local derivatives come from the
ops' rules. This module only records and shows what happened.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograd_lite.engine import Constant, Value, backpropagate, topological_order
from autograd_lite.viz import (
    MAX_NODES,
    Drawing,
    GraphvizNotFound,
    Moment,
    draw_graph,
    fmt,
    grad_scale,
    node_names,
)

MAX_PATHS = 200  # explain() refuses graphs with more paths than this: the list would be unreadable


@dataclass(frozen=True)
class Step:
    """One application of the chain rule: at `node`, for each of its parents (inputs),

        parent.grad += local[i] * upstream     (the added amount is contributions[i])
    """

    index: int
    node: Value
    upstream: float  # node.grad = d root / d node, final by the time the chain rule reaches the node
    parents: tuple[Value, ...]
    local: tuple[float, ...]  # d node / d parent, from the op's rule
    contributions: tuple[float, ...]  # local * upstream
    before: tuple[float, ...]  # each parent's grad before this step's addition
    after: tuple[float, ...]  # ... and after it

    def ledger(self, names: dict[Value, str] | None = None, *, hide_constants: bool = True,
               digits: int = 4) -> list[str]:
        """This step's lines: `b.grad += ∂c/∂b × c.grad = 2.0 × 1.0 = 2.0` for each parent."""
        names = names if names is not None else {}
        name = names.get(self.node) or self.node.label or "node"
        lines = []
        for i, parent in enumerate(self.parents):
            if hide_constants and isinstance(parent, Constant):
                continue
            pname = names.get(parent) or parent.label or "input"
            local = _local_text(self, i, names) or f"∂{name}/∂{pname}"
            line = (f"{pname}.grad += {local} × {name}.grad = {fmt(self.local[i], digits)} × "
                    f"{fmt(self.upstream, digits)} = {fmt(self.contributions[i], digits)}")
            if self.before[i] != 0:  # a second path into the same node: the grads add up
                line += f" → {pname}.grad = {fmt(self.after[i], digits)}"
            lines.append(line)
        return lines


def _local_text(step: Step, i: int, names: dict[Value, str]) -> str | None:
    """The local derivative as a formula, if the op's rule carries one (`Op.local_text`, e.g. "{1}"
    for the first input of *); otherwise None and the ledger writes ∂node/∂parent."""
    texts = getattr(step.node._rule, "local_text", None)
    if not texts:
        return None
    if callable(texts):  # an n-ary op whose formulas depend on how many inputs it has
        texts = texts(len(step.parents))
    text = texts if isinstance(texts, str) else texts[i]
    return text.format(*(_formula_name(p, names) for p in step.parents),
                       out=_formula_name(step.node, names), param=step.node._param)


def _formula_name(node: Value, names: dict[Value, str]) -> str:
    """A node's value in a formula: `b.data`, or just the number for a constant (`2.0`)."""
    if isinstance(node, Constant) and not node.label:  # (drawings name constants by their value too)
        return f"({fmt(node.data)})" if node.data < 0 else fmt(node.data)
    return f"{names.get(node) or node.label or 'input'}.data"


def backward_steps(root: Value, grad: float = 1.0) -> Iterator[Step]:
    """Perform `root.backward(grad)` one node at a time, yielding a `Step` after each node's chain rule.

    Run to the end, the graph's grads are exactly those of `root.backward(grad)` (it is the same
    code: `engine.backpropagate`). Leaves, which pass nothing on, give no step.
    """
    order = topological_order(root)
    # what each grad was before; backpropagate sets interior grads to 0 and lets leaves accumulate
    running = {node: (0.0 if node._prev else node.grad) for node in order}
    index = 0
    for node, local in backpropagate(root, grad):
        if not node._prev:
            continue
        if local is None:  # a closure node (micrograd's constructor): stepping it is issue 10's work
            raise TypeError(f"backward_steps: the node {node!r} has a user's _backward; the stepper "
                            "cannot show its step yet")
        upstream = node.grad
        before, after, contributions = [], [], []
        for parent, d in zip(node._prev, local):
            contribution = d * upstream
            before.append(running[parent])
            running[parent] += contribution  # the same sum, in the same order, as the engine
            after.append(running[parent])
            contributions.append(contribution)
        yield Step(index, node, upstream, node._prev, tuple(local), tuple(contributions), tuple(before),
                   tuple(after))
        index += 1


def forward_line(node: Value, names: dict[Value, str], digits: int = 4) -> str:
    """How a node was computed: `h1 = σ(z1) = σ(0.525) = 0.6283`."""
    if node._rule is None:
        return f"{names[node]} = {fmt(node.data, digits)}"
    symbol, parents = node._rule.symbol, node._prev
    nums = [fmt(p.data, digits) for p in parents]
    labels = [names[p] for p in parents]
    if node._param is not None:
        nums.append(fmt(node._param, digits))
        labels.append(fmt(node._param, digits))
    if len(labels) == 2 and not symbol[0].isalpha() and symbol != "σ":
        expr, values = f" {symbol} ".join(labels), f" {symbol} ".join(nums)
    else:
        expr, values = f"{symbol}({', '.join(labels)})", f"{symbol}({', '.join(nums)})"
    return f"{names[node]} = {expr} = {values} = {fmt(node.data, digits)}"


class Stepper:
    """The backward pass of `root`, one step per node, kept so that any step can be drawn or played.

    Making a Stepper sets every grad of the graph to 0 (`zero_grad=False`: leaves keep theirs
    and accumulate, as with backward()) and runs backward once, so the graph then holds the
    grads of one clean `root.backward()`; `keep_grads=False` puts every grad back as it was.
    """

    def __init__(self, root: Value, grad: float = 1.0, *, params: Any = None, zero_grad: bool = True,
                 keep_grads: bool = True) -> None:
        self.root = root
        self.params = params
        self.order = topological_order(root)
        self.names = node_names(self.order, params=params)
        saved = {node: node.grad for node in self.order}
        if zero_grad:
            root.zero_grad()
        # the grads as backward starts (interior ones 0, leaves keep theirs), and the root's after the seed
        self.initial = {node: (0.0 if node._prev else node.grad) for node in self.order}
        self.seed = float(grad)
        self.seeded = self.initial[root] + self.seed
        self.steps: list[Step] = list(backward_steps(root, grad))
        self.final_grads = {node: node.grad for node in self.order}
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
        drawn = (n for n in self.order if not (hide_constants and isinstance(n, Constant)))
        return grad_scale(drawn, self.root, self.final_grads)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, k: int) -> Step:
        return self.steps[k]

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def _index(self, k: int) -> int:
        if not -len(self.steps) <= k < len(self.steps):
            which = f"(0 to {len(self.steps) - 1})" if self.steps else "(its root is a leaf)"
            raise IndexError(f"step {k} out of range: this backward pass has {len(self.steps)} steps {which}")
        return k % len(self.steps)

    def grads_at(self, k: int) -> dict[Value, float]:
        """Every node's grad right after step k (k = -1 in the list sense: after the last step)."""
        grads = dict(self.initial)
        grads[self.root] = self.seeded
        for step in self.steps[: self._index(k) + 1]:
            for parent, value in zip(step.parents, step.after):
                grads[parent] = value
        return grads

    def final_at(self, k: int) -> frozenset[Value]:
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
        return (f"backward step {step.index + 1} of {len(self.steps)}: at {self.names[step.node]} "
                f"(grad {fmt(step.upstream)}), the chain rule passes the grad on to its inputs")

    def moment(self, k: int, *, hide_constants: bool = True, digits: int = 4) -> Moment:
        k = self._index(k)
        fresh = len(self.steps[k].ledger(self.names, hide_constants=hide_constants, digits=digits))
        return Moment(self.grads_at(k), self.steps[k].node, self.final_at(k),
                      self.ledger(k, hide_constants=hide_constants, digits=digits), fresh, self.caption(k),
                      self.scale_for(hide_constants))

    def draw(self, k: int, *, rankdir: str = "LR", color: str = "grad", show_local: bool = True,
             hide_constants: bool = True, legend: bool = True, max_nodes: int = MAX_NODES,
             digits: int = 4) -> Drawing:
        """The graph after step k: the node being processed highlighted, final grads ticked (✓),
        and the ledger so far."""
        return draw_graph(self.root, rankdir=rankdir, params=self.params, color=color,
                          show_local=show_local, hide_constants=hide_constants, legend=legend,
                          max_nodes=max_nodes, digits=digits,
                          moment=self.moment(k, hide_constants=hide_constants, digits=digits))

    def html(self, *, full_page: bool = True, **draw_options: Any) -> str:
        """A self-contained page (or, full_page=False, a fragment for a notebook) playing the steps."""
        from autograd_lite.stepper_html import stepper_html

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
        return (f"<Stepper: backward of {self.names[self.root]} in {len(self.steps)} steps; "
                f".draw(k), .ledger(), .save('backward.html')>")


# --- every path at once ------------------------------------------------------------------

@dataclass(frozen=True)
class ChainPath:
    nodes: tuple[Value, ...]  # from the node to the root
    factors: tuple[float, ...]  # the local derivative of each edge along it
    inputs: tuple[int, ...]  # which input of the next node each edge is
    product: float


@dataclass(frozen=True)
class Explanation:
    """d root / d node as the sum, over every path from node to root, of the product of local derivatives."""

    root: Value
    node: Value
    paths: tuple[ChainPath, ...]
    names: dict[Value, str]

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
                twice = child._prev.count(parent) > 1  # say which edge: x*x reads x as input 1 and 2
                route += f" → {self.names[child]}" + (f" (as input {i + 1})" if twice else "")
            factors = " × ".join(fmt(d, digits) for d in path.factors) or "1"
            lines.append(f"  {route}:  {factors} = {fmt(path.product, digits)}")
        lines.append(f"  total = {fmt(self.total, digits)}   (what {node}.grad holds after "
                     f"{root}.backward(), if it started at 0)")
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    __repr__ = __str__


def explain(root: Value, node: Value, max_paths: int = MAX_PATHS) -> Explanation:
    """Every path from `node` to `root`, with the product of the local derivatives along it.

    The products add up to d root / d node (the multivariable chain rule). For small graphs:
    refuses graphs with more than `max_paths` paths (they grow exponentially with depth).
    """
    order = topological_order(root)
    names = node_names(order)
    if node not in names:
        raise ValueError(f"explain: {node!r} is not part of the graph of {names[root]}: it does not "
                         "affect the root, so its derivative is 0")
    count = {n: 0 for n in order}  # paths from `node` to n, counted forward
    count[node] = 1
    children: dict[Value, list[tuple[Value, int]]] = {}
    for n in order:
        for i, parent in enumerate(n._prev):
            count[n] += count[parent]
            children.setdefault(parent, []).append((n, i))
    if count[root] > max_paths:
        raise ValueError(f"explain: there are {count[root]} paths from {names[node]} to {names[root]}, "
                         f"more than max_paths={max_paths}; the list would be unreadable. Explain a smaller "
                         "graph, or step through backward instead (Stepper).")
    paths: list[ChainPath] = []
    Partial = tuple[Value, tuple[Value, ...], tuple[float, ...], tuple[int, ...]]  # a path being walked
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
            stack.append((child, (*route, child), (*factors, child._local[i]), (*inputs, i)))
    return Explanation(root, node, tuple(paths), names)

