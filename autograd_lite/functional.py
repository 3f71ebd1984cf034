"""Derivatives of functions, in the style of HIPS autograd and torch.func.

`grad(f)` is a new function that computes f's gradient. You call it with plain
numbers and get plain numbers back; `f` itself receives Values:

    >>> from autograd_lite.functional import grad, hessian
    >>> df = grad(lambda x: x.tanh())
    >>> df(0.5)                                   # 1 - tanh(0.5)^2
    0.7864477329659274
    >>> grad(grad(lambda x: x ** 3))(2.0)         # d2/dx2 x^3 = 6x
    12.0
    >>> hessian(lambda v: v[0] * v[1] ** 2)([1.0, 2.0])
    [[0.0, 4.0], [4.0, 2.0]]

An argument is a number or a list (or tuple, nested) of numbers: f then gets the
same shape in Values, and the derivative has that shape. `argnums` picks the
arguments to differentiate (an int, or a tuple for a tuple of results); the other
arguments, and keyword arguments, reach f as they are.

The functions compose (`grad(grad(f))`, `jacobian(grad(f))`, or a `grad` inside the
f of another): called inside another one's f, or with Values instead of numbers, they
build the derivative's graph (`create_graph=True`) and return Values, which the outer
function then differentiates.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeAlias

from autograd_lite.engine import Value, value_sum
from autograd_lite.higher_order import enable_grad
from autograd_lite.higher_order import grad as grad_of

Tree: TypeAlias = Any  # a number, a Value, or a list / tuple of trees
Argnums: TypeAlias = "int | tuple[int, ...]"


def grad(f: Callable[..., Value], argnums: Argnums = 0) -> Callable[..., Tree]:
    """The function that returns f's gradient with respect to argument `argnums`."""
    def grad_f(*args: Tree, **kwargs: Any) -> Tree:
        return _value_and_grad(f, argnums, args, kwargs, "grad")[1]
    return _named(grad_f, "grad", f)


def value_and_grad(f: Callable[..., Value], argnums: Argnums = 0) -> Callable[..., tuple[Tree, Tree]]:
    """The function that returns (f's value, f's gradient), from one forward pass."""
    def value_and_grad_f(*args: Tree, **kwargs: Any) -> tuple[Tree, Tree]:
        return _value_and_grad(f, argnums, args, kwargs, "value_and_grad")
    return _named(value_and_grad_f, "value_and_grad", f)


def jacobian(f: Callable[..., Tree], argnums: Argnums = 0) -> Callable[..., Tree]:
    """The function that returns d f / d argument for a list-valued (or any tree-valued) f.

    Row i is the gradient of f's output i: `jacobian(f)([x, y])[i][j]` is d f_i / d x_j.
    """
    def jacobian_f(*args: Tree, **kwargs: Any) -> Tree:
        nums, nested, values = _prepare(argnums, args, kwargs, "jacobian")
        with _inside():
            outputs = f(*values, **kwargs)
        leaves = _leaves(outputs)
        if not any(isinstance(leaf, Value) for leaf in leaves):
            raise _not_a_value("jacobian", f, outputs, "a Value or a list of Values")
        inputs = [x for i in nums for x in _leaves(values[i])]
        rows = [_arrange(argnums, nums, values, _grads(out, inputs, nested)) for out in leaves]
        return _unflatten(outputs, iter(rows))
    return _named(jacobian_f, "jacobian", f)


def hessian(f: Callable[..., Value], argnums: Argnums = 0) -> Callable[..., Tree]:
    """The function that returns f's matrix of second derivatives: the jacobian of its gradient.

    `hessian(f)([x, y])[i][j]` is d2 f / dx_i dx_j.
    """
    return _named(jacobian(grad(f, argnums), argnums), "hessian", f)


def hvp(f: Callable[..., Value], x: Tree, v: Tree) -> Tree:
    """The Hessian of f at x times the vector v, without forming the Hessian.

    One backward pass through the gradient's graph: d/dx (grad f(x) . v).
    Returns the product, in x's shape (torch.autograd.functional.hvp also returns f(x)).
    """
    nested = _calling.depth > 0 or _contains_value((x, v))
    xs = _to_values(x)
    with _inside():
        gs, vs = _leaves(grad(f)(xs)), _leaves(v)
    if len(vs) != len(gs):
        raise ValueError(f"hvp(): v has {len(vs)} numbers but x has {len(gs)}; give v the shape of x")
    directional = value_sum([g * u for g, u in zip(gs, vs)])  # grad f(x) . v, a Value
    return _unflatten(xs, iter(_grads(directional, _leaves(xs), nested)))


# --- the work ---------------------------------------------------------------------------

