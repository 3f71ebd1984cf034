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


def layer_forward(layer: Layer, values: np.ndarray, params: np.ndarray, out: np.ndarray) -> None:
    """out = W @ X + b for every example at once (ops.DOT's forward, in another order of the sums)."""
    n = layer.shape[1]
    weights = params[layer.block].reshape(layer.shape[0], n + 1)
    np.matmul(weights[:, :n], values[layer.inputs], out=out)
    out += weights[:, n:]


def layer_backward(layer: Layer, values: np.ndarray, grads: np.ndarray, params: np.ndarray,
                   leaf_grads: np.ndarray, out_grad: np.ndarray) -> None:
    """The chain rule through a layer, for the whole batch at once. ops.DOT's local derivatives
    are d out_j/d w_ji = x_i, d out_j/d x_i = w_ji and d out_j/d b_j = 1, so summing
    grad[parent] += local * grad[node] over the nodes j and the examples (columns) is
    dW = G Xᵀ, db = G summed over examples, dX = Wᵀ G, with G the nodes' grads (nodes, batch)."""
    X = values[layer.inputs]
    m, n = layer.shape
    if isinstance(layer.block, slice):  # a view of leaf_grads: add in place
        block = leaf_grads[layer.block].reshape(m, n + 1)
        block[:, :n] += out_grad @ X.T
        block[:, n] += np.add.reduce(out_grad, axis=1)
    else:  # a leaf may appear twice: add every edge
        block = np.empty((m, n + 1))
        block[:, :n], block[:, n] = out_grad @ X.T, np.add.reduce(out_grad, axis=1)
        np.add.at(leaf_grads, layer.block, block.reshape(-1))  # type: ignore[arg-type]
    if layer.input_grads:
        grads[layer.inputs] += params[layer.block].reshape(m, n + 1)[:, :n].T @ out_grad


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
