"""The replay's groups compiled into kernels: each group's forward and backward as a small function.

A group's layout (which rows it reads, which it writes, whether a row is read twice) is known
once the program is built, and the arrays it works on are kept from run to run. So each group
is compiled, once per batch size, into two functions bound to views of those arrays: forward
runs the op's rule on its input rows and writes its own; backward applies the chain rule,
``grad[parent] += local * grad[node]``, with the rule's local derivatives. A run is then a loop
over the kernels, with nothing left to look up or decide. The kind of group picks the compiler
(`KERNELS`): a layer (tape_layers.py), a sum, or any other op, element by element. The NumPy
calls are the same as the plain replay's, in the same order, so the numbers are the same.

Errors name the op, its inputs, the example and the recorded node, like the eager engine's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from autograd_lite import modes, ops
from autograd_lite.engine import Value
from autograd_lite.ops import Op
from autograd_lite.tape_layers import Layer, adder, layer_kernels, rows_of, slice_or_rows

Rows = slice | np.ndarray


@dataclass
class Group:
    """Same-op nodes of one level of the graph; their values are rows start..stop-1."""

    op: Op
    start: int
    stop: int
    parents: np.ndarray  # (arity, nodes): the rows of each node's inputs
    param: tuple[Any, ...]  # () or the ops' plain-number parameter: one float, or (nodes, 1) of them
    sources: list[Rows] | None  # parents[k] (a slice when contiguous); None: gather all
    targets: list[Rows | None]  # the same, where backward adds; None: only constants
    scatter: list[tuple[np.ndarray, np.ndarray]] | None  # see tape_replay._scatter; None: no row read twice
    nodes: list[Value]  # as recorded, for error messages
    once: bool  # the nodes depend on no input (e.g. an L2 term): computed once, not per example
    distinct: bool  # no row is the input of two edges
    spread: bool = True  # (once) some per-example node reads them: their grads are in every column
    layer: Layer | None = None


@dataclass
class Buffers:
    """The arrays of one run: every node's value and grad (rows, batch), and the leaves' numbers
    and gradients (one vector each), which the kernels hold views of."""

    values: np.ndarray
    grads: np.ndarray
    params: np.ndarray
    leaf_grads: np.ndarray


class Kernels(NamedTuple):
    forward: Callable[[np.ndarray], list[Any]]  # examples -> the inputs saved for backward
    backward: Callable[[list[Any], np.ndarray], None]  # (saved inputs, examples) -> None


def compile_group(group: Group, buffers: Buffers) -> Kernels:
    """A group's two kernels, bound to `buffers`."""
    kind = "layer" if group.layer is not None else "sum" if group.op is ops.SUM else "elementwise"
    return KERNELS[kind](group, buffers)


def _layer(group: Group, b: Buffers) -> Kernels:
    """A layer's matrix products (tape_layers.py), with the checks of detect_anomaly."""
    assert group.layer is not None
    forward, backward = layer_kernels(group.layer, b.values, b.grads, b.params, b.leaf_grads,
                                      slice(group.start, group.stop))

    def run(examples: np.ndarray) -> list[Any]:
        forward()
        return []

    return Kernels(run, lambda args, examples: backward())


def _sum(group: Group, b: Buffers) -> Kernels:
    """x1 + ... + xn in one call: NumPy adds along axis 0 in order, as the rule. Its local
    derivatives are all 1, so each edge carries grad[node]."""
    columns = slice(None, 1) if group.once else slice(None)
    shape = (*group.parents.shape, 1 if group.once else b.values.shape[1])
    terms = rows_of(b.values[:, columns], _consecutive(group.parents), shape)  # (arity, nodes, batch)
    out = b.values[group.start:group.stop, :None if group.spread else 1]

    def forward(examples: np.ndarray) -> list[Any]:
        out[...] = np.add.reduce(terms(), axis=0)
        return []

    if group.distinct:  # every edge into a row of its own: one call
        parents, out_grad = _consecutive(group.parents), _out_grad(group, b.grads)
        if isinstance(parents, slice):
            grads = b.grads[parents, columns].reshape(shape)

            def backward(args: list[Any], examples: np.ndarray) -> None:
                np.add(grads, out_grad(), out=grads)  # (what += does)
        else:
            grads = b.grads[:, columns]

            def backward(args: list[Any], examples: np.ndarray) -> None:
                grads[parents] += out_grad()
        return Kernels(forward, backward)
    return Kernels(forward, _chain_rule(group, b, None))


