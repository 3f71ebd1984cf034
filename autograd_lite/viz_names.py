"""How drawings, steppers and ledgers write numbers and name and number the nodes of a graph."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from autograd_lite.engine import Constant, Value


def fmt(x: float, digits: int = 4) -> str:
    """A number as drawings and ledgers show it: 4 significant digits, '2.0' for whole numbers."""
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0.0"
    text = f"{x:.{digits}g}"
    if 10**digits <= abs(float(text)) < 1e7:  # 44850.0 rather than 4.485e+04 (and 9999.7 once rounded)
        return f"{x:.1f}"
    if "e" not in text and "." not in text and float(text) == x:
        text += ".0"
    return text


def node_ids(order: Sequence[Value]) -> dict[Value, str]:
    """Stable ids: a node's position in the topological order ('n0', 'n1', ...), never id()."""
    return {node: f"n{i}" for i, node in enumerate(order)}


def node_names(order: Sequence[Value], digits: int = 4, params: Any = None) -> dict[Value, str]:
    """What drawings and ledgers call a node: its label, its value for a constant, else its id.

    When a model's parameters share labels (every neuron has a 'w1'), all of them are named by
    their place in the model instead: 'L1N2.w1' is weight 1 of neuron 2 of layer 1."""
    names = {node: node.label or (fmt(node.data, digits) if isinstance(node, Constant) else f"n{i}")
             for i, node in enumerate(order)}
    if hasattr(params, "named_parameters"):
        seen: dict[str, int] = {}
        for node in order:
            seen[node.label] = seen.get(node.label, 0) + 1
        drawn = [(path, p) for path, p in params.named_parameters() if p in names]
        if any(seen.get(p.label, 0) > 1 for _, p in drawn):  # then all of them, for one naming scheme
            for path, p in drawn:
                names[p] = _short_path(path)
    return names


def _short_path(path: str) -> str:
    """'layers.0.neurons.1.w.0' -> 'L1N2.w1' (1-based, as the labels)."""
    def one_based(m: re.Match[str]) -> str:
        return str(int(m.group(1)) + 1)

    short = re.sub(r"layers\.(\d+)\.?", lambda m: "L" + one_based(m), path)
    short = re.sub(r"neurons\.(\d+)\.?", lambda m: "N" + one_based(m) + ".", short)
    return re.sub(r"w\.(\d+)$", lambda m: "w" + one_based(m), short)


__all__ = ["fmt", "node_ids", "node_names"]
