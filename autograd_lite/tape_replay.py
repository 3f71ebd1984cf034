"""The tape's replay: a recorded graph laid out as rows of a NumPy array, run on a batch.

Row i of a (rows, batch) array holds node i's value for every example, one example
per column. Leaves come first, then the example's inputs, then the other nodes in
*groups*: the nodes of one level of the graph (1 + the level of the deepest parent)
that share an op, so that one NumPy call computes all of them (e.g. the 256 products
w*h of a 16x16 layer). Forward calls each op's ``forward(numpy, ...)`` on whole rows;
backward applies the chain rule, ``grad[parent] += local * grad[node]``, with the
local derivatives from ``local_grads(numpy, ...)`` -- the rules in ops.py that eager
backward uses. See tape.py for recording and the public API.

Two kinds of group use what their rule says instead of calling it: a layer's dot nodes
are matrix products (tape_layers.py), and a sum, whose local derivatives are all 1, adds
its inputs in one call and hands its grad to each of them. The leaves' numbers are read
into one vector per run, and their gradients come back as one vector. Nodes that depend
on no input (an L2 term) are computed once, in column 0.

Each group is compiled, once per batch size, into a forward and a backward kernel bound to
the arrays kept from run to run (tape_kernels.py): a run is a loop over the kernels.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_lite import modes, ops
from autograd_lite.engine import Constant, Value, describe
from autograd_lite.ops import Op
from autograd_lite.tape_kernels import (
    Buffers,
    Group,
    Kernels,
    check_backward,
    check_finite,
    compile_group,
    gathered,
)
from autograd_lite.tape_layers import GroupKey, Layer, layer_inputs, leaf_order, slice_or_rows


@dataclass
class Trace:
    """One recording of a function: its graph in topological order, and what each node is."""

    order: list[Value]
    inputs: dict[Value, int]  # input leaf -> its number among the example's inputs
    outputs: list[Value]
    shape: Any  # the function's result: None (a Value), k (a list of k Values), ("pair", shape)


class Program:
    """Recorded graphs laid out for NumPy: leaves, then inputs, then each group in turn.

    Several recordings (one per static value, e.g. per class label) become one program:
    their nodes are merged wherever they compute the same thing (the same op on the same
    parents, or the same constant), so the model is laid out once and each recording adds
    only its own tail (its loss). Every example runs every row; each one's outputs are
    read from its own recording's rows (`outputs[key]`).

    The leaves' numbers are read into one vector per run (`parameters`), laid out so that
    each layer's weights are a contiguous block (a matrix without a copy); only the leaves
    that per-example ops read are spread over the columns of the (rows, batch) array.
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
        members = _groups(nodes, inputs, same_as)
        self.leaves = leaf_order([n for n in nodes if not n._prev and n not in inputs], members, same_as)
        self.leaf_row = {node: i for i, node in enumerate(self.leaves)}
        row = dict(self.leaf_row)
        self.first_input = len(self.leaves)
        row.update((node, self.first_input + k) for node, k in inputs.items())
        self.groups: list[Group] = []
        size = self.first_input + n_inputs
        constant = np.zeros(size + len(nodes), dtype=bool)  # numbers like the 2 in 2*x: no gradient
        constant[[i for i, leaf in enumerate(self.leaves) if isinstance(leaf, Constant)]] = True
        learned = np.flatnonzero(~constant[:self.first_input])  # the leaves given a gradient
        self.learned_leaves = [self.leaves[i] for i in learned]
        self.learned = slice_or_rows(learned)
        for (_, _, _, varying, layer), group in members:
            row.update((node, size + i) for i, node in enumerate(group))
            self.groups.append(_group(group, row, same_as, size, varying, layer is not None,
                                      self.first_input, n_inputs, constant))
            size += len(group)
        self.size = size
        self._runs: dict[int, _Run] = {}  # batch size -> its arrays and kernels (the last few sizes)
        self.outputs = {key: np.array([row[same_as[n]] for n in trace.outputs], dtype=np.intp)
                        for key, trace in traces.items()}
        read = [g.parents.reshape(-1) if g.layer is None else _layer_x(g)  # what per-example nodes read
                for g in self.groups if not g.once]
        spread = np.unique(np.concatenate([*read, *self.outputs.values(), np.empty(0, dtype=np.intp)]))
        self.spread = slice_or_rows(spread[spread < self.first_input])  # leaves read per example
        once = np.concatenate([np.empty(0, dtype=np.intp),
                               *(g.parents.reshape(-1) for g in self.groups if g.once)])
        self._spread = _covering(spread[spread < self.first_input])  # and the leaves between them
        self._once_read = _covering(once[once < self.first_input])  # (their values are in column 0)
        reached = np.concatenate([spread, once])  # the leaves whose grads kernels add (not layers' weights)
        self._leaves_read = _covering(reached[reached < self.first_input])
        self._grads_read = _covering(np.intersect1d(reached, learned))  # of those, the ones given a
        self._grads_spread = _covering(np.intersect1d(spread, learned))  # gradient (not the 2 in 2*x)
        self._zero = [(slice(self.first_input, self.first_input + n_inputs), True)]  # (rows, all columns?)
        for g in self.groups:
            if g.once:  # else its grads are all in column 0, where the nodes computed once add them
                g.spread = bool(np.any((spread >= g.start) & (spread < g.stop)))
            last, full = self._zero[-1]
            if full == g.spread:  # what backward sets to 0 first: whole rows, or column 0
                self._zero[-1] = (slice(last.start, g.stop), full)
            else:
                self._zero.append((slice(g.start, g.stop), g.spread))
        self.shape = next(iter(traces.values())).shape

    def parameters(self) -> np.ndarray:
        """The leaves' numbers as they are now (an optimizer changes them), as one vector."""
        return np.fromiter(map(_DATA, self.leaves), dtype=float, count=len(self.leaves))

    def forward(self, params: np.ndarray, inputs: np.ndarray, examples: np.ndarray, keep: bool = False
                ) -> tuple[np.ndarray, list[list[np.ndarray]]]:
        """Every node's value for every example, as an array (rows, batch), from the leaves'
        numbers (`params`, see `parameters`) and the inputs'. `examples` are the columns'
        positions in the batch, for error messages; `keep` saves each group's inputs for backward."""
        run = self._run(inputs.shape[1])
        b = run.buffers
        b.params[...] = params
        b.values[self._once_read, 0] = params[self._once_read]  # column 0: what the ops computed once read
        b.values[self._spread] = params[self._spread, None]
        b.values[self.first_input:self.first_input + len(inputs)] = inputs
        saved = []
        anomaly = modes.state.anomaly
        for group, kernels in zip(self.groups, run.kernels):
            args = kernels.forward(examples)  # (an op with a domain checks it, and overflow)
            if anomaly:
                out = b.values[group.start:group.stop, :1 if group.once else None]
                check_finite(group, args or gathered(b.values, params, group), out, examples, "forward")
            saved.append(args)
        return b.values, saved if keep else []

    def backward(self, values: np.ndarray, saved: list[list[np.ndarray]], params: np.ndarray, seed: float,
                 losses: np.ndarray, examples: np.ndarray) -> np.ndarray:
        """d(seed * loss)/d(leaf), summed over the examples, for every leaf (a vector like
        `params`), by the chain rule on rows; `losses` is the row of each example's loss."""
        run = self._run(values.shape[1], values)
        b = run.buffers
        b.params[...] = params
        for zero in run.zeros:  # what the kernels add to starts at 0
            zero.fill(0.0)
        b.grads[losses, run.columns] = seed
        b.leaf_grads.fill(0.0)
        anomaly = modes.state.anomaly
        for group, kernels, args in zip(reversed(self.groups), reversed(run.kernels), reversed(saved)):
            kernels.backward(args, examples)
            if anomaly:
                check_backward(group, args or gathered(values, params, group), values,
                               b.grads[group.start:group.stop], examples)
        leaf_grads = b.leaf_grads.copy()  # the layers' weights', then the other leaves'
        if self._grads_read.stop:  # the leaves read by ops (layers add their weights' grads themselves)
            leaf_grads[self._grads_read] += b.grads[self._grads_read, 0]
        if self._grads_spread.stop:
            leaf_grads[self._grads_spread] += b.grads[self._grads_spread, 1:].sum(axis=1)
        return leaf_grads

    def _run(self, columns: int, values: np.ndarray | None = None) -> _Run:
        """The arrays (rows, columns) kept from run to run, and the kernels bound to them:
        allocating a large array anew each time costs more than a small batch's whole replay.
        (Given `values` that are not the kept ones, kernels bound to them, for this call.)"""
        run = self._runs.get(columns)
        if run is not None and (values is None or values is run.buffers.values):
            return run
        size, leaves = (self.size, columns), self.first_input
        buffers = Buffers(np.empty(size) if values is None else values, np.empty(size),
                          np.empty(leaves), np.empty(leaves))
        zeros = [buffers.grads[rows, :None if full else 1] for rows, full in self._zero]
        zeros += [buffers.grads[self._leaves_read, :1], buffers.grads[self._spread]]
        run = _Run(buffers, [compile_group(g, buffers) for g in self.groups], zeros,
                   np.arange(columns))
        if values is None:  # fit's batches, its last smaller batch and the whole data set: keep three
            self._runs = {**dict(list(self._runs.items())[-2:]), columns: run}
        return run


