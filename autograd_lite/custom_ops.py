"""Your own primitive op, defined the way ops.py defines the built-in ones.

    softplus = define_op("softplus",
                         lambda xp, x: xp.log(1 + xp.exp(x)),                # forward
                         lambda xp, out, x: (1 / (1 + xp.exp(-x)),))         # d out / d x

    y = softplus(x)        # a Value; y.backward() fills x.grad

One call writes a row of `ops.OPS`, so everything that reads the rules (eager
backward, the stepper's ledger, drawings, gradcheck and the batched tape, which
calls the same two functions with ``xp = numpy`` on whole rows) knows the op.
Write the rule with ``xp.`` functions (NumPy's names: see ops.scalar_math) and
arithmetic only, so that it works on floats and on NumPy arrays alike.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autograd_lite import ops
from autograd_lite.engine import Operand, Value, apply
from autograd_lite.ops import LocalText, Op


@dataclass(frozen=True)
class CustomOp:
    """What define_op returns: call it on Values (or numbers) to get the op's output node."""

    op: Op  # the row of ops.OPS
    arity: int | None  # how many inputs; None: any number (forward takes *xs)

    def __call__(self, *inputs: Operand) -> Value:
        if self.arity is not None and len(inputs) != self.arity:
            s = "" if self.arity == 1 else "s"
            raise TypeError(f"{self.op.name}() takes {self.arity} input{s}, got {len(inputs)}")
        if not inputs:
            raise TypeError(f"{self.op.name}() needs at least one input")
        return apply(self.op, *inputs)

    @property
    def __name__(self) -> str:  # reads like the function it stands for
        return self.op.name

    def __repr__(self) -> str:
        return f"<op {self.op.name}, made by define_op>"


def define_op(name: str, forward: Callable[..., Any], local_grads: Callable[..., tuple[Any, ...]], *,
              symbol: str | None = None, valid: Callable[..., Any] | None = None, domain: str = "",
              error: type[Exception] = ValueError, local_text: LocalText | None = None) -> CustomOp:
    """Define a primitive op from its forward and its local derivatives; returns the op as a function.

    forward(xp, *inputs) -> output
    local_grads(xp, out, *inputs) -> (d out / d input, for each input), as a tuple
    symbol: what drawings and `_op` show (the name by default)
    valid(*inputs) -> bool, with `domain` the sentence an input outside it raises `error` with
    local_text: the derivatives as formulas for the stepper's ledger, "{0}" standing for the first
    input's value and "{out}" for the output's (see ops.py); by default "name′({0})" for an op of
    one input and "∂name/∂{i}" for each input otherwise.

    Defining a name again replaces your earlier definition (re-running a notebook cell); the
    built-in ops' names are refused.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"define_op: the name must be a Python identifier such as 'softplus', got {name!r}")
    if name in ops.BUILTIN_OPS:
        raise ValueError(f"define_op: {name!r} is a built-in op (ops.OPS[{name!r}]) and cannot be "
                         f"redefined; give yours another name, such as 'my_{name}'")
    arity = _inputs(forward, 1, name, "forward(xp, *inputs)")
    if _inputs(local_grads, 2, name, "local_grads(xp, out, *inputs)") != arity:
        raise TypeError(f"define_op({name!r}): forward takes {_count(arity)} and local_grads "
                        f"{_count(_inputs(local_grads, 2, name, ''))}; they must take the same inputs "
                        "(local_grads gets the output first: local_grads(xp, out, *inputs))")
    symbol = symbol or name
    if local_text is None:
        local_text = _default_text(symbol, arity)
    op = ops.rule(name, symbol, forward, _checked(local_grads, name), valid,
                  domain or f"outside the domain of {name}",
                  error=error, local_text=local_text)
    return CustomOp(op, arity)


def _checked(local_grads: Callable[..., Any], name: str) -> Callable[..., tuple[Any, ...]]:
    """The user's local_grads, made to give one derivative per input: a bare number or a short
    tuple would otherwise be an obscure TypeError in backward, or, zipped with the inputs, a
    silent 0 for the inputs it leaves out."""
    def checked(xp: Any, out: Any, *inputs: Any) -> tuple[Any, ...]:
        grads = local_grads(xp, out, *inputs)
        if not isinstance(grads, (tuple, list)) or len(grads) != len(inputs):
            many = isinstance(grads, (tuple, list))
            got = f"{len(grads)} values" if many else f"{type(grads).__name__} {grads!r:.40}"
            raise TypeError(f"define_op({name!r}): local_grads returned {got} for {_count(len(inputs))}; it "
                            "must return a tuple with one derivative per input, e.g. (1 / (1 + xp.exp(-x)),)")
        return tuple(grads)
    return checked


def _inputs(fn: Callable[..., Any], leading: int, name: str, form: str) -> int | None:
    """How many inputs `fn` takes after its `leading` arguments (xp, and out); None for *args."""
    if not callable(fn):
        raise TypeError(f"define_op({name!r}): {form} must be a function, got {type(fn).__name__}")
    params = list(inspect.signature(fn).parameters.values())
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) <= leading:
        raise TypeError(f"define_op({name!r}): {form} takes {len(positional)} arguments; it needs "
                        f"{' and '.join(['xp', 'out'][:leading])} first, then one per input")
    return len(positional) - leading


def _count(arity: int | None) -> str:
    return "any number of inputs" if arity is None else f"{arity} input{'s' * (arity != 1)}"


def _default_text(symbol: str, arity: int | None) -> LocalText:
    """Formulas for the ledger when none are given: softplus′(x.data), or ∂f/∂x.data per input."""
    shown = symbol.replace("{", "{{").replace("}", "}}")  # the text is a format string
    if arity == 1:
        return (f"{shown}′({{0}})",)
    if arity is None:
        return lambda n: tuple(f"∂{shown}/∂{{{i}}}" for i in range(n))
    return tuple(f"∂{shown}/∂{{{i}}}" for i in range(arity))
