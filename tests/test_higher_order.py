"""grad(): torch.autograd.grad's semantics, and derivative graphs built from the rules in ops.py."""

from __future__ import annotations

import math

import pytest

from autograd_lite import (
    MLP,
    Constant,
    NotDifferentiableError,
    UnusedInputError,
    Value,
    detect_anomaly,
    grad,
    mse,
    no_grad,
    ops,
    topological_order,
)
from autograd_lite.engine import apply
from autograd_lite.higher_order import value_math
from autograd_lite.ops import Op, scalar_math

# --- first order: the same numbers as backward(), and no .grad touched ---------------------


def small_mlp_loss() -> tuple[MLP, Value]:
    model = MLP(2, [4, 3, 1], seed=3)
    xs, ys = [[0.5, -1.0], [1.5, 0.25], [-0.7, 0.8]], [1.0, -1.0, 0.5]
    loss = sum((mse(model(x), y) for x, y in zip(xs, ys)), Value(0.0))
    return model, loss


def test_first_order_matches_backward_to_the_bit_and_leaves_grads_alone() -> None:
    model, loss = small_mlp_loss()
    params = model.parameters()
    for p in params:
        p.grad = 7.0  # whatever is there stays there
    grads = grad(loss, params)
    assert all(p.grad == 7.0 for p in params)
    assert all(node.grad == 0.0 for node in topological_order(loss) if node._prev)
    model.zero_grad()
    loss.backward()
    assert grads == tuple(p.grad for p in params)
    assert all(type(g) is float for g in grads)  # plain numbers: no nodes were made


def test_returns_a_tuple_for_one_input_or_many() -> None:
    x, y = Value(2.0), Value(3.0)
    assert grad(x * y, x) == (3.0,)
    assert grad(x * y, [y, x]) == (2.0, 3.0)
    assert grad(x * y, [x, x]) == (3.0, 3.0)
    assert grad(x, x) == (1.0,)


def test_grad_outputs_weigh_several_outputs() -> None:
    x = Value(0.5)
    y1, y2 = x.tanh(), x * x
    (g,) = grad([y1, y2], x, grad_outputs=[2.0, -1.0])
    assert math.isclose(g, 2 * (1 - math.tanh(0.5) ** 2) - 2 * 0.5, rel_tol=1e-15)
    assert grad([y1, y2], x) == (grad(y1, x)[0] + grad(y2, x)[0],)
    assert grad([y1, y2], x, grad_outputs=[None, 3.0]) == (grad(y1, x)[0] + 3.0,)
    assert grad([y1, y1], x) == (2 * grad(y1, x)[0],)  # the same output twice counts twice


def test_gradient_with_respect_to_an_interior_node() -> None:
    x = Value(0.3)
    h = x * 2
    y = h.tanh() + h
    assert grad(y, h) == (1 - math.tanh(0.6) ** 2 + 1,)


def test_an_unused_input_is_an_error_unless_allowed() -> None:
    x, z = Value(1.0), Value(2.0, label="z")
    y = x * 3
    with pytest.raises(UnusedInputError, match=r"input 1 \('z' \(= 2.0\)\).*allow_unused=True"):
        grad(y, [x, z])
    assert grad(y, [x, z], allow_unused=True) == (3.0, None)
    assert grad(y, [x, z], materialize_grads=True) == (3.0, 0.0)
    with pytest.raises(ValueError, match="materialize_grads"):
        grad(y, [x, z], allow_unused=False, materialize_grads=True)


def test_bad_arguments() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match="inputs must be a Value"):
        grad(x * 2, 1.0)
    with pytest.raises(TypeError, match="outputs must be a Value"):
        grad([x * 2, 3.0], x)
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        grad(x * 2, x, grad_outputs=[1.0, 2.0])
    with pytest.raises(TypeError, match="grad_output must be a number"):
        grad(x * 2, x, grad_outputs=["1"])


# --- create_graph: the derivative is a graph ------------------------------------------------


def test_create_graph_gives_values_to_differentiate_again() -> None:
    x = Value(0.7)
    y = x**3 - 2 * x
    (d1,) = grad(y, x, create_graph=True)
    assert isinstance(d1, Value) and d1.data == pytest.approx(3 * 0.49 - 2, rel=1e-15)
    (d2,) = grad(d1, x, create_graph=True)
    assert d2.data == pytest.approx(6 * 0.7, rel=1e-15)  # type: ignore[union-attr]
    assert grad(d2, x) == (pytest.approx(6.0, rel=1e-15),)  # type: ignore[arg-type]
    assert x.grad == 0.0 and y.grad == 0.0


