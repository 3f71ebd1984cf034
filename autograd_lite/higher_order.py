"""Gradients as values: `grad()`, and gradients of gradients.

`Value.backward()` adds d root / d leaf into every leaf's `.grad`. `grad()` instead
*returns* the gradients of some outputs with respect to some inputs, as
`torch.autograd.grad` does, and leaves every `.grad` as it was:

    >>> x = Value(0.5)
    >>> y = x.tanh()
    >>> grad(y, x)                       # dy/dx = 1 - tanh(x)^2, a float
    (0.7864477329659274,)
    >>> dydx, = grad(y, x, create_graph=True)
    >>> grad(dydx, x)                    # d2y/dx2 = -2 tanh(x) (1 - tanh(x)^2)
    (-0.7268619813835873,)

With `create_graph=True` the backward pass is itself recorded as a graph of Values.
The chain rule is the same, `grad[parent] += local * grad[node]`, but each local
derivative comes from the op's own rule in ops.py evaluated with `value_math` as
`xp`: tanh's rule `1 - out * out` then builds nodes instead of computing a float.
So the gradient is a Value like any other (draw it, step it, differentiate it
again), no derivative is written twice, and an op defined by an `xp` rule gets every
higher derivative for free.

What has no derivative of its own:

* A rule that picks a branch with `xp.where` (relu, abs, leaky_relu) returns a plain
  number there, so their second derivative is 0: everywhere, the kink included, as in PyTorch.
* A derivative that is a plain number (d(3x)/dx = 3) is returned as a `Constant`,
  which depends on no input: differentiating it again needs `allow_unused=True`
  (None) or `materialize_grads=True` (0), as in PyTorch.
* A closure node (micrograd's `Value(data, _children, _op)` with a hand-written
  `_backward`) has code, not a rule: first-order `grad()` runs that code once to read
  its local derivatives (and puts every `.grad` back), but there is nothing to
  evaluate on Values, so `create_graph=True` through it raises `NotDifferentiableError`.
  So does a rule that calls an `xp` function no op computes on Values (`xp.arctan`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, TypeAlias, overload

from autograd_lite.engine import Constant, Value, describe, local_grads, topological_order, value_sum
from autograd_lite.modes import state
from autograd_lite.ops import scalar_math

Gradient: TypeAlias = "float | Value"  # a float, or a Value with create_graph=True
Values: TypeAlias = "Value | Sequence[Value]"


class NotDifferentiableError(RuntimeError):
    """create_graph=True met a node whose derivative is code, not a rule in ops.py."""


class UnusedInputError(RuntimeError):
    """An input the outputs do not depend on, without allow_unused=True."""


# How scalar_math's functions act on a Value: one primitive op, or a few.
# (where picks one of its arguments, and ones_like is a number: they stay as they are.)
_ON_VALUES: dict[str, Callable[[Value], Value]] = {
    "exp": Value.exp, "log": Value.log, "tanh": Value.tanh, "sin": Value.sin, "cos": Value.cos,
    "abs": abs,
    "sqrt": Value.sqrt,  # x ** 0.5
    "log1p": lambda x: (1 + x).log(),
    "expm1": lambda x: x.exp() - 1,
    "sinh": lambda x: (x.exp() - (-x).exp()) * 0.5,
    "cosh": lambda x: (x.exp() + (-x).exp()) * 0.5,
    "tan": lambda x: x.sin() / x.cos(),
}
_AS_THEY_ARE = {"where", "ones_like"}


def _on_values(name: str) -> Any:
    """scalar_math's `name`, made to build a node when it is given a Value."""
    number = getattr(scalar_math, name)
    if not callable(number) or name in _AS_THEY_ARE:
        return number
    on_value = _ON_VALUES.get(name)

    def function(x: Any) -> Any:
        if not isinstance(x, Value):
            return number(x)
        if on_value is None:
            raise NotDifferentiableError(
                f"xp.{name}({describe(x)}) in a rule evaluated on Values (create_graph=True): no op "
                f"computes {name} on Values, so this derivative cannot be differentiated again; "
                "write the rule with exp, log, tanh, sin, cos and arithmetic, or use create_graph=False")
        return on_value(x)

    function.__name__ = name
    return function


class _ValueMath:
    """The `xp` whose functions make Value nodes: scalar_math's functions, for Values.

    A rule evaluated with it builds the graph of its derivative. Numbers stay numbers
    (tanh's rule `1 - out * out` is two nodes; relu's `where(x > 0, 1.0, 0.0)` is a number).
    """

    def __init__(self) -> None:
        for name in vars(scalar_math):
            if not name.startswith("_"):
                setattr(self, name, _on_values(name))

    def __getattr__(self, name: str) -> Any:  # a name scalar_math lacks: its error says what there is
        return getattr(scalar_math, name)


value_math = _ValueMath()


