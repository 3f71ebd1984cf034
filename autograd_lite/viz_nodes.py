"""Reading any micrograd-style node: the bottom layer of drawing and stepping.

Drawings, the stepper and `explain` accept autograd_lite's `Value` and any object
written the way micrograd writes one (the lecture's class, micrograd's own `Value`):
`.data`, `.grad`, `._prev` (children, often a `set`), `._op` (a string), and
optionally `.label` and `._backward` (a closure that adds to the children's grads).
Everything above this module reads nodes through these few functions, so it never
needs to know whose class a node is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from autograd_lite.engine import Constant, Value, local_grads, topological_order

Node = Any  # a Value, or any object with .data, .grad, ._prev and ._op

# micrograd's `_op` strings -> the names of autograd_lite's rules, so one matcher reads both
_OP_NAMES = {"+": "add", "*": "mul", "ReLU": "relu", "tanh": "tanh", "exp": "exp", "sigmoid": "sigmoid",
             "σ": "sigmoid", "log": "log"}


def is_ours(node: Node) -> bool:
    """An autograd_lite Value (which carries its ops' rules), rather than a foreign one."""
    return isinstance(node, Value)


def check_node(node: Node, where: str) -> None:
    """Raise a TypeError that says what a node needs, for anything that is not one."""
    missing = [name for name in ("data", "grad", "_prev") if not hasattr(node, name)]
    if missing:
        raise TypeError(f"{where}: {type(node).__name__} object {node!r:.60} is not a graph node: it has no "
                        f"{', '.join('.' + m for m in missing)}. Pass an autograd_lite Value or a "
                        "micrograd-style one (.data, .grad, ._prev, ._op)")


def parents(node: Node) -> tuple[Node, ...]:
    """A node's inputs, in a deterministic order.

    autograd_lite keeps them in argument order; micrograd keeps a set, whose order changes
    from run to run, so those are sorted by label and data (ties keep the set's order)."""
    prev = node._prev
    if isinstance(prev, (tuple, list)):
        return tuple(prev)
    return tuple(sorted(prev, key=lambda p: (str(getattr(p, "label", "")), _number(p.data))))


def _number(x: Any) -> float:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return 0.0
    return value if not math.isnan(value) else 0.0


def op_symbol(node: Node) -> str:
    """What made the node: its rule's symbol ('+', '*', '**' with the 3 written after it), else
    the `_op` string of a closure or foreign node ('**2', 'sig'); '' for a leaf."""
    rule = getattr(node, "_rule", None)
    if rule is not None:
        return str(rule.symbol)
    return str(getattr(node, "_op", "") or "")


def op_name(node: Node) -> str:
    """The rule's name ('mul', 'add', 'tanh', ...), or micrograd's `_op` read as one."""
    rule = getattr(node, "_rule", None)
    if rule is not None:
        return str(rule.name)
    symbol = op_symbol(node)
    return _OP_NAMES.get(symbol, symbol)


def has_rule(node: Node) -> bool:
    """Whether the node's local derivatives are known before backward (an autograd_lite op)."""
    return getattr(node, "_rule", None) is not None


def local_derivatives(node: Node) -> tuple[float, ...] | None:
    """d node / d parent for each parent, from its op's rule; None when only its `_backward` knows."""
    return tuple(local_grads(node)) if has_rule(node) else None


def label_of(node: Node) -> str:
    label = getattr(node, "label", "")
    return label if isinstance(label, str) else str(label)


def is_constant(node: Node) -> bool:
    return isinstance(node, Constant)


def as_float(x: Any) -> float:
    """A node's data or grad as a float (micrograd's grads start as the int 0)."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def order_of(root: Node) -> list[Node]:
    """Every node `root` depends on, each after its parents (the engine's walk for our Values)."""
    if is_ours(root):
        return topological_order(root)
    check_node(root, "drawing or stepping")
    order: list[Node] = []
    visited: set[int] = set()
    stack: list[Node | None] = [root]
    while stack:  # the same iterative walk as engine.topological_order, on parents()
        node = stack.pop()
        if node is None:
            order.append(stack.pop())
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append(node)
            stack.append(None)
            stack.extend(p for p in reversed(parents(node)) if id(p) not in visited)
    return order


def unique(nodes: Sequence[Node]) -> list[Node]:
    """Nodes without repeats (x * x reads x twice), first appearance first."""
    seen: set[int] = set()
    return [n for n in nodes if not (id(n) in seen or seen.add(id(n)))]  # type: ignore[func-returns-value]


__all__ = ["Node", "as_float", "check_node", "has_rule", "is_constant", "is_ours", "label_of",
           "local_derivatives", "op_name", "op_symbol", "order_of", "parents", "unique"]