def test_exps_rule_reuses_the_node_itself_as_its_derivative() -> None:
    x = Value(0.4)
    y = x.exp()
    (d,) = grad(y, x, create_graph=True)
    assert d is y  # d/dx e^x is e^x: the rule's `out` is the node
    assert grad(d, x) == (math.exp(0.4),)


def test_the_derivative_graph_can_be_stepped_and_drawn() -> None:
    pytest.importorskip("graphviz")
    from autograd_lite.stepper import Stepper
    from autograd_lite.viz import draw_dot

    x = Value(0.5, label="x")
    y = x.tanh()
    (dydx,) = grad(y, x, create_graph=True)  # 1 - y*y
    assert sorted(n._op for n in topological_order(dydx) if n._prev) == ["*", "*", "+", "tanh"]
    steps = Stepper(dydx)
    assert x.grad == pytest.approx(-2 * math.tanh(0.5) * (1 - math.tanh(0.5) ** 2), rel=1e-14)
    assert any("x.grad" in line for line in steps.ledger())
    assert "tanh" in draw_dot(dydx).source


def test_the_gradients_a_node_receives_are_added_by_one_sum_node() -> None:
    x = Value(1.5)
    (d,) = grad(x * x, x, create_graph=True)  # d/dx x*x = x + x: one part from each use of x
    assert d._op == "sum" and d._prev == (x, x)
    (d3,) = grad(x * x * x + 2 * x, x, create_graph=True)  # 3x^2 + 2
    assert d3._op == "sum" and d3.data == 3 * 1.5**2 + 2  # type: ignore[union-attr]
    assert [type(p) for p in d3._prev].count(Constant) == 1  # the numbers are added into one term


def test_a_constant_derivative_is_a_constant_leaf() -> None:
    x = Value(2.0)
    (d,) = grad(3 * x, x, create_graph=True)
    assert isinstance(d, Constant) and d.data == 3.0
    with pytest.raises(UnusedInputError):
        grad(d, x)
    assert grad(d, x, materialize_grads=True) == (0.0,)


@pytest.mark.parametrize("make", [lambda x: x.relu(), lambda x: abs(x), lambda x: x.leaky_relu(0.1)],
                         ids=["relu", "abs", "leaky_relu"])
@pytest.mark.parametrize("at", [-1.5, 0.0, 2.0])
def test_kinks_have_second_derivative_zero(make, at: float) -> None:
    x = Value(at)
    (d,) = grad(make(x), x, create_graph=True)
    assert isinstance(d, Constant)  # `where` picked a number: the rule has no slope of its own
    assert grad(d, x, materialize_grads=True) == (0.0,)
    assert grad(make(x) * x, x, create_graph=True)[0].data == pytest.approx(  # type: ignore[union-attr]
        grad(make(x) * x, x)[0])


def test_a_number_parameter_stays_a_number() -> None:
    x = Value(1.5)
    (d,) = grad(x**3, x, create_graph=True)  # 3 * x ** 2
    powers = [n for n in topological_order(d) if n._rule is ops.POWC]
    assert [(len(n._prev), n._param) for n in powers] == [(1, 2.0)]
    (s,) = grad(x.leaky_relu(0.2) * x, x, create_graph=True)
    assert all(n._param in (None, 0.2) for n in topological_order(s))
    assert grad(s, x) == (2.0,)  # x > 0: d/dx x^2


def test_records_even_inside_no_grad() -> None:
    x = Value(0.3)
    y = x.sin()
    with no_grad():
        (d,) = grad(y, x, create_graph=True)
    assert grad(d, x) == (-math.sin(0.3),)


def test_detect_anomaly_stops_at_the_first_nan() -> None:
    x = Value(0.0, label="x")
    y = x.sqrt() * 2  # d/dx sqrt(x) at 0 is inf
    assert grad(y, x) == (math.inf,)
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"powc node.*inf.*'x' \(= 0.0\)"):
        grad(y, x)


def test_a_value_grad_output_is_part_of_the_graph() -> None:
    x, v = Value(0.5), Value(2.0)
    (g,) = grad(x.tanh(), x, grad_outputs=v, create_graph=True)  # v * (1 - tanh^2)
    assert grad(g, v) == (pytest.approx(1 - math.tanh(0.5) ** 2, rel=1e-15),)


