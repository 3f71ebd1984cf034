"""Copies of Values and whole graphs: `pickle` and `copy.deepcopy`, without recursion.

A node refers to its op's rule by name (`ops.OPS[name]`), so nothing unpicklable (the rules
are lambdas) is written, and a graph is written as one flat list, parents first, with
parents given by their place in the list: a chain of 100,000 nodes copies without deep
recursion, and a node two others share (a diamond, x * x) is one node in the copy too.

Leaves (inputs, parameters, constants) are written as themselves, so `pickle` and
`deepcopy`'s memo keep them one object across everything copied together: in
`deepcopy((model, loss))` the copied loss depends on the copied model's parameters.
Interior nodes belong to the graph of the Value being copied: copying two outputs
separately copies the nodes they share once for each.

`Value.__reduce__` (engine.py) calls `reduce`; this module sits below the engine and knows
a node only by its attributes.
"""

from __future__ import annotations

from typing import Any

from autograd_lite.ops import OPS

# a node of the flat list: (class, data, grad, label, rule name, param, parent indexes, attributes)
Record = tuple[type, float, float, str, str, Any, tuple[int, ...], dict[str, Any] | None]


def reduce(root: Any, order: list[Any]) -> tuple[Any, ...]:
    """`root.__reduce__()`, given every node of its graph in topological order (root last)."""
    if not root._prev:
        return _leaf, (type(root), root.data, root.grad, root.label, _attributes(root))
    where: dict[Any, int] = {}
    nodes: list[Any] = []  # a leaf as itself, an interior node as a Record
    for node in order:
        if not node._prev:
            nodes.append(node)
        elif node._rule is None:
            raise TypeError(f"cannot copy a graph with a closure node (micrograd's constructor, "
                            f"_op={node._op!r}): its derivative is a Python function bound to the "
                            "original nodes; define the op with define_op to make it copyable")
        else:
            nodes.append((type(node), node.data, node.grad, node.label, node._rule.name, node._param,
                          tuple(where[p] for p in node._prev), _attributes(node)))
        where[node] = len(nodes) - 1
    return _graph, (nodes,)


def _attributes(node: Any) -> dict[str, Any] | None:
    """A node's user attributes (micrograd code sets p.m = 0; its constructor keeps `_op`)."""
    return dict(node.__dict__) or None


def _leaf(cls: type, data: float, grad: float, label: str, attributes: dict[str, Any] | None) -> Any:
    return _make(cls, data, grad, label, (), None, None, attributes)


def _graph(nodes: list[Any]) -> Any:
    made: list[Any] = []
    for item in nodes:
        if type(item) is not tuple:  # a leaf, already rebuilt by pickle (or deepcopy) itself
            made.append(item)
            continue
        cls, data, grad, label, name, param, parents, attributes = item
        rule = OPS.get(name)
        if rule is None:
            raise ValueError(f"the copied graph uses the op {name!r}, which is not defined here: define it "
                             "(define_op) before loading the graph")
        made.append(_make(cls, data, grad, label, tuple(made[i] for i in parents), rule, param, attributes))
    return made[-1]


def _make(cls: type, data: float, grad: float, label: str, parents: tuple[Any, ...], rule: Any, param: Any,
          attributes: dict[str, Any] | None) -> Any:
    node: Any = object.__new__(cls)  # restoring a node's state, as pickle does: no op runs again
    node.data, node.grad, node.label = data, grad, label
    node._prev, node._rule, node._param = parents, rule, param
    if attributes:
        node.__dict__.update(attributes)
    return node
