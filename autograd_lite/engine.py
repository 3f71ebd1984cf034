"""The engine: a scalar `Value` that remembers how it was made, and `backward`.

Every arithmetic operation on Values creates a new Value that records its
parents (the inputs) and its op (which derivative rule applies, see ops.py).
`backward()` then visits the graph from the output back to the inputs in
topological order and applies the chain rule at every node:

    parent.grad += local_derivative * node.grad

That line, in `chain_rule` (backprop.py, which walks the graph), is the whole of
backpropagation; this module makes the nodes.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeAlias, overload

from autograd_lite import graph_copy, ops
from autograd_lite.backprop import (  # noqa: F401 (the walk: re-exported, as it was defined here)
    as_float,
    backpropagate,
    call_text,
    chain_rule,
    describe,
    local_grads,
    topological_order,
)
from autograd_lite.modes import RecordingError, detect_anomaly, no_grad, state  # noqa: F401 (re-exported)
from autograd_lite.ops import Op, scalar_math

Number: TypeAlias = int | float
Operand: TypeAlias = "Value | int | float"


class _OpName:
    """`node._op`, micrograd's name for how a node was made: the rule's symbol ('+', 'tanh', and
    '**2' for a power by a number, as micrograd writes it), '' for a leaf. A node made with
    micrograd's constructor keeps its own `_op` string in its `__dict__`, which wins over this
    (a non-data descriptor), so the common case stores nothing."""

    @overload
    def __get__(self, node: None, owner: type) -> _OpName: ...
    @overload
    def __get__(self, node: Value, owner: type | None = None) -> str: ...
    def __get__(self, node: Value | None, owner: type | None = None) -> str | _OpName:
        if node is None:
            return self
        rule = node._rule
        if rule is None:
            return ""
        if rule is ops.POWC:
            return f"**{_short_number(node._param)}"
        return rule.symbol


_NO_CHILDREN: tuple[Value, ...] = ()


class Value:
    """A scalar that records the operations applied to it.

    >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
    >>> c = a * b + a
    >>> c.backward()
    >>> a.grad, b.grad   # dc/da = b + 1, dc/db = a
    (-2.0, 2.0)

    `Value(data, _children=(), _op='', label='')` is micrograd's constructor: a node made
    with children this way is a *closure node*, whose derivative is the function the user
    assigns to `node._backward` (see README, "Coming from micrograd").
    """

    # __dict__: user attributes (micrograd code sets p.m = 0); made only when one is set
    __slots__ = ("data", "grad", "label", "_prev", "_rule", "_param", "__dict__", "__weakref__")
    data: float
    grad: float
    label: str
    _prev: tuple[Value, ...]  # parents, in argument order
    _rule: Op | None  # the op that made this node; None for a leaf or a closure node
    _param: Any  # the plain-number parameter of ops like x ** 3
    _op = _OpName()

    def __init__(self, data: Number, _children: Iterable[Value] = _NO_CHILDREN, _op: str = "",
                 label: str = "") -> None:
        children = _NO_CHILDREN if _children is _NO_CHILDREN else _as_children(data, _children, _op)
        _build(self, as_float(data, "Value"), children, None, None, label)
        if _op:
            self.__dict__["_op"] = _op
        if children and state.anomaly and not math.isfinite(self.data):  # as _build does for a rule's node
            raise FloatingPointError(f"anomaly: the closure node {_op or 'closure'!r} computed from "
                                     f"{', '.join(map(describe, children))} produced {self.data}")

    # --- what micrograd code reads -------------------------------------------------
    @property
    def _backward(self) -> Callable[[], Any]:
        """micrograd's per-node step: `parent.grad += local * self.grad` for each parent, once.

        A built-in op's node applies its rule (read from ops.py, with the current values);
        a leaf's does nothing; a closure node's is what the user assigned."""
        if self._rule is not None:  # the rule it has now, even if the user wraps it and assigns that
            return partial(_rule_step, self, self._rule, self._param)
        return self.__dict__.get("_backward", _nothing)  # type: ignore[no-any-return]

    @_backward.setter
    def _backward(self, fn: Callable[[], Any]) -> None:
        if not callable(fn):
            raise TypeError(f"_backward of {describe(self)} must be a function of no arguments, "
                            f"got {type(fn).__name__} {fn!r}")
        if self._rule is not None:  # the user's derivative replaces the rule: a closure node now
            self.__dict__["_op"] = self._op
            self._rule = self._param = None
        self.__dict__["_backward"] = fn

    @property
    def _local(self) -> tuple[float, ...]:
        """local_grads(self), under the name of the per-node slot it replaced (for code that read it)."""
        return local_grads(self)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __reduce__(self) -> tuple[Any, ...]:
        """pickle and copy.deepcopy: the whole graph as a flat list, parents first (graph_copy.py)."""
        return graph_copy.reduce(self, topological_order(self) if self._prev else [self])

    def __float__(self) -> float:
        if state.recording is not None:  # a number taken out of the graph is the same in every replay
            raise RecordingError(f"float({describe(self)}) while recording a tape: the replay would use this "
                                 f"example's number for every example", state.recording)
        return self.data

    # --- arithmetic: primitives -----------------------------------------------------
    def __add__(self, other: Operand) -> Value:
        return _binary(ops.ADD, self, other)

    def __mul__(self, other: Operand) -> Value:
        return _binary(ops.MUL, self, other)

    def __truediv__(self, other: Operand) -> Value:
        if _data(other) == 0:
            raise ZeroDivisionError(f"division by zero: {describe(self)} / {describe(other)}; "
                                    "the divisor must not be 0")
        return apply(ops.DIV, self, other)

    def __pow__(self, exponent: Operand) -> Value:
        if isinstance(exponent, Value):
            return apply(ops.POW, self, exponent)
        return apply(ops.POWC, self, param=as_float(exponent, "**"))

    def __rpow__(self, base: Number) -> Value:  # 2 ** v
        return apply(ops.POW, base, self)

    def exp(self) -> Value:
        return apply(ops.EXP, self)

    def log(self) -> Value:
        return apply(ops.LOG, self)

    def tanh(self) -> Value:
        return apply(ops.TANH, self)

    def sigmoid(self) -> Value:
        return apply(ops.SIGMOID, self)

    def relu(self) -> Value:
        return apply(ops.RELU, self)

    def leaky_relu(self, slope: float = ops.LEAKY_SLOPE) -> Value:
        return apply(ops.LEAKY_RELU, self, param=as_float(slope, "leaky_relu"))

    def abs(self) -> Value:
        return apply(ops.ABS, self)

    __abs__ = abs

    def sin(self) -> Value:
        return apply(ops.SIN, self)

    def cos(self) -> Value:
        return apply(ops.COS, self)

    # --- arithmetic: built from the primitives --------------------------------------
    def __neg__(self) -> Value:  # -x = x * -1
        return self * -1

    def __sub__(self, other: Operand) -> Value:  # x - y = x + (-y)
        return self + (-other)

    def __radd__(self, other: Number) -> Value:  # 2 + x
        return self + other

    def __rmul__(self, other: Number) -> Value:  # 2 * x
        return self * other

    def __rsub__(self, other: Number) -> Value:  # 2 - x
        return other + (-self)

    def __rtruediv__(self, other: Number) -> Value:  # 2 / x
        return Constant(other) / self

    def sqrt(self) -> Value:  # sqrt(x) = x^0.5
        return self**0.5

    # --- comparisons look at .data, so max(values) and sorted(values) work -----------
    # (== stays identity, so Values can go in sets and dicts)
    def __lt__(self, other: Operand) -> bool:
        return self.data < _compared(self, other)

    def __le__(self, other: Operand) -> bool:
        return self.data <= _compared(self, other)

    def __gt__(self, other: Operand) -> bool:
        return self.data > _compared(self, other)

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _compared(self, other)

    __hash__ = object.__hash__

    # --- gradients --------------------------------------------------------------
    def backward(self, grad: float = 1.0) -> None:
        """Fill in d self / d node as `node.grad` for every node of the graph.

        `self.grad` is set to `grad` (1 by default), every interior node's grad
        is recomputed from zero, and the gradient is **added** to each leaf's
        grad (inputs and parameters) -- so the gradients of two losses add up,
        as in PyTorch, and calling backward() twice doubles the leaves' grads.
        Zero them between steps (`Module.zero_grad()` or `zero_grad(root)`).
        """
        deque(backpropagate(self, grad), maxlen=0)  # run the generator to its end

    def zero_grad(self) -> None:
        """Set the grad of every node in this graph back to 0."""
        for node in topological_order(self):
            node.grad = 0.0

    def detach(self) -> Value:
        """A new leaf with the same data and label, cut off from this graph."""
        return Value(self.data, label=self.label)


class Constant(Value):
    """A plain number that took part in an expression, like the 2 in `2 * x`.

    It is an ordinary leaf; only drawings treat it differently (they can hide it).
    """

    __slots__ = ()


# --- making nodes ------------------------------------------------------------------

def apply(op: Op, *inputs: Operand, param: Any = None) -> Value:
    """Run `op` forward on `inputs` (Values or numbers) and record the new node."""
    parents = tuple([x if isinstance(x, Value) else Constant(x) for x in inputs])
    args = [p.data for p in parents]
    if op.has_param:
        args.append(param)
    if op.valid is not None and not op.valid(*args):
        raise op.error(f"{call_text(op, parents, param)}: {op.domain}")
    try:
        data = op.forward(scalar_math, *args)
    except OverflowError:
        raise OverflowError(f"{call_text(op, parents, param)} overflows a float") from None
    return _build(_new_value(Value), data, parents, op, param, "")


def _binary(op: Op, x: Value, y: Operand) -> Value:
    """apply() for the two busiest ops, add and mul, which have no domain to check
    (a training step spends most of its time making these nodes: benchmarks/run.py)."""
    if not isinstance(y, Value):
        y = Constant(y)
    return _build(_new_value(Value), op.forward(scalar_math, x.data, y.data), (x, y), op, None, "")


def _build(node: Value, data: float, parents: tuple[Value, ...], rule: Op | None, param: Any,
           label: str) -> Value:
    """Set a node's slots: the one place every node (leaf, op output, closure node) is made.

    Nothing is computed for backward here: a rule is evaluated when backward reaches its
    node, from the values the graph holds then (as micrograd's closures read `.data`), so
    a changed `.data` is never silently ignored."""
    node.data = data
    node.grad = 0.0
    node.label = label
    if state.usual:  # the common case, decided by one look-up of this thread's modes
        node._prev = parents
        node._rule = rule
        node._param = param
        return node
    if state.anomaly and rule is not None and not math.isfinite(data):
        raise FloatingPointError(f"anomaly: {call_text(rule, parents, param)} produced {data}")
    if state.grad_enabled:
        node._prev = parents
        node._rule = rule
        node._param = param
    else:  # no_grad(): the result is a plain leaf
        node._prev = ()
        node._rule = node._param = None
    return node


def _as_children(data: Any, children: Any, op: str) -> tuple[Value, ...]:
    """micrograd's `_children`, checked: a tuple (or list) of Values, or a set of them."""
    if not isinstance(children, (tuple, list, set, frozenset)):
        hint = f"; for a label write Value({data!r}, label={children!r})" if isinstance(children, str) else ""
        raise TypeError(f"Value({data!r}, {children!r}): the second argument is micrograd's _children, the "
                        f"tuple of Values this one is computed from: Value(data, _children=(), _op='', "
                        f"label=''){hint}")
    for i, child in enumerate(children):
        if not isinstance(child, Value):
            raise TypeError(f"Value({data!r}, _children, {op!r}): child {i} is {type(child).__name__} "
                            f"{child!r}, not an autograd_lite Value; wrap a number as Value({child!r})")
    if isinstance(children, (set, frozenset)):
        # A set has no order, and iterating one follows memory addresses (micrograd's gradients
        # differ in the last bits from run to run). Sort by label, then value, so that every run
        # walks, sums and draws alike; children equal in both keep the set's order.
        return tuple(sorted(children, key=lambda c: (str(c.label), c.data)))
    return tuple(children)


def _rule_step(node: Value, rule: Op, param: Any) -> None:
    """A built-in node's `_backward`: the chain rule with the rule the node had when it was read.
    `old = n._backward; n._backward = lambda: old() or ...` makes n a closure node (no rule):
    `old()` then applies the rule it was read with, rather than calling the wrapper again."""
    now = node._rule, node._param
    node._rule, node._param = rule, param
    try:
        deque(chain_rule((node,)), maxlen=0)
    finally:
        node._rule, node._param = now


def _nothing() -> None:
    """The _backward of a leaf, or of a closure node whose _backward was not assigned yet."""


_new_value = object.__new__


def value_sum(values: Iterable[Operand]) -> Value:
    """x1 + x2 + ... + xn as a single node (faster than chaining `+`)."""
    values = list(values)
    if not values:
        raise ValueError("value_sum() of no values: give at least one")
    return apply(ops.SUM, *values)


def value_dot(weights: Iterable[Operand], inputs: Iterable[Operand], bias: Operand) -> Value:
    """w1*x1 + ... + wn*xn + b as a single node: a neuron's weighted sum.

    The same number, and the same gradients, as value_sum of the products and b, but
    one node instead of n + 1, so a network trains several times faster."""
    weights, inputs = list(weights), list(inputs)
    if not weights or len(weights) != len(inputs):
        raise ValueError(f"value_dot() needs as many weights as inputs (at least one); got {len(weights)} "
                         f"weights and {len(inputs)} inputs")
    return apply(ops.DOT, *weights, *inputs, bias)


def zero_grad(root: Value) -> None:
    """Set the grad of every node in `root`'s graph back to 0."""
    root.zero_grad()


# --- helpers ----------------------------------------------------------------------------

def _short_number(c: float) -> str:
    """2.0 -> '2', 0.5 -> '0.5': an exponent as micrograd's `_op` writes it ('**2')."""
    return str(int(c)) if c.is_integer() else repr(c)


def _data(x: Operand) -> float:
    return x.data if isinstance(x, Value) else as_float(x, "operand")


def _compared(a: Value, b: Operand) -> float:
    """The number `a` is compared with; an error while a tape records."""
    if state.recording is not None:
        raise RecordingError(
            f"comparing {describe(a)} with {describe(b)} while recording a tape: the replay "
            f"would repeat this branch for every example", state.recording)
    return _data(b)
