"""The steps of a backward pass: one per node (`Step`), or one per neuron or layer box (`BoxStep`).

Nothing here knows a derivative. For autograd_lite's ops, `engine.backpropagate` applies the
chain rule (`parent.grad += local * node.grad`) with the local derivatives from the ops' rules.
For a node whose derivative only its own `_backward()` knows (a micrograd-style class, a user's
closure op) the step runs that closure and records what it added to each parent's grad.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from autograd_lite.engine import backpropagate
from autograd_lite.viz_collapse import Box, Plan, box_title
from autograd_lite.viz_names import fmt, ref
from autograd_lite.viz_nodes import Node, as_float, is_constant, is_ours, label_of, order_of, parents, unique


@dataclass(frozen=True)
class Step:
    """One application of the chain rule: at `node`, for each of its parents (inputs),

        parent.grad += local[i] * upstream     (the added amount is contributions[i])
    """

    index: int
    node: Node
    upstream: float  # node.grad = d root / d node, final by the time the chain rule reaches the node
    parents: tuple[Node, ...]
    local: tuple[float, ...]  # d node / d parent, from the op's rule (or added / upstream, see below)
    contributions: tuple[float, ...]  # local * upstream
    before: tuple[float, ...]  # each parent's grad before this step's addition
    after: tuple[float, ...]  # ... and after it
    by_backward: bool = False  # the node's own _backward() ran; local is what it added / upstream

    def ledger(self, names: dict[Node, str] | None = None, *, hide_constants: bool = True,
               digits: int = 4) -> list[str]:
        """This step's lines: `b.grad += ∂c/∂b × c.grad = 2.0 × 1.0 = 2.0` for each parent."""
        names = names if names is not None else {}
        name = ref(names.get(self.node) or label_of(self.node) or "node")
        lines = []
        for i, parent in enumerate(self.parents):
            if hide_constants and is_constant(parent):
                continue
            pname = ref(names.get(parent) or label_of(parent) or "input")
            if self.by_backward:
                line = (f"{pname}.grad += {fmt(self.contributions[i], digits)}   (added by "
                        f"{name}._backward(), {name}.grad = {fmt(self.upstream, digits)})")
            else:
                local = _local_text(self, i, names) or f"∂{name}/∂{pname}"
                line = (f"{pname}.grad += {local} × {name}.grad = {fmt(self.local[i], digits)} × "
                        f"{fmt(self.upstream, digits)} = {fmt(self.contributions[i], digits)}")
            if self.before[i] != 0:  # a second path into the same node: the grads add up
                line += f" → {pname}.grad = {fmt(self.after[i], digits)}"
            lines.append(line)
        return lines


def _local_text(step: Step, i: int, names: dict[Node, str]) -> str | None:
    """The local derivative as a formula, if the op's rule carries one (`Op.local_text`, e.g. "{1}"
    for the first input of *); otherwise None and the ledger writes ∂node/∂parent."""
    texts = getattr(getattr(step.node, "_rule", None), "local_text", None)
    if not texts:
        return None
    if callable(texts):  # an n-ary op whose formulas depend on how many inputs it has
        texts = texts(len(step.parents))
    text = texts if isinstance(texts, str) else texts[i]
    return text.format(*(_formula_name(p, names) for p in step.parents),
                       out=_formula_name(step.node, names), param=step.node._param)


def _formula_name(node: Node, names: dict[Node, str]) -> str:
    """A node's value in a formula: `b.data`, or just the number for a constant (`2.0`)."""
    if is_constant(node) and not label_of(node):  # (drawings name constants by their value too)
        return f"({fmt(node.data)})" if node.data < 0 else fmt(node.data)
    return f"{ref(names.get(node) or label_of(node) or 'input')}.data"


Locals = tuple[float, ...] | None


def _chain_rule(root: Node, grad: float, order: Sequence[Node]) -> Iterator[tuple[Node, Locals]]:
    """(node, its local derivatives) after the chain rule ran at each node; None when it ran the
    node's own `_backward()`. Our Values: the engine's pass. Foreign ones: their closures."""
    if is_ours(root):
        yield from backpropagate(root, grad)
        return
    for node in order:
        if parents(node):
            node.grad = 0.0  # interior grads are recomputed, leaves accumulate (as ours)
    root.grad = as_float(root.grad) + grad
    for node in reversed(order):
        backward = getattr(node, "_backward", None)
        if parents(node) and callable(backward):
            backward()
        yield node, None


