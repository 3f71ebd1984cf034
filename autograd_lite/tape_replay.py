"""The tape's replay: a recorded graph laid out as rows of a NumPy array, run on a batch.

Row i of a (rows, batch) array holds node i's value for every example, one example
per column. Leaves come first, then the example's inputs, then the other nodes in
*groups*: the nodes of one level of the graph (1 + the level of the deepest parent)
that share an op, so that one NumPy call computes all of them (e.g. the 256 products
w*h of a 16x16 layer). Forward calls each op's ``forward(numpy, ...)`` on whole rows;
backward applies the chain rule, ``grad[parent] += local * grad[node]``, with the
local derivatives from ``local_grads(numpy, ...)`` -- the rules in ops.py that eager
backward uses. See tape.py for recording and the public API.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_lite import engine
from autograd_lite.engine import Constant, Value, describe
from autograd_lite.ops import Op


@dataclass
class Trace:
    """One recording of a function: its graph in topological order, and what each node is."""

    order: list[Value]
    inputs: dict[Value, int]  # input leaf -> its number among the example's inputs
    outputs: list[Value]
    shape: Any  # the function's result: None (a Value), k (a list of k Values), ("pair", shape)


@dataclass
class Group:
    """Same-op nodes of one level of the graph; their values are rows start..stop-1."""

    op: Op
    start: int
    stop: int
    parents: np.ndarray  # (arity, nodes): the rows of each node's inputs
    param: tuple[np.ndarray, ...]  # () or the ops' plain-number parameters, shape (nodes, 1)
    scatter: list[tuple[np.ndarray, np.ndarray]]  # (parent rows, their edges), see _scatter
    nodes: list[Value]  # as recorded, for error messages
    once: bool  # the nodes depend on no input (e.g. an L2 term): computed once, not per example


class Program:
    """Recorded graphs laid out for NumPy: leaves, then inputs, then each group in turn.

    Several recordings (one per static value, e.g. per class label) become one program:
    their nodes are merged wherever they compute the same thing (the same op on the same
    parents, or the same constant), so the model is laid out once and each recording adds
    only its own tail (its loss). Every example runs every row; each one's outputs are
    read from its own recording's rows (`outputs[key]`).
    """

    def __init__(self, traces: dict[Any, Trace], n_inputs: int) -> None:
        self.traces = traces
        same_as: dict[Value, Value] = {}  # a recorded node -> the node that stands for it
        self.same_as = same_as
        kept: dict[Any, Value] = {}
        for trace in traces.values():
            for node in trace.order:
                same_as[node] = kept.setdefault(_identity(node, trace, same_as), node)
            for node, k in trace.inputs.items():  # also the inputs that fn did not use
                same_as.setdefault(node, kept.setdefault(("input", k), node))
        nodes = list(kept.values())  # parents first: each trace's order is topological
        inputs = {node: what[1] for what, node in kept.items() if what[0] == "input"}
        self.leaves = [n for n in nodes if not n._prev and n not in inputs]
        self.leaf_row = {node: i for i, node in enumerate(self.leaves)}
        row = dict(self.leaf_row)
        self.first_input = len(self.leaves)
        row.update((node, self.first_input + k) for node, k in inputs.items())
        level: dict[Value, int] = dict.fromkeys(row, 0)
        varies = {node: node in inputs for node in row}  # depends on the example's inputs
        same: dict[tuple[int, str, int, bool], list[Value]] = {}
        for node in nodes:
            if node not in level:  # all of a node's parents are computed at lower levels
                parent_nodes = [same_as[p] for p in node._prev]
                level[node] = 1 + max(level[p] for p in parent_nodes)
                varies[node] = any(varies[p] for p in parent_nodes)
                op: Op = node._rule  # type: ignore[assignment]
                same.setdefault((level[node], op.name, len(parent_nodes), varies[node]), []).append(node)
        self.groups: list[Group] = []
        size = self.first_input + n_inputs
        for (*_, varying), members in sorted(same.items(), key=lambda item: item[0][0]):  # by level
            op = members[0]._rule  # type: ignore[assignment]
            row.update((node, size + i) for i, node in enumerate(members))
            parents = np.array([[row[same_as[p]] for p in node._prev] for node in members], dtype=np.intp).T
            param = (np.array([[float(n._param)] for n in members]),) if op.has_param else ()
            self.groups.append(Group(op, size, size + len(members), parents, param,
                                     _scatter(parents.reshape(-1)), members, not varying))
            size += len(members)
        self.size = size
        self._buffers: dict[str, np.ndarray] = {}
        self.outputs = {key: np.array([row[same_as[n]] for n in trace.outputs], dtype=np.intp)
                        for key, trace in traces.items()}
        self.shape = next(iter(traces.values())).shape

    def leaf_values(self, columns: int) -> np.ndarray:
        """The leaves' numbers as they are now (an optimizer changes them), for each example."""
        return np.repeat(np.array([leaf.data for leaf in self.leaves]).reshape(-1, 1), columns, axis=1)

    def forward(self, leaves: np.ndarray, inputs: np.ndarray, examples: np.ndarray, keep: bool = False
                ) -> tuple[np.ndarray, list[list[np.ndarray]]]:
        """Every node's value for every example, as an array (rows, batch), from the leaves'
        and the inputs' numbers. `examples` are the columns' positions in the batch, for
        error messages; `keep` saves each group's inputs for backward."""
        values = self._buffer("values", inputs.shape[1])
        values[:self.first_input] = leaves
        values[self.first_input:self.first_input + len(inputs)] = inputs
        saved = []
        for group in self.groups:
            op = group.op
            inputs_of = values[group.parents, :1] if group.once else values[group.parents]
            args = [*inputs_of, *group.param]
            if op.valid is not None:
                _check_domain(group, args, op.valid(*args), examples)
            out = op.forward(np, *args)
            values[group.start:group.stop] = out  # (the same for every example if group.once)
            if op.valid is not None or engine.state.anomaly:  # a domain check cannot see overflow
                _check_finite(group, args, out, examples, "forward")
            if keep:
                saved.append(args)
        return values, saved

    def backward(self, values: np.ndarray, saved: list[list[np.ndarray]], seed: float,
                 losses: np.ndarray, examples: np.ndarray) -> np.ndarray:
        """d(seed * loss)/d(node) for every node and example, by the chain rule on rows;
        `losses` is the row of each example's loss."""
        grads = self._buffer("grads", values.shape[1])
        grads.fill(0.0)
        grads[losses, np.arange(len(losses))] = seed
        for group, args in zip(reversed(self.groups), reversed(saved)):
            out = values[group.start:group.stop]
            out_grad = grads[group.start:group.stop]
            if group.once:  # its parents are computed once too: their grads add up in column 0
                out, out_grad = out[:, :1], out_grad.sum(axis=1, keepdims=True)
            local = _stacked(group.op.local_grads(np, out, *args), out_grad.shape)
            flows = (local * out_grad).reshape(-1, out_grad.shape[1])  # local * grad[node], one row per edge
            for rows, edges in group.scatter:  # grad[parent] += the flows of all its edges
                flow = flows[edges[:, 0]] if edges.shape[1] == 1 else flows[edges].sum(axis=1)
                if group.once:
                    grads[rows, :1] += flow
                else:
                    grads[rows] += flow
            if engine.state.anomaly:
                _check_finite(group, args, flows.reshape(local.shape), examples, "backward")
        return grads


    def _buffer(self, name: str, columns: int) -> np.ndarray:
        """An array (rows, columns) kept from run to run: allocating a large array anew each
        time costs more than a small batch's whole replay."""
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape[1] != columns:
            buffer = self._buffers[name] = np.empty((self.size, columns))
        return buffer