def _consecutive(parents: np.ndarray) -> Rows:
    """The rows (arity, nodes) as one slice when they are consecutive, else as they are."""
    rows = slice_or_rows(parents.reshape(-1))
    return rows if isinstance(rows, slice) else parents


def _elementwise(group: Group, b: Buffers) -> Kernels:
    """Any other op: its rule on whole rows, forward and backward."""
    op, param, once = group.op, group.param, group.once
    columns = slice(None, 1) if once else slice(None)
    values = b.values[:, columns]
    if group.sources is None:  # many inputs: one gather (arity, nodes, batch)
        parents = group.parents

        def inputs() -> list[Any]:
            return [*values[parents], *param]
    elif all(isinstance(s, slice) for s in group.sources):  # views: the same arrays at every run
        fixed = [*(values[s] for s in group.sources), *param]

        def inputs() -> list[Any]:
            return fixed
    else:
        views = [values[s] if isinstance(s, slice) else None for s in group.sources]
        rows = [None if isinstance(s, slice) else s for s in group.sources]

        def inputs() -> list[Any]:
            return [*(v if v is not None else values[r] for v, r in zip(views, rows)), *param]
    out = b.values[group.start:group.stop, :None if group.spread else 1]

    def forward(examples: np.ndarray) -> list[Any]:
        args = inputs()
        out[...] = op.forward(np, *args)
        return args

    # a built-in op gives nan or inf wherever its finite inputs are outside its domain (test_tape
    # checks this; (-inf) ** -0.5 is 0), so finite inputs and result need no domain check; another
    # op's inputs are always checked
    builtin = op.name in ops.BUILTIN_OPS and ops.OPS.get(op.name) is op
    arity = group.parents.shape[0]

    def checked(examples: np.ndarray) -> list[Any]:  # a domain check cannot see overflow: both
        args = inputs()
        result = op.forward(np, *args)
        if not (builtin and _finite(result) and all(_finite(a) for a in args[:arity])):
            assert op.valid is not None
            check_domain(group, args, op.valid(*args), examples)
            check_finite(group, args, result, examples, "forward")
        out[...] = result
        return args

    out_value = b.values[group.start:group.stop, columns]
    backward = _chain_rule(group, b, lambda args: op.local_grads(np, out_value, *args))
    return Kernels(forward if op.valid is None else checked, backward)