def backward_steps(root: Node, grad: float = 1.0) -> Iterator[Step]:
    """Perform `root.backward(grad)` one node at a time, yielding a `Step` after each node's chain rule.

    Run to the end, the graph's grads are exactly those of `root.backward(grad)` (for our Values it
    is the same code: `engine.backpropagate`). Leaves, which pass nothing on, give no step. Any
    micrograd-style node works: its `_backward()` is called, and the step records what it added.
    """
    order = order_of(root)
    # what each grad was before; backward sets interior grads to 0 and lets leaves accumulate
    running = {node: (0.0 if parents(node) else as_float(node.grad)) for node in order}
    index = 0
    for node, local in _chain_rule(root, float(grad), order):
        inputs = parents(node)
        if not inputs:
            continue
        upstream = as_float(node.grad)
        if local is not None:  # the rule's local derivatives: the same sums, in the same order, as the engine
            before, after, contributions = [], [], []
            for parent, d in zip(inputs, local):
                before.append(running[parent])
                running[parent] += d * upstream
                after.append(running[parent])
                contributions.append(d * upstream)
            yield Step(index, node, upstream, inputs, tuple(local), tuple(contributions), tuple(before),
                       tuple(after))
        else:  # the node's own _backward() ran: what it added is the difference
            inputs = tuple(unique(inputs))
            before_t = tuple(running[p] for p in inputs)
            after_t = tuple(as_float(p.grad) for p in inputs)
            added = tuple(a - b for a, b in zip(after_t, before_t))
            running.update(zip(inputs, after_t))
            implied = tuple(c / upstream if upstream else math.nan for c in added)
            yield Step(index, node, upstream, inputs, implied, added, before_t, after_t, by_backward=True)
        index += 1


@dataclass(frozen=True)
class BoxStep:
    """One neuron's (or layer's) backward at once: the steps of all its nodes.

    `parents`/`after` hold every grad the box changed (its inner nodes too); `outside` are the
    inputs and parameters it passed grads to, with what it `added` to each."""

    index: int
    box: Box | None  # None: a node drawn on its own, stepped alone
    node: Node  # the box's output (what the picture's caption names)
    upstream: float
    steps: tuple[Step, ...]
    parents: tuple[Node, ...]
    after: tuple[float, ...]
    outside: tuple[Node, ...]
    added: tuple[float, ...]
    totals: tuple[float, ...]  # the outside grads after this step

    @property
    def members(self) -> frozenset[Node]:
        return frozenset(self.box.members) if self.box is not None else frozenset([self.node])

    def ledger(self, names: dict[Node, str] | None = None, *, hide_constants: bool = True,
               digits: int = 4) -> list[str]:
        """Per input and parameter for a neuron; a summary for a layer."""
        names = names or {}
        if self.box is None:
            return [line for step in self.steps
                    for line in step.ledger(names, hide_constants=hide_constants, digits=digits)]
        rows = [(p, a, t) for p, a, t in zip(self.outside, self.added, self.totals)
                if not (hide_constants and is_constant(p))]
        params = [r for r in rows if r[0] in self.box.params]
        inputs = [r for r in rows if r[0] not in self.box.params]
        head = f"{box_title(self.box)} ({len(self.steps)} nodes, output grad {fmt(self.upstream, digits)}):"
        if self.box.what == "layer":
            return [head, _summary("input", inputs, names, digits),
                    _summary("parameter", params, names, digits)]
        lines = [head]
        for p, a, t in inputs + params:
            line = f"  {ref(names.get(p, 'input'))}.grad += {fmt(a, digits)}"
            lines.append(line + (f" → {fmt(t, digits)}" if t != a else ""))
        return lines


def _summary(what: str, rows: list[tuple[Node, float, float]], names: dict[Node, str], digits: int) -> str:
    if not rows:
        return f"  no {what}s"
    big = max(rows, key=lambda r: abs(r[1]))
    return (f"  {len(rows)} {what}{'s' * (len(rows) > 1)}: grads += {fmt(min(r[1] for r in rows), digits)} … "
            f"{fmt(max(r[1] for r in rows), digits)}, the largest to {names.get(big[0], '?')}")


def group_steps(steps: Sequence[Step], laid: Plan, initial: dict[Node, float], seeded: tuple[Node, float]
                ) -> list[BoxStep]:
    """The node steps regrouped one box at a time, in backward order.

    A box is stepped when the chain rule first reaches it (at its output, whose readers are all
    done); its inner nodes are read only inside it, so doing all of them then is the same pass.
    The running grads are replayed in this order."""
    groups: dict[object, list[Step]] = {}
    for step in steps:
        box = laid.box_of.get(step.node)
        groups.setdefault(id(box) if box is not None else step.node, []).append(step)
    running = dict(initial)
    running[seeded[0]] = seeded[1]
    out: list[BoxStep] = []
    for k, members in enumerate(groups.values()):
        box = laid.box_of.get(members[0].node)
        inner = set(box.members) if box is not None else set()
        changed: dict[Node, float] = {}
        added: dict[Node, float] = {}
        for step in members:
            for parent, c in zip(step.parents, step.contributions):
                running[parent] = running.get(parent, 0.0) + c
                changed[parent] = running[parent]
                if parent not in inner:
                    added[parent] = added.get(parent, 0.0) + c
        outside = tuple(added)
        out.append(BoxStep(k, box, members[0].node, members[0].upstream, tuple(members), tuple(changed),
                           tuple(changed.values()), outside, tuple(added.values()),
                           tuple(running[p] for p in outside)))
    return out


__all__ = ["BoxStep", "Step", "backward_steps", "group_steps"]
