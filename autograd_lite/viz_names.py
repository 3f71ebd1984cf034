"""How drawings, steppers and ledgers write numbers and name and number the nodes of a graph.

A node's name is its label; a constant's is its value. With the model passed as `params=`,
the rest are named after what they compute: a neuron's weighted sum `L2N3.z` and its
activation `L2N3.out` (the ones of the second evaluation `L2N3.out#2`), the parameters by
their place (`L2N3.w1`, `L2N3.b`), the root `loss`, and the loss's parts by their formula
(`L3N1.out - 1.0`) when it is short. Anything else is `n<i>`, its place in the order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from autograd_lite.viz_neurons import ACTIVATIONS, find_neurons, neuron_map
from autograd_lite.viz_nodes import Node, as_float, is_constant, label_of, op_name, op_symbol, parents

MAX_FORMULA_NAME = 24  # a loss's part is named by its formula up to this many characters


_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def visible(text: str) -> str:
    """Control characters and lone surrogates written out (`\\x00`, `\\udc80`): Graphviz and
    UTF-8 cannot carry them, and a reader should see that they are there."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                       else f"\\u{ord(m.group()):04x}", str(text))


def fmt(x: float, digits: int = 4) -> str:
    """A number as drawings and ledgers show it: 4 significant digits, '2.0' for whole numbers."""
    x = as_float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0.0"
    text = f"{x:.{digits}g}"
    if 10**digits <= abs(float(text)) < 1e7:  # 44850.0 rather than 4.485e+04 (and 9999.7 once rounded)
        return f"{x:.1f}"
    if "e" not in text and "." not in text and math.isclose(float(text), x, rel_tol=1e-12):
        text += ".0"  # a whole number (up to float noise): '1.0', not '1'; but '1235' for 1234.6
    return text


def node_ids(order: Sequence[Node]) -> dict[Node, str]:
    """Stable ids: a node's position in the topological order ('n0', 'n1', ...), never id()."""
    return {node: f"n{i}" for i, node in enumerate(order)}


def node_names(order: Sequence[Node], digits: int = 4, params: Any = None) -> dict[Node, str]:
    """What drawings and ledgers call each node (see the module's docstring)."""
    names = {node: visible(label_of(node)) or (fmt(node.data, digits) if is_constant(node) else f"n{i}")
             for i, node in enumerate(order)}
    if params is None or not (hasattr(params, "layers") or hasattr(params, "neurons")):
        return names
    _name_parameters(order, params, names)
    labelled = {node for node in order if label_of(node) or is_constant(node)}
    named = _name_neurons(order, params, names, labelled)
    root = order[-1]
    if root not in labelled and root not in named:
        names[root] = "loss"
        named.add(root)
    counts: dict[str, int] = {}
    for node in order:  # the loss's parts, by their formula, or by their op when that is too long
        if node not in labelled and node not in named and parents(node):
            formula = _formula(node, names)
            if len(formula) > MAX_FORMULA_NAME:
                op = op_name(node)
                counts[op] = counts.get(op, 0) + 1
                formula = f"{names[root]}.{op}{counts[op]}"  # 'loss.exp3': the third exp of the loss
            names[node] = formula
    return names


def _name_parameters(order: Sequence[Node], model: Any, names: dict[Node, str]) -> None:
    """Parameters by place ('L1N2.w1'), when their labels do not tell them apart."""
    drawn = set(order)
    if hasattr(model, "named_parameters"):
        placed = [(p, _short_path(path)) for path, p in model.named_parameters() if p in drawn]
    else:  # micrograd's model: .layers[i].neurons[j].parameters() = w + [b]
        placed = []
        for p, (layer, neuron) in neuron_map(model).items():
            if p in drawn:
                unit = _neuron(model, layer, neuron)
                ps = unit.parameters()
                k = next(j for j, q in enumerate(ps) if q is p)
                part = "b" if k == len(ps) - 1 and hasattr(unit, "b") else f"w{k + 1}"
                placed.append((p, f"L{layer + 1}N{neuron + 1}.{part}"))
    labels = [label_of(p) for p, _ in placed]
    if len(set(labels)) < len(labels) or not all(labels):  # then all of them, for one naming scheme
        for p, name in placed:
            names[p] = name


def _neuron(model: Any, layer: int, neuron: int) -> Any:
    layers = getattr(model, "layers", None) or [model]
    return layers[layer].neurons[neuron]