@overload
def grad(outputs: Values, inputs: Values, grad_outputs: Any = None, *, retain_graph: bool | None = None,
         create_graph: Literal[False] = False, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple[float | None, ...]: ...
@overload
def grad(outputs: Values, inputs: Values, grad_outputs: Any = None, *, retain_graph: bool | None = None,
         create_graph: Literal[True], allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple[Value | None, ...]: ...
@overload
def grad(outputs: Values, inputs: Values, grad_outputs: Any = None, *, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple[Gradient | None, ...]: ...
def grad(outputs: Values, inputs: Values, grad_outputs: Any = None, *, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple[Gradient | None, ...]:
    """The gradients of `outputs` with respect to each of `inputs`, as a tuple.

    Like `torch.autograd.grad`: the result for input x is the sum over the outputs of
    grad_output * d output / d x (`grad_outputs` defaults to 1 for each output).
    No `.grad` is read or written.

    * `create_graph=True` returns Values whose graph computes the derivative, so they
      can be differentiated again, drawn and stepped (see the module's docstring);
      otherwise the results are floats and no node is made.
    * An input the outputs do not depend on raises `UnusedInputError`, unless
      `allow_unused=True` (its result is then None) or `materialize_grads=True` (0).
    * `retain_graph` is accepted for PyTorch's sake: graphs here are never freed.
    """
    outs, ins = _as_values(outputs, "outputs"), _as_values(inputs, "inputs")
    seeds = _seeds(outs, grad_outputs, create_graph)
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("grad(): materialize_grads=True gives 0 for unused inputs, which contradicts "
                         "allow_unused=False; drop allow_unused")
    with enable_grad(create_graph):
        grads = backward_pass(outs, seeds, ins, create_graph)
    results: list[Gradient | None] = []
    for i, x in enumerate(ins):
        g = grads.get(x)
        if g is None:
            if not allow_unused:
                raise UnusedInputError(_unused_message(i, x, len(ins)))
            g = 0.0 if materialize_grads else None
        if create_graph and g is not None and not isinstance(g, Value):
            g = Constant(g)  # a derivative that is a plain number
        results.append(g)
    return tuple(results)


def backward_pass(outputs: Sequence[Value], seeds: Sequence[Gradient], inputs: Sequence[Value],
                  create_graph: bool) -> dict[Value, Gradient]:
    """d(sum of seed * output) / d node for every node between the inputs and the outputs.

    The backward pass of `backward()`, into a dict instead of `.grad`, and only through
    the nodes that depend on an input (others cannot carry gradient to one). A node's
    gradient is the sum of what its children send it; in reverse topological order
    every child comes first, so the sum is complete when the walk reaches the node.
    With create_graph the parts are kept, and added up by a single `sum` node.
    """
    order = _topological_order(outputs)
    needed = depends_on(order, inputs)
    anomaly = state.anomaly
    sent: dict[Value, Any] = {}  # what each node has received so far: a float, or a list of parts
    for out, seed in zip(outputs, seeds):
        if out in needed:
            sent[out] = [*sent.get(out, []), seed] if create_graph else sent.get(out, 0.0) + seed
    grads: dict[Value, Gradient] = {}
    for node in reversed(order):
        if node not in sent:
            continue
        g = grads[node] = _total(sent.pop(node)) if create_graph else sent.pop(node)
        if needed.isdisjoint(node._prev):  # a leaf, or no parent leads to an input
            continue
        local = rule_on_values(node) if create_graph else numbers_of(node)
        if anomaly:
            _check_finite(node, local, g)
        # the chain rule: d out/d parent += d node/d parent * d out/d node
        if create_graph:  # Values: the parts are kept, and added by one sum node at the parent
            for parent, d in zip(node._prev, local):
                if parent in needed:
                    sent.setdefault(parent, []).append(_mul_graph(d, g))
        else:  # floats, added in order as backward() adds them into .grad
            for parent, d in zip(node._prev, local):
                if parent in needed:
                    sent[parent] = sent.get(parent, 0.0) + d * g
    return grads


def numbers_of(node: Value) -> tuple[float, ...]:
    """d node / d parent for each parent, as floats (what backward() uses)."""
    return local_grads(node) if node._rule is not None else closure_local_grads(node)


def closure_local_grads(node: Value) -> tuple[float, ...]:
    """A closure node's derivative is its `_backward` code, which adds into `.grad`: run it
    once with node.grad = 1, read what it added to each parent, and put every .grad back."""
    parents = list(dict.fromkeys(node._prev))  # a parent used twice gets one total
    saved = [node.grad, *(p.grad for p in parents)]
    try:
        node.grad = 1.0
        for p in parents:
            p.grad = 0.0
        node._backward()
        added = {p: p.grad for p in parents}
    finally:
        for n, g in zip([node, *parents], saved):
            n.grad = g
    return tuple(added.pop(p, 0.0) for p in node._prev)  # the total at the parent's first place


def rule_on_values(node: Value) -> tuple[Gradient, ...]:
    """d node / d parent for each parent, as Values: the node's rule with `xp = value_math`.

    `out` in a rule is the node itself (exp's derivative is its output), so the
    derivative graph reuses the forward graph's nodes and stays differentiable.
    """
    op = node._rule
    if op is None:
        raise NotDifferentiableError(
            f"grad(create_graph=True) cannot differentiate {describe(node)} (op {node._op!r}) again: its "
            "derivative is a hand-written _backward, not a rule. Define the op with a local_grads rule "
            "(define_op, or a row of ops.py) to get its higher derivatives, or use create_graph=False.")
    args = (*node._prev, node._param) if op.has_param else node._prev
    try:
        return op.local_grads(value_math, node, *args)
    except (ArithmeticError, ValueError) as err:  # e.g. sqrt's 0.5 * x ** -0.5 at x = 0
        parents = ", ".join(describe(p) for p in node._prev)
        raise type(err)(f"grad(create_graph=True): the derivative of {op.name}({parents}) is not a finite "
                        f"number here ({err}); move the input, or use create_graph=False, which gives "
                        "inf as PyTorch does") from err


def depends_on(order: Sequence[Value], inputs: Sequence[Value]) -> set[Value]:
    """The inputs and every node of `order` (a topological order) computed from one of them."""
    found = set(inputs)
    for node in order:
        if not found.isdisjoint(node._prev):
            found.add(node)
    return found


# --- the derivative graph's arithmetic: no node for adding 0 or multiplying by 1 ---------

def _total(parts: list[Gradient]) -> Gradient:
    """The sum of a node's incoming gradients, as one `sum` node (the numbers among them added first)."""
    values: list[Gradient] = [p for p in parts if isinstance(p, Value)]
    number = 0.0
    for p in parts:
        if not isinstance(p, Value):
            number += p
    if not values:
        return number
    terms = [*values, number] if number != 0.0 else values
    return terms[0] if len(terms) == 1 else value_sum(terms)



def _mul_graph(d: Gradient, g: Gradient) -> Gradient:
    if not isinstance(d, Value) and d == 1.0:
        return g
    if not isinstance(g, Value) and g == 1.0:
        return d
    return d * g


# --- arguments --------------------------------------------------------------------------

def _as_values(x: Any, name: str) -> list[Value]:
    items = [x] if isinstance(x, Value) else list(x) if isinstance(x, (list, tuple)) else None
    if items is None or not all(isinstance(v, Value) for v in items):
        bad = x if items is None else next(v for v in items if not isinstance(v, Value))
        raise TypeError(f"grad(): {name} must be a Value or a list of Values, got {type(bad).__name__} "
                        f"{bad!r}")
    return items


def _seeds(outputs: list[Value], grad_outputs: Any, create_graph: bool) -> list[Gradient]:
    if grad_outputs is None:
        given: list[Any] = [None] * len(outputs)
    elif isinstance(grad_outputs, (list, tuple)):
        given = list(grad_outputs)
    else:
        given = [grad_outputs]
    if len(given) != len(outputs):
        raise ValueError(f"grad(): {len(given)} grad_outputs for {len(outputs)} outputs; give one per output")
    seeds: list[Gradient] = []
    for g in given:
        if g is None:
            seeds.append(1.0)
        elif isinstance(g, Value):
            seeds.append(g if create_graph else g.data)
        elif isinstance(g, (int, float)) and not isinstance(g, bool):
            seeds.append(float(g))
        else:
            raise TypeError(f"grad(): a grad_output must be a number, a Value or None, "
                            f"got {type(g).__name__}")
    return seeds


def _unused_message(i: int, x: Value, n: int) -> str:
    which = f"input {i} ({describe(x)})" if n > 1 else f"the input {describe(x)}"
    return (f"grad(): {which} is not in the graph of the outputs, so they do not depend on it (a "
            "derivative that is a plain number, like d(3x)/dx or relu's, is a Constant). Pass "
            "allow_unused=True to get None for it, or materialize_grads=True to get 0")


def _check_finite(node: Value, local: tuple[Gradient, ...], g: Gradient) -> None:
    """detect_anomaly(): stop at the first nan or inf, naming the node."""
    for parent, d in zip(node._prev, local):
        if not all(math.isfinite(x.data if isinstance(x, Value) else x) for x in (d, g)):
            raise FloatingPointError(f"anomaly in grad(): {describe(node)} (op {node._op!r}), whose gradient "
                                     f"is {g!r}, gave the local derivative {d!r} for {describe(parent)}")


def _topological_order(outputs: Sequence[Value]) -> list[Value]:
    """engine.topological_order of several roots, each node once."""
    if len(outputs) == 1:
        return topological_order(outputs[0])
    seen: set[Value] = set()
    order = []
    for out in outputs:
        for node in topological_order(out):
            if node not in seen:
                seen.add(node)
                order.append(node)
    return order


@contextmanager
def enable_grad(on: bool = True) -> Iterator[None]:
    """Record graphs even inside no_grad() (torch.enable_grad); `on=False` changes nothing.

    grad(create_graph=True) records the derivative's nodes this way, as PyTorch does,
    and the functional API records f's graph (a function transform ignores an outer no_grad).
    """
    previous = state.grad_enabled
    state.grad_enabled = previous or on
    try:
        yield
    finally:
        state.grad_enabled = previous


