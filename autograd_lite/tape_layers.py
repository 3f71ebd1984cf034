"""Layers for the tape: the dot nodes of one level that read the same inputs, as matrix products.

A neuron's weighted sum is one `dot` node, w1*x1 + ... + wn*xn + b (ops.DOT). The neurons of
a layer are dot nodes of one level that read the same inputs x1..xn in the same order, with
parameters (leaves) for weights and biases. Together they are out = W @ X + b for the whole
batch (X: the inputs' rows, one column per example), and their backward is two matrix
products, as the rule's local derivatives say (see layer_backward). The parameters are read
from one vector per run, laid out so that each layer's [W | b] is a contiguous block: a
matrix without a copy. See tape_replay.py for the rest of the replay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_lite.engine import Value

GroupKey = tuple[int, str, int, bool, Any]  # level, op, arity, depends on the inputs, the layer's inputs


@dataclass
class Layer:
    """The dot nodes of one level that read the same inputs x1..xn in the same order, with
    leaves for weights and biases: a layer, replayed as matrix products (tape_replay.Program).

    `block` indexes the parameter vector for the matrix [W | b] (nodes, n + 1), row j node j's
    weights then its bias -- the order of Neuron.parameters(); `inputs` are the rows of x1..xn.
    Each is a slice when contiguous (a view, no copy)."""

    block: slice | np.ndarray
    inputs: slice | np.ndarray
    shape: tuple[int, int]  # (nodes, n)
    input_grads: bool  # False when x is the example's inputs: nobody reads their gradients


def layer_kernels(layer: Layer, values: np.ndarray, grads: np.ndarray, params: np.ndarray,
                  leaf_grads: np.ndarray, rows: slice) -> tuple[Callable[[], None], Callable[[], None]]:
    """A layer's forward and backward, bound to the arrays of a run (views made once).

    Forward: out = W @ X + b for every example at once (ops.DOT's forward, in another order
    of the sums). Backward: ops.DOT's local derivatives are d out_j/d w_ji = x_i,
    d out_j/d x_i = w_ji and d out_j/d b_j = 1, so summing grad[parent] += local * grad[node]
    over the nodes j and the examples (columns) is dW = G Xᵀ, db = G summed over examples,
    dX = Wᵀ G, with G the nodes' grads (nodes, batch)."""
    m, n = layer.shape
    out, G = values[rows], grads[rows]
    weights = rows_of(params, layer.block, (m, n + 1))  # [W | b]
    inputs = rows_of(values, layer.inputs)

    def forward() -> None:
        w = weights()
        np.matmul(w[:, :n], inputs(), out=out)
        np.add(out, w[:, n:], out=out)  # (what += does)

    if isinstance(layer.block, slice):  # a view of leaf_grads: add in place
        grad = leaf_grads[layer.block].reshape(m, n + 1)
        dW, db = grad[:, :n], grad[:, n]

        def add_leaf_grads(X: np.ndarray) -> None:
            np.add(dW, G @ X.T, out=dW)
            np.add(db, np.add.reduce(G, axis=1), out=db)
    else:  # a leaf may appear twice: add every edge
        def add_leaf_grads(X: np.ndarray) -> None:
            edges = np.empty((m, n + 1))
            edges[:, :n], edges[:, n] = G @ X.T, np.add.reduce(G, axis=1)
            np.add.at(leaf_grads, layer.block, edges.reshape(-1))  # type: ignore[arg-type]

    add_input_grads = adder(grads, layer.inputs)
    # Wᵀ G; for one node, each entry is one product w_i g: NumPy's outer product is faster
    # (and its sign of a zero product is lost in the add, 0.0 + -0.0 = 0.0, as in the matmul's sum)
    input_grads = (lambda w: np.multiply(w.T, G)) if m == 1 else (lambda w: w.T @ G)

    def backward() -> None:
        add_leaf_grads(inputs())
        if layer.input_grads:
            add_input_grads(input_grads(weights()[:, :n]))

    return forward, backward


def rows_of(array: np.ndarray, rows: slice | np.ndarray, shape: tuple[int, ...] | None = None
            ) -> Callable[[], np.ndarray]:
    """array[rows] (reshaped), as a function: a view made once when rows are a slice."""
    if isinstance(rows, slice):
        view = array[rows] if shape is None else array[rows].reshape(shape)
        return lambda: view
    return lambda: array[rows] if shape is None else array[rows].reshape(shape)


def adder(array: np.ndarray, rows: slice | np.ndarray, columns: slice = slice(None)
          ) -> Callable[[np.ndarray], None]:
    """array[rows, columns] += x (rows all different), as a function: a view made once when
    rows are a slice."""
    if isinstance(rows, slice):
        view = array[rows, columns]
        return lambda x: np.add(view, x, out=view)  # (what += does)

    def add(x: np.ndarray) -> None:
        array[rows, columns] += x
    return add


def layer_inputs(parents: list[Value], inputs: dict[Value, int]) -> tuple[int, ...] | None:
    """For a dot node whose weights and bias are leaves (not inputs), its inputs x1..xn (by id),
    which decide its layer; None for any other dot node."""
    n = len(parents) // 2
    xs = tuple(id(x) for x in parents[n:2 * n])
    if any(p._prev or p in inputs for p in (*parents[:n], parents[-1])) or len(set(xs)) < n:
        return None
    return xs


def leaf_order(leaves: list[Value], members: list[tuple[GroupKey, list[Value]]],
               same_as: dict[Value, Value]) -> list[Value]:
    """The leaves, each layer's [W | b] as a block of its own (a matrix without a copy, and
    in the order of the model's parameters()), after the other leaves."""
    placed: dict[Value, None] = {}
    for key, group in members:
        if key[4] is None:
            continue
        n = key[2] // 2
        block = [same_as[p] for node in group for p in (*node._prev[:n], node._prev[-1])]
        if len(set(block)) == len(block) and not any(leaf in placed for leaf in block):
            placed.update(dict.fromkeys(block))
    return [leaf for leaf in leaves if leaf not in placed] + list(placed)


def slice_or_rows(rows: np.ndarray) -> slice | np.ndarray:
    """rows as a slice when they are consecutive (indexing with it is a view, not a copy)."""
    if len(rows) and np.array_equal(rows, np.arange(rows[0], rows[0] + len(rows))):
        return slice(int(rows[0]), int(rows[0]) + len(rows))
    return rows