def _name_neurons(order: Sequence[Node], model: Any, names: dict[Node, str],
                  labelled: set[Node]) -> set[Node]:
    """`L2N3.z` (weighted sum) and `L2N3.out` (activation) for each neuron evaluation."""
    found = find_neurons(order, model)
    groups: dict[int, list[Node]] = {}
    for node in found.neuron_of:
        groups.setdefault(found.neuron_groups.find(found.index[node]), []).append(node)
    evaluations: dict[tuple[int, int], int] = {}
    named: set[Node] = set()
    for key in sorted(groups):
        members = groups[key]
        layer, neuron = found.neuron_of[members[0]]
        count = evaluations[layer, neuron] = evaluations.get((layer, neuron), 0) + 1
        base = f"L{layer + 1}N{neuron + 1}"
        suffix = f"#{count}" if count > 1 else ""
        out = members[-1]
        z = parents(out)[0] if op_name(out) in ACTIVATIONS else out
        terms = 0
        for node in members:
            if node in labelled:
                continue
            if node is out:
                names[node] = f"{base}.out{suffix}"
            elif node is z:
                names[node] = f"{base}.z{suffix}"
            elif op_name(node) == "mul":
                weight = next((p for p in parents(node) if p in found.owner), None)
                names[node] = f"{names[weight]}·x{suffix}" if weight is not None else f"{base}.term{suffix}"
                if layer == 0 and weight is not None:  # micrograd makes a leaf per input number: x1, x2
                    ps = _neuron(model, layer, neuron).parameters()
                    k = next(j for j, q in enumerate(ps) if q is weight)
                    for x in parents(node):
                        if x is not weight and not parents(x) and x not in labelled and x not in found.owner:
                            names[x] = f"x{k + 1}"
                            named.add(x)
            else:
                terms += 1
                names[node] = f"{base}.z{terms}{suffix}"  # a partial sum
            named.add(node)
    return named


def ref(name: str) -> str:
    """A name as part of an expression: '(L3N1.out * -1.0).grad', not 'L3N1.out * -1.0.grad'."""
    return f"({name})" if " " in name else name


def _formula(node: Node, names: dict[Node, str]) -> str:
    """'L3N1.out - 1.0', 'relu(n5)': the op applied to its inputs' names."""
    symbol, inputs = op_symbol(node), [ref(names[p]) for p in parents(node)]
    param = getattr(node, "_param", None)
    if param is not None:
        inputs.append(fmt(param))
    if len(inputs) == 2 and symbol and not symbol[0].isalpha() and symbol != "σ":
        return f"{inputs[0]} {symbol} {inputs[1]}"
    return f"{symbol}({', '.join(inputs)})"


def _short_path(path: str) -> str:
    """'layers.0.neurons.1.w.0' -> 'L1N2.w1' (1-based, as the labels)."""
    def one_based(m: re.Match[str]) -> str:
        return str(int(m.group(1)) + 1)

    short = re.sub(r"layers\.(\d+)\.?", lambda m: "L" + one_based(m), path)
    short = re.sub(r"neurons\.(\d+)\.?", lambda m: "N" + one_based(m) + ".", short)
    return re.sub(r"w\.(\d+)$", lambda m: "w" + one_based(m), short)





def forward_line(node: Node, names: dict[Node, str], digits: int = 4) -> str:
    """How a node was computed: `h1 = σ(z1) = σ(0.525) = 0.6283`."""
    if not parents(node):
        return f"{names[node]} = {fmt(node.data, digits)}"
    symbol, inputs = op_symbol(node) or "?", parents(node)
    nums = [fmt(p.data, digits) for p in inputs]
    labels = [ref(names[p]) for p in inputs]
    param = getattr(node, "_param", None)
    if param is not None:
        nums.append(fmt(param, digits))
        labels.append(fmt(param, digits))
    if len(labels) == 2 and not symbol[0].isalpha() and symbol != "σ":
        expr, values = f" {symbol} ".join(labels), f" {symbol} ".join(nums)
    else:
        expr, values = f"{symbol}({', '.join(labels)})", f"{symbol}({', '.join(nums)})"
    return f"{names[node]} = {expr} = {values} = {fmt(node.data, digits)}"

__all__ = ["fmt", "forward_line", "node_ids", "node_names", "ref", "visible"]
