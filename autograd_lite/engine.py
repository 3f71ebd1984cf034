"""The engine: a scalar `Value` that remembers how it was made, and `backward`.

Every arithmetic operation on Values creates a new Value that records its
parents (the inputs) and its op (which derivative rule applies, see ops.py).
`backward()` then visits the graph from the output back to the inputs in
topological order and applies the chain rule at every node:

    parent.grad += local_derivative * node.grad

That line, in `backpropagate` below, is the whole of backpropagation.
"""

from __future__ import annotations

import math
import numbers
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeAlias

from autograd_lite import ops
from autograd_lite.ops import Op, scalar_math

Number: TypeAlias = int | float
Operand: TypeAlias = "Value | int | float"


class _State:
    """Switches that change how ops are recorded (see no_grad, detect_anomaly)."""

    grad_enabled = True  # record parents so that backward() can run
    anomaly = False  # raise at the first nan/inf in forward or backward
    recording: str | None = None  # set by the tape: reading .data to branch is an error


state = _State()


class RecordingError(RuntimeError):
    """A Value's number was read while a tape records (float(v), v > 0, ...): the replay would reuse it.

    `reason` says what was read; the message adds `fix`, the recorder's advice (state.recording)."""

    def __init__(self, reason: str, fix: str | None = None) -> None:
        super().__init__(f"{reason}. {fix}" if fix else reason)
        self.reason = reason


class Value:
    """A scalar that records the operations applied to it.

    >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
    >>> c = a * b + a
    >>> c.backward()
    >>> a.grad, b.grad   # dc/da = b + 1, dc/db = a
    (-2.0, 2.0)
    """

    __slots__ = ("data", "grad", "label", "_prev", "_rule", "_param", "_local", "__weakref__")

    def __init__(self, data: Number, label: str = "") -> None:
        self.data = _as_float(data, "Value")
        self.grad = 0.0
        self.label = label
        self._prev: tuple[Value, ...] = ()  # parents, in argument order
        self._rule: Op | None = None  # the op that made this node; None for a leaf
        self._param: Any = None  # the plain-number parameter of ops like x ** 3
        self._local: tuple[float, ...] = ()  # d self / d parent, for each parent

    # --- what micrograd code reads -------------------------------------------------
    @property
    def _op(self) -> str:
        """The op's symbol ('+', '*', 'tanh', ...), '' for a leaf (as in micrograd)."""
        return self._rule.symbol if self._rule is not None else ""

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

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

    def __pow__(self, exponent: Operand) -> Value:
        if isinstance(exponent, Value):
            return apply(ops.POW, self, exponent)
        return apply(ops.POWC, self, param=_as_float(exponent, "**"))

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

    def leaky_relu(self, slope: float = 0.01) -> Value:
        return apply(ops.LEAKY_RELU, self, param=_as_float(slope, "leaky_relu"))

    def __abs__(self) -> Value:
        return apply(ops.ABS, self)

    def sin(self) -> Value:
        return apply(ops.SIN, self)

    def cos(self) -> Value:
        return apply(ops.COS, self)

    # --- arithmetic: built from the primitives --------------------------------------
    def __neg__(self) -> Value:  # -x = x * -1
        return self * -1

    def __sub__(self, other: Operand) -> Value:  # x - y = x + (-y)
        return self + (-other)

    def __truediv__(self, other: Operand) -> Value:  # x / y = x * y^-1
        if _data(other) == 0:
            raise ZeroDivisionError(f"division by zero: {describe(self)} / {describe(other)}; "
                                    "the divisor must not be 0")
        return self * other**-1

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
        return Value(self.data, self.label)


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
        raise op.error(f"{_call(op, parents, param)}: {op.domain}")
    try:
        data = op.forward(scalar_math, *args)
    except OverflowError:
        raise OverflowError(f"{_call(op, parents, param)} overflows a float") from None
    return _record(op, data, parents, param, args)


def _binary(op: Op, x: Value, y: Operand) -> Value:
    """apply() for the two busiest ops, add and mul, which have no domain to check.

    The steps of _record are written out here: a training step spends most of its
    time making these nodes (benchmarks/run.py measures it)."""
    if not isinstance(y, Value):
        y = Constant(y)
    a, b = x.data, y.data
    data = op.forward(scalar_math, a, b)
    if state.anomaly or not state.grad_enabled:  # the rare modes: _record handles them
        return _record(op, data, (x, y), None, (a, b))
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._prev = (x, y)
    out._rule = op
    out._param = None
    out._local = op.local_grads(scalar_math, data, a, b)  # add: (1, 1); mul: (b, a)
    return out