@dataclass
class _Run:
    """One batch size's arrays, the groups' kernels bound to them, and what backward zeroes."""

    buffers: Buffers
    kernels: list[Kernels]
    zeros: list[np.ndarray]  # views of the grads
    columns: np.ndarray  # 0, 1, ..., batch - 1


_DATA = operator.attrgetter("data")
MAX_SOURCES = 4  # ops with more inputs than this read and scatter them all in one NumPy call



def _groups(nodes: list[Value], inputs: dict[Value, int], same_as: dict[Value, Value]
            ) -> list[tuple[GroupKey, list[Value]]]:
    """The non-leaf nodes in groups that one NumPy call computes, in the order of their levels:
    same level (1 + the deepest parent's), same op and arity, and (for layers) the same inputs."""
    level: dict[Value, int] = {}
    varies: dict[Value, bool] = {}
    same: dict[GroupKey, list[Value]] = {}
    for node in nodes:
        if not node._prev:
            level[node], varies[node] = 0, node in inputs
            continue
        parents = [same_as[p] for p in node._prev]
        level[node] = 1 + max(level[p] for p in parents)  # parents are placed before their children
        varies[node] = any(varies[p] for p in parents)
        op: Op = node._rule  # type: ignore[assignment]
        layer = layer_inputs(parents, inputs) if op is ops.DOT and varies[node] else None
        same.setdefault((level[node], op.name, len(parents), varies[node], layer), []).append(node)
    return sorted(same.items(), key=lambda item: item[0][0])