def _stacked(local: tuple[Any, ...], shape: tuple[int, ...]) -> np.ndarray:
    """The local derivatives as one array (arity, nodes, batch)."""
    try:
        stacked = np.array(local)
        if stacked.shape[1:] == shape:
            return stacked
    except ValueError:
        pass
    return np.array([np.broadcast_to(d, shape) for d in local])  # a rule gave a plain number: spread it


def _scatter(edge_parents: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Plan `grad[parent] += flow` over every edge. NumPy's `grads[rows] += x` adds only once
    to a row that appears twice, so parents are bucketed by their number of edges m, and a
    bucket adds flows[edges].sum(axis=1), with `edges` of shape (parents, m)."""
    by_parent = np.argsort(edge_parents, kind="stable")
    rows, first, counts = np.unique(edge_parents[by_parent], return_index=True, return_counts=True)
    return [(rows[counts == m], by_parent[first[counts == m, None] + np.arange(m)])
            for m in np.unique(counts)]


# --- errors name the op, its inputs, the example and the recorded node ------------------------

def _check_domain(group: Group, args: list[np.ndarray], ok: np.ndarray, examples: np.ndarray) -> None:
    if not np.all(ok):
        node, column = np.argwhere(~np.broadcast_to(ok, args[0].shape))[0]
        where = f"{_call(group, args, node, column)} for example {examples[column]} of the batch"
        raise group.op.error(f"{where}: {group.op.domain}")  # ValueError (OverflowError for exp), as eager


def _check_finite(group: Group, args: list[np.ndarray], out: np.ndarray, examples: np.ndarray,
                  where: str) -> None:
    """Raise where an op made nan or inf from finite inputs (anywhere, under detect_anomaly)."""
    bad = ~np.isfinite(out)
    if where == "backward":
        bad = bad.any(axis=0)
    if not engine.state.anomaly:
        bad &= np.all([np.isfinite(a) for a in args[:group.parents.shape[0]]], axis=0)
    if np.any(bad):
        node, column = np.argwhere(bad)[0]
        call = f"{_call(group, args, node, column)} for example {examples[column]} of the batch"
        if engine.state.anomaly:
            raise FloatingPointError(f"anomaly in {where}: {call} gave a nan or inf")
        raise OverflowError(f"{call} overflows a float")


def _call(group: Group, args: list[np.ndarray], node: int, column: int) -> str:
    """Like the eager engine's messages, e.g. log('x' (= -3.0)), with this example's numbers."""
    recorded = group.nodes[node]
    numbers = [f"{p.label!r} (= {float(a[node, column])!r})" if p.label else repr(float(a[node, column]))
               for p, a in zip(recorded._prev, args)]
    numbers += [repr(float(p[node, 0])) for p in group.param]
    name = f" (node {recorded.label!r})" if recorded.label else ""
    return f"{group.op.name}({', '.join(numbers)}){name}"


# --- comparing two recordings ----------------------------------------------------------------

def differences(first: Trace, other: Trace) -> tuple[str | None, list[tuple[Value, Value]]]:
    """How `other` differs from `first`: the first difference in the graph (None if the graphs
    are the same), and the pairs of constants whose numbers differ."""
    a, b = _signature(first), _signature(other)
    if len(a) != len(b) or len(first.outputs) != len(other.outputs):
        return f"{len(b)} nodes instead of {len(a)}", []
    changed = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x[0] == "leaf" and y[0] == "leaf":
            if x[1] is not y[1] and not _same_number(x[1].data, y[1].data):
                changed.append((x[1], y[1]))
        elif x[0] != y[0] or x[2:] != y[2:] or not _same_number(x[1], y[1]):  # op (or input), param, parents
            return f"node {i} is {_what(first.order[i])} there but {_what(other.order[i])} here", []
    index = {n: i for i, n in enumerate(first.order)}, {n: i for i, n in enumerate(other.order)}
    if [index[0][n] for n in first.outputs] != [index[1][n] for n in other.outputs]:
        return "the function returns different nodes", []
    return None, changed


def _identity(node: Value, trace: Trace, same_as: dict[Value, Value]) -> Any:
    """What a node computes, so that equal nodes of several recordings can be merged."""
    if node in trace.inputs:
        return ("input", trace.inputs[node])
    if not node._prev:  # a parameter is itself; a constant (made while recording) is its number
        return ("constant", node.data) if isinstance(node, Constant) else ("leaf", id(node))
    return (node._rule.name, node._param, tuple(id(same_as[p]) for p in node._prev))  # type: ignore[union-attr]


def _signature(trace: Trace) -> list[tuple[Any, ...]]:
    index = {node: i for i, node in enumerate(trace.order)}
    return [("input", trace.inputs[n]) if n in trace.inputs else ("leaf", n) if not n._prev else
            (n._rule.name, n._param, tuple(index[p] for p in n._prev)) for n in trace.order]  # type: ignore[union-attr]


def _same_number(a: Any, b: Any) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def _what(node: Value) -> str:
    if node._rule is None:
        return f"the leaf {describe(node)}"
    return f"{node._rule.name}({', '.join(describe(p) for p in node._prev)})"
