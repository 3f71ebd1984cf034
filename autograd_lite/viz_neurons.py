"""Finding the neurons of an MLP in a graph, from the model's parameters.

One pass in topological order; each op has a small matcher (a table, as tinygrad's
`pm_gradient`), which decides from the node's inputs whether it continues a neuron:

* `dot` (autograd_lite's w·x+b) whose parameters all belong to one neuron: its weighted sum,
* `mul` with exactly one of a neuron's parameters as an input: a term of its weighted sum
  (micrograd's Neuron, or one written by hand),
* `add`/`sum` whose inputs are parts of that sum or the neuron's own parameters (the bias),
* an activation of the sum, which ends it.

Every evaluation of a neuron (one per example) is one group of nodes; the evaluations of a
layer's neurons that read the same inputs form one layer group. A model is anything with
`.layers`, each with `.neurons`, each with `.parameters()` (micrograd's and autograd_lite's MLP).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd_lite.viz_nodes import Node, op_name, parents

ACTIVATIONS = frozenset({"tanh", "sigmoid", "relu", "leaky_relu"})


def neuron_map(model: Any) -> dict[Node, tuple[int, int]]:
    """parameter -> (layer index, neuron index), from a model's .layers[i].neurons[j].parameters()."""
    layers = getattr(model, "layers", None)
    if layers is None and hasattr(model, "neurons"):
        layers = [model]  # a single layer
    if layers is None:
        raise ValueError("collapse needs to know the neurons: pass the model as params, e.g. "
                         "draw_dot(loss, params=model, collapse='neuron'), where the model has .layers, "
                         "each with .neurons, each with .parameters() (like an MLP)")
    return {p: (li, ni) for li, layer in enumerate(layers)
            for ni, neuron in enumerate(layer.neurons) for p in neuron.parameters()}


class Groups:
    """Union-find over node positions; a group is named by its earliest member."""

    def __init__(self, n: int) -> None:
        self.up = list(range(n))

    def find(self, i: int) -> int:
        while self.up[i] != i:
            self.up[i] = self.up[self.up[i]]
            i = self.up[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.up[max(a, b)] = min(a, b)


@dataclass
class Neurons:
    """What the pass found: which neuron each node computes, and how the nodes group."""

    order: Sequence[Node]
    owner: dict[Node, tuple[int, int]]  # parameter -> (layer, neuron)
    index: dict[Node, int]
    neuron_groups: Groups
    layer_groups: Groups
    neuron_of: dict[Node, tuple[int, int]] = field(default_factory=dict)
    ended: set[Node] = field(default_factory=set)  # activations: the sum is over
    readers: dict[tuple[int, Node], int] = field(default_factory=dict)  # (layer, input) -> first reader

    def same_input(self, layer: int, x: Node, i: int) -> None:
        """Neurons of a layer that read the same input belong to one layer box."""
        self.layer_groups.union(self.readers.setdefault((layer, x), i), i)

    def open_sum(self, node: Node) -> bool:
        return node in self.neuron_of and node not in self.ended


def _mul(found: Neurons, node: Node, i: int) -> None:
    weights = [p for p in parents(node) if p in found.owner]
    if len(weights) == 1:
        found.neuron_of[node] = found.owner[weights[0]]
        for x in parents(node):
            if x is not weights[0]:
                found.same_input(found.owner[weights[0]][0], x, i)


def _dot(found: Neurons, node: Node, i: int) -> None:
    owners = {found.owner[p] for p in parents(node) if p in found.owner}
    if len(owners) == 1:
        found.neuron_of[node] = owners.pop()
        for x in parents(node):
            if x not in found.owner:
                found.same_input(found.neuron_of[node][0], x, i)


def _sum(found: Neurons, node: Node, i: int) -> None:
    owners, inside = set(), []
    for p in parents(node):
        if p in found.owner:
            owners.add(found.owner[p])
        elif found.open_sum(p):
            owners.add(found.neuron_of[p])
            inside.append(p)
        else:
            return  # something from outside the neuron: not its sum
    if inside and len(owners) == 1:
        found.neuron_of[node] = owners.pop()
        for p in inside:
            found.neuron_groups.union(found.index[p], i)


def _activation(found: Neurons, node: Node, i: int) -> None:
    (x, *rest) = parents(node)
    if not rest and found.open_sum(x):
        found.neuron_of[node] = found.neuron_of[x]
        found.ended.add(node)
        found.neuron_groups.union(found.index[x], i)


Matcher = Callable[[Neurons, Node, int], None]
MATCHERS: dict[str, Matcher] = {"mul": _mul, "dot": _dot, "add": _sum, "sum": _sum,
                                **{name: _activation for name in ACTIVATIONS}}


def find_neurons(order: Sequence[Node], model: Any) -> Neurons:
    """Which neuron computes each node, with the neuron and layer groups."""
    index = {node: i for i, node in enumerate(order)}
    found = Neurons(order, neuron_map(model), index, Groups(len(order)), Groups(len(order)))
    for i, node in enumerate(order):
        matcher = MATCHERS.get(op_name(node))
        if matcher is not None and parents(node):
            matcher(found, node, i)
    read_by: dict[int, int] = {}  # neuron evaluation -> an earlier neuron output it reads
    for node in found.neuron_of:  # a layer box holds whole neuron evaluations ...
        at = found.neuron_groups.find(index[node])
        found.layer_groups.union(index[node], at)
        if op_name(node) in ("mul", "dot"):  # ... and the outputs it reads (plain-number inputs
            for x in parents(node):  # are never shared, so this is needed)
                if x in found.neuron_of:
                    found.layer_groups.union(read_by.setdefault(at, index[x]), index[x])
    return found


__all__ = ["ACTIVATIONS", "MATCHERS", "Neurons", "find_neurons", "neuron_map"]