def _value_and_grad(f: Callable[..., Value], argnums: Argnums, args: tuple[Tree, ...],
                    kwargs: dict[str, Any], who: str) -> tuple[Tree, Tree]:
    nums, nested, values = _prepare(argnums, args, kwargs, who)
    with _inside():
        out = f(*values, **kwargs)
    if not isinstance(out, Value):
        raise _not_a_value(who, f, out, "a single Value")
    inputs = [x for i in nums for x in _leaves(values[i])]
    result = _arrange(argnums, nums, values, _grads(out, inputs, nested))
    return (out if nested else out.data), result


def _grads(out: Any, inputs: list[Value], nested: bool) -> list[Any]:
    """d out / d input for each input: floats, or Values inside an outer derivative."""
    if not isinstance(out, Value):  # a number among f's outputs: it depends on nothing
        return [0.0] * len(inputs)
    return list(grad_of(out, inputs, create_graph=nested, materialize_grads=True))


def _prepare(argnums: Argnums, args: tuple[Tree, ...], kwargs: dict[str, Any], who: str
             ) -> tuple[tuple[int, ...], bool, list[Tree]]:
    """The argument positions, whether we are inside an outer derivative, and f's positional arguments.

    (Keyword arguments reach f as they are; a Value among them, from an outer derivative, counts.)"""
    nums = _argnums(argnums, len(args), who)
    values = list(args)
    for i in nums:
        _check_tree(args[i], i, who)
        values[i] = _to_values(args[i])
    return nums, _calling.depth > 0 or _contains_value([*args, *kwargs.values()]), values


class _Calling(threading.local):  # per thread, like engine.state's modes
    depth = 0  # how many of these functions are calling their f right now


_calling = _Calling()


@contextmanager
def _inside() -> Iterator[None]:
    """While f runs, a grad() inside it (even of a closure over f's Values) must return Values."""
    _calling.depth += 1
    try:
        with enable_grad():  # f's graph is recorded even inside no_grad(), as torch.func does
            yield
    finally:
        _calling.depth -= 1


def _arrange(argnums: Argnums, nums: tuple[int, ...], args: list[Tree], flat: list[Any]) -> Tree:
    """Put flat derivatives back into the shape of the arguments they belong to."""
    it = iter(flat)
    shaped = tuple(_unflatten(args[i], it) for i in nums)
    return shaped if isinstance(argnums, tuple) else shaped[0]


def _argnums(argnums: Argnums, n_args: int, who: str) -> tuple[int, ...]:
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    if not nums or not all(isinstance(i, int) and not isinstance(i, bool) for i in nums):
        raise TypeError(f"{who}(): argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    if any(not -n_args <= i < n_args for i in nums):
        raise ValueError(f"{who}(): argnums={argnums!r}, but the function was called with {n_args} "
                         f"argument{'s' * (n_args != 1)}")
    return tuple(i % n_args for i in nums)


def _check_tree(x: Tree, i: int, who: str) -> None:
    for leaf in _leaves(x):
        if isinstance(leaf, bool) or not isinstance(leaf, (int, float, Value)):
            raise TypeError(f"{who}(): argument {i} holds {type(leaf).__name__} {leaf!r}; an argument to "
                            "differentiate is a number or a list of numbers")


def _not_a_value(who: str, f: Callable[..., Any], out: Any, wanted: str) -> TypeError:
    name = getattr(f, "__name__", "f")
    fix = (f"for a list-valued function use jacobian({name})" if isinstance(out, (list, tuple)) else
           "build the result from the arguments with Value operations (x.exp(), not math.exp(x), which "
           "turns a Value into a plain number)")
    return TypeError(f"{who}({name}): {name} returned {type(out).__name__} {out!r}, not {wanted}; {fix}")


def _named(g: Callable[..., Any], who: str, f: Callable[..., Any]) -> Callable[..., Any]:
    name = getattr(f, "__name__", "f")
    g.__name__ = g.__qualname__ = f"{who}({name})"
    return g


# --- trees: numbers and Values in (nested) lists and tuples ---------------------------------

def _leaves(tree: Tree) -> list[Any]:
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def _unflatten(tree: Tree, leaves: Iterator[Any]) -> Tree:
    """`tree`'s shape, with its leaves replaced one by one from `leaves`."""
    if isinstance(tree, (list, tuple)):
        return type(tree)(_unflatten(item, leaves) for item in tree)
    return next(leaves)


def _to_values(tree: Tree) -> Tree:
    """A fresh leaf Value for every number (Values from an outer derivative stay as they are)."""
    return _unflatten(tree, iter([x if isinstance(x, Value) else Value(x) for x in _leaves(tree)]))


def _contains_value(tree: Sequence[Tree] | Tree) -> bool:
    return any(isinstance(leaf, Value) for leaf in _leaves(tree))


__all__ = ["grad", "hessian", "hvp", "jacobian", "value_and_grad"]
