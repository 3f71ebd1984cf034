"""autograd_lite.functional: grad, value_and_grad, jacobian, hessian, hvp -- numbers in, numbers out."""

from __future__ import annotations

import math

import pytest

from autograd_lite import Value, no_grad
from autograd_lite.functional import grad, hessian, hvp, jacobian, value_and_grad

torch = pytest.importorskip("torch")


def rosenbrock(v):
    a, b = v
    return (1 - a) ** 2 + 100 * (b - a**2) ** 2


def test_grad_of_a_number_is_a_number() -> None:
    df = grad(lambda x: x.tanh())
    assert df(0.5) == 1 - math.tanh(0.5) ** 2
    assert type(df(0.5)) is float
    assert df.__name__ == "grad(<lambda>)"


def test_grad_of_a_list_is_a_list() -> None:
    g = grad(rosenbrock)([-1.2, 1.0])
    assert g == pytest.approx([-2 * (1 + 1.2) - 400 * -1.2 * (1.0 - 1.44), 200 * (1.0 - 1.44)], rel=1e-14)
    assert grad(lambda v: v[0][1] * v[1])(([1.0, 2.0], 3.0)) == ([0.0, 3.0], 2.0)  # nested, tuple kept


def test_argnums_picks_arguments_and_the_rest_pass_through() -> None:
    f = lambda x, y, scale: scale * x * y**2  # noqa: E731
    assert grad(f)(2.0, 3.0, 0.5) == 4.5
    assert grad(f, argnums=1)(2.0, 3.0, 0.5) == 6.0
    assert grad(f, argnums=(0, 1))(2.0, 3.0, 0.5) == (4.5, 6.0)
    assert grad(f, argnums=-2)(2.0, 3.0, 0.5) == 6.0
    value, g = value_and_grad(f, argnums=(1,))(2.0, 3.0, 0.5)
    assert (value, g) == (9.0, (6.0,))
    assert grad(f)(2.0, 3.0, scale=2.0) == 18.0  # keyword arguments pass through


def test_grad_of_grad_and_beyond() -> None:
    f = lambda x: x.sin() * x  # noqa: E731
    x = 0.8
    assert grad(grad(f))(x) == pytest.approx(2 * math.cos(x) - x * math.sin(x), rel=1e-14)
    assert grad(grad(grad(f)))(x) == pytest.approx(-3 * math.sin(x) - x * math.cos(x), rel=1e-14)
    # an inner grad inside an outer function: d/dy of (d/dx x*y) * y = d/dy y^2 = 2y
    assert grad(lambda y: grad(lambda x: x * y)(1.0) * y)(3.0) == 6.0


def test_an_output_that_ignores_the_input_has_gradient_zero() -> None:
    assert grad(lambda x, y: y * 2, argnums=0)(1.0, Value(3.0)).data == 0.0  # a Value: y is one
    assert grad(lambda x: x * 0 + 1)(2.0) == 0.0
    assert hessian(lambda v: 3 * v[0] + v[1])([1.0, 2.0]) == [[0.0, 0.0], [0.0, 0.0]]


def test_hessian_against_pytorch() -> None:
    for at in ([-1.2, 1.0], [0.3, -0.4], [1.0, 1.0]):
        ours = hessian(rosenbrock)(at)
        theirs = torch.autograd.functional.hessian(rosenbrock, torch.tensor(at, dtype=torch.float64))
        for row, trow in zip(ours, theirs.tolist(), strict=True):
            assert row == pytest.approx(trow, rel=1e-13)
    assert hessian(lambda x: x.exp() * x)(0.5) == pytest.approx(2.5 * math.exp(0.5), rel=1e-14)


def test_hessian_with_several_arguments_gives_blocks() -> None:
    h = hessian(lambda x, y: x * y * y, argnums=(0, 1))(1.0, 2.0)
    assert h == ((0.0, 4.0), (4.0, 2.0))


def test_jacobian_of_a_list_valued_function() -> None:
    f = lambda v: [v[0] * v[1], v[0].sin(), v[1] ** 2]  # noqa: E731
    ours = jacobian(f)([1.0, 2.0])
    theirs = torch.autograd.functional.jacobian(lambda t: torch.stack(f(t)), torch.tensor([1.0, 2.0],
                                                                                       dtype=torch.float64))
    for row, trow in zip(ours, theirs.tolist(), strict=True):
        assert row == pytest.approx(trow, rel=1e-15)
    assert jacobian(lambda x: [x, x * x, 3.0])(2.0) == [1.0, 4.0, 0.0]  # a number output: a zero row
    assert jacobian(lambda x: x.exp())(0.0) == 1.0


def test_hvp_is_the_hessian_times_the_vector() -> None:
    at, v = [-1.2, 1.0], [0.5, -2.0]
    H = hessian(rosenbrock)(at)
    assert hvp(rosenbrock, at, v) == pytest.approx([H[0][0] * v[0] + H[0][1] * v[1],
                                                    H[1][0] * v[0] + H[1][1] * v[1]], rel=1e-14)
    assert hvp(lambda x: x**3, 2.0, 1.0) == 12.0
    with pytest.raises(ValueError, match="v has 1 numbers but x has 2"):
        hvp(rosenbrock, at, [1.0])


def test_clear_errors() -> None:
    with pytest.raises(TypeError, match=r"returned float 3.0, not a single Value.*x.exp\(\)"):
        grad(lambda x: 3.0)(1.0)
    with pytest.raises(TypeError, match=r"math.exp"):
        grad(lambda x: math.exp(x))(1.0)
    with pytest.raises(TypeError, match=r"returned list .* use jacobian"):
        grad(lambda x: [x, x])(1.0)
    with pytest.raises(TypeError, match="not a Value or a list of Values"):
        jacobian(lambda x: [1.0, 2.0])(1.0)
    with pytest.raises(ValueError, match=r"argnums=2, but the function was called with 2 arguments"):
        grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)
    with pytest.raises(TypeError, match="argnums must be an int"):
        grad(lambda x: x, argnums=(0.5,))(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="argument 0 holds str"):
        grad(lambda x: x)("1.0")
    with pytest.raises(TypeError, match="argument 0 holds bool"):
        grad(lambda x: x)(True)


def test_an_outer_no_grad_does_not_stop_a_function_transform() -> None:
    with no_grad():  # as torch.func.grad: the transform records f's graph anyway
        assert grad(lambda x: x * x)(3.0) == 6.0
        assert hessian(lambda x: x**3)(2.0) == 12.0
        assert (Value(1.0) * 2)._prev == ()  # and no_grad holds again outside f


def test_f_gets_values_and_no_grad_is_left_behind() -> None:
    seen = []

    def f(v):
        seen.extend(v)
        return v[0] * v[1]

    assert grad(f)([2.0, 3.0]) == [3.0, 2.0]
    assert all(isinstance(x, Value) and x.grad == 0.0 for x in seen)


def test_the_docstring_examples_run() -> None:
    import doctest
    import importlib

    for name in ("functional", "higher_order", "gradcheck"):  # (autograd_lite.gradcheck is the function)
        failed, tried = doctest.testmod(importlib.import_module(f"autograd_lite.{name}"))
        assert tried and not failed, name
