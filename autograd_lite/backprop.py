"""Backpropagation: walk the graph in topological order and apply the chain rule at every node.

`backward()` (engine.py) is two steps. First put the nodes in an order where every node
comes after all of its parents (`topological_order`). Then go through that order
backwards, from the output to the inputs, and at each node pass its gradient on to its
parents (`chain_rule`):

    parent.grad += local_derivative * node.grad

The local derivatives come from the node's rule in ops.py, at the values the graph holds
now (`local_grads`). The walk reads only what every node has -- `data`, `grad`, its
parents `_prev` and its rule `_rule` -- and knows nothing about particular ops: adding an
op never touches it. The stepper walks the same generator, one node at a time.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from autograd_lite.modes import state
from autograd_lite.ops import Op, scalar_math


class Node(Protocol):
    """What the walk reads of a node (engine.Value has all of it)."""

    data: float
    grad: float
    _prev: tuple[Any, ...]  # parents, in argument order
    _rule: Op | None  # None for a leaf, or for a closure node (micrograd's constructor)
    _param: Any

    @property
    def _backward(self) -> Callable[[], Any]: ...


N = TypeVar("N", bound=Node)


# --- the order ---------------------------------------------------------------------------

def topological_order(root: N) -> list[N]:
    """Every node that `root` depends on, each after all of its parents.

    Iterative depth-first search, so a chain of a million nodes is fine.
    A node is pushed, then a `None` marker, then its parents: when the marker
    comes off the stack again, all of the node's parents are in `order`.
    Parents are pushed last-first, so the first input is visited first and the
    order reads like the expression (drawings and the stepper number nodes by it).
    """
    order: list[N] = []
    visited: set[N] = set()
    stack: list[N | None] = [root]
    while stack:
        node = stack.pop()
        if node is None:  # the parents of the node below the marker are done
            order.append(stack.pop())  # type: ignore[arg-type]
        elif node not in visited:
            visited.add(node)
            stack.append(node)
            stack.append(None)
            for parent in reversed(node._prev):
                if parent not in visited:
                    stack.append(parent)
    return order


# --- the chain rule ----------------------------------------------------------------------

def local_grads(node: Node) -> tuple[float, ...]:
    """d node / d parent for each parent: the node's rule, at the values the graph holds now."""
    rule = node._rule
    if rule is None:
        if node._prev:
            raise TypeError(f"local_grads({describe(node)}): a closure node (micrograd's constructor) has no "
                            "rule; its derivative is the _backward function it was given")
        return ()
    args = [p.data for p in node._prev]
    if rule.has_param:
        args.append(node._param)
    try:
        return rule.local_grads(scalar_math, node.data, *args)  # type: ignore[no-any-return]
    except (ZeroDivisionError, OverflowError):  # e.g. d/dx sqrt(x) at 0
        return tuple(_infinite_slope(rule, node.data, args, i) for i in range(len(node._prev)))


def chain_rule(nodes: Iterable[N]) -> Iterator[tuple[N, tuple[float, ...] | None]]:
    """Apply the chain rule at each of `nodes` in turn, once:

        parent.grad += local_derivative * node.grad     for each parent

    and yield the node and its local derivatives (None for a closure node, whose
    derivative is the user's `_backward`, called instead; () for a leaf)."""
    anomaly = state.anomaly
    for node in nodes:
        rule = node._rule
        if rule is not None:
            try:  # local_grads(node), written out: this loop is most of backward's time
                grads = rule.local_grads(scalar_math, node.data, *[p.data for p in node._prev],
                                         *((node._param,) if rule.has_param else ()))
            except (ZeroDivisionError, OverflowError):
                grads = local_grads(node)
            grad = node.grad
            for parent, local in zip(node._prev, grads):
                parent.grad += local * grad  # the chain rule
        elif node._prev:  # a closure node
            node._backward()
            grads = None
        else:
            yield node, ()
            continue
        if anomaly:
            _check_grads(node, grads)
        yield node, grads


def backpropagate(root: N, grad: float = 1.0) -> Iterator[tuple[N, tuple[float, ...] | None]]:
    """Backward pass, one node at a time (see `Value.backward` for the rules).

    After the chain rule has been applied at a node, yields that node and its
    local derivatives; for a closure node (micrograd's constructor), whose
    derivative is the user's `_backward`, yields None instead. `Value.backward`
    runs it to the end; the stepper shows each step.
    """
    order = topological_order(root)
    for node in order:
        if node._prev:
            node.grad = 0.0  # interior grads are recomputed, leaves accumulate
    root.grad += as_float(grad, "backward")
    yield from chain_rule(reversed(order))


def _infinite_slope(op: Op, data: float, args: Any, i: int) -> float:
    """Where Python raises for a derivative that is infinite, use inf as NumPy and PyTorch do."""
    import numpy  # only on this rare path, so the engine itself needs no NumPy

    with numpy.errstate(all="ignore"):  # inf is the answer here: never print NumPy's warnings
        return float(op.local_grads(numpy, numpy.float64(data), *map(numpy.float64, args))[i])


# --- what errors say -----------------------------------------------------------------------

def describe(x: Any) -> str:
    """How an error message names a node: its label if it has one, and its value."""
    if not hasattr(x, "_rule"):  # a number, or anything else that is not one of our nodes
        return repr(x)
    if x.label:
        return f"{x.label!r} (= {x.data!r})"
    if x._prev:
        return f"<{x._rule.name if x._rule is not None else x._op or 'closure'} node = {x.data!r}>"
    return repr(x.data)


def call_text(op: Op, parents: Iterable[Any], param: Any) -> str:
    """An op applied to its inputs, as errors write it: log('x' (= -2.0))."""
    args = [describe(p) for p in parents]
    if op.has_param:
        args.append(repr(param))
    return f"{op.name}({', '.join(args)})"


def _check_grads(node: Node, grads: tuple[float, ...] | None) -> None:
    for i, parent in enumerate(node._prev):
        local = grads[i] if grads is not None else 0.0
        if not (math.isfinite(local) and math.isfinite(parent.grad)):
            made = (call_text(node._rule, node._prev, node._param) if node._rule is not None
                    else f"the _backward of {describe(node)}")
            raise FloatingPointError(
                f"anomaly in backward: {made} gave "
                + (f"the local derivative {local} for " if grads is not None else "")
                + f"{describe(parent)}, whose grad became {parent.grad}")


def as_float(x: Any, where: str) -> float:
    """x as a float, or TypeError naming `where` (a bool or an array is not a number here)."""
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    if isinstance(x, bool):
        raise TypeError(f"{where}: got a bool ({x}); use a number such as {float(x)} instead")
    hint = " (use float(x) or .item() for a single number)" if hasattr(x, "shape") else ""
    raise TypeError(f"{where}: expected a real number, got {type(x).__name__} {x!r}{hint}")