def test_an_infinite_derivative_cannot_become_a_graph() -> None:
    x = Value(0.0, label="x")
    y = x.sqrt()
    assert grad(y, x) == (math.inf,)  # first order: inf, as PyTorch
    with pytest.raises(ValueError, match=r"derivative of powc\('x' \(= 0.0\)\).*create_graph=False"):
        grad(y, x, create_graph=True)


# --- ops that are not in the table ----------------------------------------------------------


def test_an_op_with_its_own_xp_rule_gets_higher_derivatives() -> None:
    # a learner's op: cube(x) = x^3, d/dx = 3x^2, written once, as a rule
    cube = Op("cube", "³", lambda xp, x: x * x * x, lambda xp, out, x: (3.0 * x * x,))
    x = Value(1.2)
    (d1,) = grad(apply(cube, x), x, create_graph=True)
    (d2,) = grad(d1, x, create_graph=True)
    assert (d1.data, d2.data) == (pytest.approx(3 * 1.44), pytest.approx(7.2))  # type: ignore[union-attr]
    assert grad(d2, x) == (pytest.approx(6.0),)  # type: ignore[arg-type]


def micrograd_square(a: Value) -> Value:
    """a * a the micrograd way: a closure node, whose derivative is code that adds into .grad."""
    out = Value(a.data * a.data, (a, a), "sq", label="sq")

    def _backward() -> None:
        a.grad += a.data * out.grad  # micrograd's mul adds once per use of a
        a.grad += a.data * out.grad

    out._backward = _backward
    return out


def test_first_order_grad_runs_a_closure_nodes_backward_and_restores_every_grad() -> None:
    a = Value(3.0, label="a")
    a.grad = 0.25
    sq = micrograd_square(a)
    y = sq.tanh()
    (g,) = grad(y, a)
    assert g == pytest.approx((1 - math.tanh(9.0) ** 2) * 6.0, rel=1e-15)
    assert (a.grad, sq.grad, y.grad) == (0.25, 0.0, 0.0)
    b = Value(-2.0)
    assert grad(micrograd_square(b) + b, b) == (-3.0,)  # a parent used twice: its total, once


def test_a_closure_node_cannot_be_differentiated_twice() -> None:
    a = Value(2.0, label="a")
    with pytest.raises(NotDifferentiableError, match=r"'sq' \(= 4.0\).*hand-written.*local_grads rule"):
        grad(micrograd_square(a) * 2, a, create_graph=True)


def test_a_closure_node_is_fine_when_the_walk_need_not_go_through_it() -> None:
    a = Value(2.0)
    sq = micrograd_square(a)
    (d,) = grad(sq.tanh(), sq, create_graph=True)  # d/dsq only: sq's own derivative is not needed
    assert d.data == pytest.approx(1 - math.tanh(4.0) ** 2)  # type: ignore[union-attr]


def test_value_math_has_every_function_of_scalar_math() -> None:
    public = sorted(name for name in vars(scalar_math) if not name.startswith("_"))
    for name in public:
        number = getattr(scalar_math, name)
        if not callable(number) or name in ("where", "ones_like"):
            assert getattr(value_math, name) is number
        elif name == "arctan":  # no op computes it on Values
            assert value_math.arctan(0.5) == math.atan(0.5)
            with pytest.raises(NotDifferentiableError, match="xp.arctan"):
                value_math.arctan(Value(0.5))
        else:
            x = Value(0.3)
            assert getattr(value_math, name)(x).data == pytest.approx(number(0.3), rel=1e-15), name
            assert getattr(value_math, name)(0.3) == number(0.3)
    with pytest.raises(AttributeError, match=r"xp.cbrt"):
        value_math.cbrt  # noqa: B018


@pytest.mark.parametrize("name, f", [("sqrt", lambda t: t.sqrt()), ("log1p", lambda t: (1 + t).log()),
                                     ("expm1", lambda t: t.exp() - 1), ("sinh", lambda t: t.sinh()),
                                     ("cosh", lambda t: t.cosh()), ("tan", lambda t: t.tan())])
def test_a_user_rule_written_with_any_xp_function_gets_its_second_derivative(name, f) -> None:
    torch = pytest.importorskip("torch")
    # an op whose derivative uses xp.<name>: d/dx op(x) = name(x)
    op = Op(f"int_{name}", name, lambda xp, x: x, lambda xp, out, x: (getattr(xp, name)(x),))
    x, t = Value(0.4), torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    (d,) = grad(apply(op, x), x, create_graph=True)
    (td,) = torch.autograd.grad(f(t), t)
    assert grad(d, x)[0] == pytest.approx(td.item(), rel=1e-13)