def _chain_rule(group: Group, b: Buffers, local_grads: Callable[[list[Any]], tuple[Any, ...]] | None
                ) -> Callable[[list[Any], np.ndarray], None]:
    """grad[parent] += local * grad[node] over a group's edges, given its local derivatives
    (None: all 1, a sum's)."""
    columns = slice(None, 1) if group.once else slice(None)
    out_grad = _out_grad(group, b.grads)
    ones = (1.0,) * group.parents.shape[0]
    if group.scatter is None:  # no row is read twice by one input position: add one position at a time
        adds = [(k, adder(b.grads, target, columns)) for k, target in enumerate(group.targets)
                if target is not None]

        def backward(args: list[Any], examples: np.ndarray) -> None:
            local, g = ones if local_grads is None else local_grads(args), out_grad()
            for k, add in adds:
                add(local[k] * g)
        return backward
    nodes = group.stop - group.start
    flows = np.empty((*group.parents.shape, 1 if group.once else b.grads.shape[1]))  # one per edge
    edges = np.concatenate([e.reshape(-1) for _, e in group.scatter])
    positions = np.unique(edges // nodes).tolist()  # the inputs whose edges carry a gradient
    add = _scatter_add(group, b.grads, flows.reshape(-1, flows.shape[-1]))

    def scatter(args: list[Any], examples: np.ndarray) -> None:
        g = out_grad()
        if local_grads is None:  # each edge carries grad[node]
            for k in positions:
                flows[k] = g
        else:
            local = local_grads(args)
            for k in positions:
                np.multiply(local[k], g, out=flows[k])
        add()
    return scatter


KERNELS: dict[str, Callable[[Group, Buffers], Kernels]] = {
    "layer": _layer,
    "sum": _sum,
    "elementwise": _elementwise,
}


def _out_grad(group: Group, grads: np.ndarray) -> Callable[[], np.ndarray]:
    """The group's grads; for nodes computed once, in column 0, summed over the columns
    when per-example nodes read them (their parents are computed once too)."""
    rows = grads[group.start:group.stop]
    if group.once and group.spread:
        return lambda: np.add.reduce(rows, axis=1, keepdims=True)
    rows = rows[:, :1] if group.once else rows
    return lambda: rows


def _scatter_add(group: Group, grads: np.ndarray, flows: np.ndarray) -> Callable[[], None]:
    """grad[parent] += the flows of all its edges (`flows`: one row per edge), as the buckets of
    tape_replay._scatter say; views where the rows and edges are consecutive."""
    assert group.scatter is not None
    target = grads[:, :1] if group.once else grads
    adds = []
    for rows, edges in group.scatter:
        m = edges.shape[1]
        into = adder(target, slice_or_rows(rows), slice(None))
        if m == 1:
            adds.append((into, rows_of(flows, slice_or_rows(edges[:, 0])), False))
        else:  # flows[edges] is (parents, m, columns): summed over m
            flat = slice_or_rows(edges.reshape(-1))
            shape = (*edges.shape, flows.shape[1])
            flow = rows_of(flows, flat, shape) if isinstance(flat, slice) else rows_of(flows, edges)
            adds.append((into, flow, True))

    def add() -> None:
        for into, flow, summed in adds:
            into(flow().sum(axis=1) if summed else flow())
    return add


def stacked(local: tuple[Any, ...], shape: tuple[int, ...]) -> np.ndarray:
    """The local derivatives as one array (arity, nodes, batch)."""
    try:
        array = np.array(local)
        if array.shape[1:] == shape:
            return array
    except ValueError:
        pass
    return np.array([np.broadcast_to(d, shape) for d in local])  # a rule gave a plain number: spread it


# --- errors name the op, its inputs, the example and the recorded node ------------------------

def gathered(values: np.ndarray, params: np.ndarray, group: Group) -> list[np.ndarray]:
    """A layer's inputs as a generic group's (one array per parent), for error messages."""
    full = values.copy()
    full[:len(params)] = params[:, None]
    return list(full[group.parents])


def check_domain(group: Group, args: list[np.ndarray], ok: Any, examples: np.ndarray) -> None:
    if not np.all(ok):
        node, column = np.argwhere(~np.broadcast_to(ok, args[0].shape))[0]
        where = f"{_call(group, args, node, column)} for example {examples[column]} of the batch"
        raise group.op.error(f"{where}: {group.op.domain}")  # ValueError (OverflowError for exp), as eager


def _finite(out: Any) -> bool:
    """Whether every number is finite, or near enough: a sum that overflows is looked at closer."""
    return math.isfinite(np.add.reduce(out, axis=None))


def check_finite(group: Group, args: list[np.ndarray], out: np.ndarray, examples: np.ndarray,
                 where: str) -> None:
    """Raise where an op made nan or inf from finite inputs (anywhere, under detect_anomaly)."""
    if _finite(out):
        return
    bad = ~np.isfinite(out)
    if where == "backward":
        bad = bad.any(axis=0)
    if not modes.state.anomaly:
        bad &= np.all([np.isfinite(a) for a in args[:group.parents.shape[0]]], axis=0)
    if np.any(bad):
        node, column = np.argwhere(bad)[0]
        call = f"{_call(group, args, node, column)} for example {examples[column]} of the batch"
        if modes.state.anomaly:
            raise FloatingPointError(f"anomaly in {where}: {call} gave a nan or inf")
        raise OverflowError(f"{call} overflows a float")


def check_backward(group: Group, args: list[np.ndarray], values: np.ndarray, out_grad: np.ndarray,
                   examples: np.ndarray) -> None:
    """Under detect_anomaly: every edge's local * grad[node], from the rule, must be finite."""
    out = values[group.start:group.stop]
    if group.once:  # as the backward kernels
        out = out[:, :1]
        out_grad = np.add.reduce(out_grad, axis=1, keepdims=True) if group.spread else out_grad[:, :1]
        args = [a[:, :1] for a in args[:group.parents.shape[0]]] + args[group.parents.shape[0]:]
    local = group.op.local_grads(np, out, *args)
    check_finite(group, args, stacked(local, out_grad.shape) * out_grad, examples, "backward")


def _call(group: Group, args: list[np.ndarray], node: int, column: int) -> str:
    """Like the eager engine's messages, e.g. log('x' (= -3.0)), with this example's numbers."""
    recorded = group.nodes[node]
    numbers = [f"{p.label!r} (= {float(a[node, column])!r})" if p.label else repr(float(a[node, column]))
               for p, a in zip(recorded._prev, args)]
    numbers += [repr(float(p if isinstance(p, float) else p[node, 0])) for p in group.param]
    name = f" (node {recorded.label!r})" if recorded.label else ""
    return f"{group.op.name}({', '.join(numbers)}){name}"