def _record(op: Op, data: float, parents: tuple[Value, ...], param: Any, args: Any) -> Value:
    """Make the output node. Its local derivatives are worked out now, from the
    rule, while the inputs' values are at hand (PyTorch saves them the same way)."""
    if state.anomaly and not math.isfinite(data):
        raise FloatingPointError(f"anomaly: {_call(op, parents, param)} produced {data}")
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    if state.grad_enabled:
        out._prev = parents
        out._rule = op
        out._param = param
        try:
            out._local = op.local_grads(scalar_math, data, *args)
        except (ZeroDivisionError, OverflowError):  # e.g. d/dx sqrt(x) at 0
            out._local = tuple(_infinite_slope(op, data, args, i) for i in range(len(parents)))
    else:  # no_grad(): the result is a plain leaf
        out._prev = ()
        out._rule = None
        out._param = None
        out._local = ()
    return out


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


def local_grads(node: Value) -> tuple[float, ...]:
    """d node / d parent for each parent (computed from the node's rule when it was made)."""
    return node._local


def _infinite_slope(op: Op, data: float, args: Any, i: int) -> float:
    """Where Python raises for a derivative that is infinite, use inf as NumPy and PyTorch do."""
    import numpy  # only on this rare path, so the engine itself needs no NumPy

    with numpy.errstate(divide="ignore", over="ignore"):
        return float(op.local_grads(numpy, numpy.float64(data), *map(numpy.float64, args))[i])


# --- walking the graph ----------------------------------------------------------------

def topological_order(root: Value) -> list[Value]:
    """Every node that `root` depends on, each after all of its parents.

    Iterative depth-first search, so a chain of a million nodes is fine.
    A node is pushed, then a `None` marker, then its parents: when the marker
    comes off the stack again, all of the node's parents are in `order`.
    Parents are pushed last-first, so the first input is visited first and the
    order reads like the expression (drawings and the stepper number nodes by it).
    """
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list[Value | None] = [root]
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


def backpropagate(root: Value, grad: float = 1.0) -> Iterator[tuple[Value, tuple[float, ...]]]:
    """Backward pass, one node at a time (see `Value.backward` for the rules).

    After the chain rule has been applied at a node, yields that node and its
    local derivatives. `Value.backward` runs it to the end; the stepper shows
    each step.
    """
    order = topological_order(root)
    for node in order:
        if node._prev:
            node.grad = 0.0  # interior grads are recomputed, leaves accumulate
    root.grad += _as_float(grad, "backward")
    anomaly = state.anomaly
    for node in reversed(order):
        grads = node._local
        for parent, local in zip(node._prev, grads):
            parent.grad += local * node.grad  # the chain rule
        if anomaly:
            _check_grads(node, grads)
        yield node, grads


def zero_grad(root: Value) -> None:
    """Set the grad of every node in `root`'s graph back to 0."""
    root.zero_grad()


# --- modes ----------------------------------------------------------------------------

@contextmanager
def no_grad() -> Iterator[None]:
    """Evaluate without recording the graph (faster; results are leaves)."""
    previous = state.grad_enabled
    state.grad_enabled = False
    try:
        yield
    finally:
        state.grad_enabled = previous


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise FloatingPointError at the first nan or inf, naming the op and its inputs."""
    previous = state.anomaly
    state.anomaly = True
    try:
        yield
    finally:
        state.anomaly = previous


# --- helpers ----------------------------------------------------------------------------

def describe(x: Operand) -> str:
    """How an error message names a node: its label if it has one, and its value."""
    if not isinstance(x, Value):
        return repr(x)
    if x.label:
        return f"{x.label!r} (= {x.data!r})"
    if x._rule is not None:
        return f"<{x._rule.name} node = {x.data!r}>"
    return repr(x.data)


def _call(op: Op, parents: Iterable[Value], param: Any) -> str:
    args = [describe(p) for p in parents]
    if op.has_param:
        args.append(repr(param))
    return f"{op.name}({', '.join(args)})"


def _check_grads(node: Value, grads: tuple[float, ...]) -> None:
    for parent, local in zip(node._prev, grads):
        if not (math.isfinite(local) and math.isfinite(parent.grad)):
            raise FloatingPointError(
                f"anomaly in backward: {_call(node._rule, node._prev, node._param)} "  # type: ignore[arg-type]
                f"gave the local derivative {local} for {describe(parent)}, "
                f"whose grad became {parent.grad}")


def _as_float(x: Any, where: str) -> float:
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    if isinstance(x, bool):
        raise TypeError(f"{where}: got a bool ({x}); use a number such as {float(x)} instead")
    hint = " (use float(x) or .item() for a single number)" if hasattr(x, "shape") else ""
    raise TypeError(f"{where}: expected a real number, got {type(x).__name__} {x!r}{hint}")


def _data(x: Operand) -> float:
    return x.data if isinstance(x, Value) else _as_float(x, "operand")


def _compared(a: Value, b: Operand) -> float:
    """The number `a` is compared with; an error while a tape records."""
    if state.recording is not None:
        raise RecordingError(
            f"comparing {describe(a)} with {describe(b)} while recording a tape: the replay "
            f"would repeat this branch for every example", state.recording)
    return _data(b)