def _group(members: list[Value], row: dict[Value, int], same_as: dict[Value, Value], start: int,
           varying: bool, is_layer: bool, first_input: int, n_inputs: int, constant: np.ndarray) -> Group:
    """One group's layout; `constant` marks the rows of numbers like the 2 in 2*x (no gradient)."""
    op: Op = members[0]._rule  # type: ignore[assignment]
    parents = np.array([[row[same_as[p]] for p in node._prev] for node in members], dtype=np.intp).T
    param: tuple[Any, ...] = ()
    if op.has_param:  # one number for the whole group when they agree: x ** 2.0 is then a square
        numbers = np.array([[float(n._param)] for n in members])
        param = (float(numbers[0, 0]) if np.all(numbers == numbers[0, 0]) else numbers,)
    few = len(parents) <= MAX_SOURCES  # (a layer's dot nodes have 2n + 1 inputs: not few)
    sources = [slice_or_rows(rows) for rows in parents] if few else None
    targets = [None if constant[rows].all() else source for rows, source in zip(parents, sources or ())]
    direct = few and all(len(np.unique(rows)) == len(rows)  # no row twice where gradients are added
                         for rows, target in zip(parents, targets) if target is not None)
    group = Group(op, start, start + len(members), parents, param, sources, targets,
                  None if direct else _scatter(parents.reshape(-1), constant), members, not varying,
                  len(np.unique(parents)) == parents.size)
    if is_layer:
        n = len(parents) // 2
        block = slice_or_rows(np.concatenate([parents[:n], parents[-1:]]).T.reshape(-1))  # node j's w, b
        xs = parents[n:2 * n, 0]
        from_inputs = bool(np.all((xs >= first_input) & (xs < first_input + n_inputs)))
        group.layer = Layer(block, slice_or_rows(xs), (len(members), n), not from_inputs)
    return group


def _layer_x(group: Group) -> np.ndarray:
    n = group.parents.shape[0] // 2
    return group.parents[n:2 * n, 0]


def _covering(rows: np.ndarray) -> slice:
    """The rows from the first to the last of `rows` (a slice is a view: faster than the rows)."""
    return slice(int(rows.min()), int(rows.max()) + 1) if len(rows) else slice(0, 0)


def _scatter(edge_parents: np.ndarray, constant: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Plan `grad[parent] += flow` over every edge but those into constants. NumPy's
    `grads[rows] += x` adds only once to a row that appears twice, so parents are bucketed by
    their number of edges m, and a bucket adds flows[edges].sum(axis=1), with `edges` (parents, m)."""
    kept = np.flatnonzero(~constant[edge_parents])
    by_parent = kept[np.argsort(edge_parents[kept], kind="stable")]
    rows, first, counts = np.unique(edge_parents[by_parent], return_index=True, return_counts=True)
    return [(rows[counts == m], by_parent[first[counts == m, None] + np.arange(m)])
            for m in np.unique(counts)]


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
