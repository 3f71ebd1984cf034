"""Second derivatives against PyTorch's double backward, in float64: every op, random graphs, MLPs."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, assume, given, settings

from autograd_lite import (
    MLP,
    Value,
    define_op,
    grad,
    gradgradcheck,
    mse,
    to_torch,
    topological_order,
    value_sum,
)
from autograd_lite.engine import apply, value_dot
from autograd_lite.ops import AT_LEAST, BUILTIN_OPS, MAX, OPS, POW
from test_engine_hypothesis import programs, run  # the random-graph generator of first-order tests

torch = pytest.importorskip("torch")


def our_hessian(f, xs: list[float]) -> list[list[float]]:
    """grad of grad(create_graph=True), one row per first derivative."""
    vs = [Value(x) for x in xs]
    first = grad(f(*vs), vs, create_graph=True, materialize_grads=True)
    return [list(grad(g, vs, materialize_grads=True)) for g in first]  # type: ignore[arg-type]


def torch_hessian(f, xs: list[float]) -> list[list[float]]:
    ts = tuple(torch.tensor(x, dtype=torch.float64) for x in xs)
    h = torch.autograd.functional.hessian(f, ts)
    return [[h[i][j].item() for j in range(len(xs))] for i in range(len(xs))]


def assert_close(ours: list[list[float]], theirs: list[list[float]], rel: float = 1e-10) -> None:
    for row, trow in zip(ours, theirs):
        for a, b in zip(row, trow):
            assert math.isclose(a, b, rel_tol=rel, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b)), (
                ours, theirs)


# op name -> (the op on Values, the same in PyTorch (None: the same code), points).
# Tensors have .exp(), .tanh(), ... too, so most ops share their code.
F = torch.nn.functional
CASES = {
    "add": (lambda a, b: a + b, None, [(1.5, -0.75)]),
    "mul": (lambda a, b: a * b, None, [(1.5, -0.75), (0.3, 2.0)]),
    "div": (lambda a, b: a / b, None, [(1.5, -0.75), (0.3, 2.0)]),  # composite today, a primitive soon
    "sum": (lambda a, b, c: value_sum([a, b, c]), lambda a, b, c: a + b + c, [(0.1, -2.0, 3.5)]),
    "dot": (lambda w1, w2, x1, x2, b: value_dot([w1, w2], [x1, x2], b),
            lambda w1, w2, x1, x2, b: w1 * x1 + w2 * x2 + b, [(0.5, -1.0, 2.0, 0.25, 0.1)]),
    "powc": (lambda x: x**3, None, [(0.5,), (-1.3,), (2.0,)]),
    "pow": (lambda a, b: a**b, None, [(1.5, -0.75), (0.3, 2.0), (4.0, 0.5), (-1.5, 3.0)]),
    "exp": (lambda x: x.exp(), None, [(-3.0,), (0.7,)]),
    "log": (lambda x: x.log(), None, [(1e-3,), (0.5,), (7.25,)]),
    "tanh": (lambda x: x.tanh(), None, [(-4.0,), (0.0,), (0.9,)]),
    "sigmoid": (lambda x: x.sigmoid(), None, [(-2.0,), (0.0,), (1.5,)]),
    "relu": (lambda x: x.relu(), None, [(-2.0,), (0.0,), (3.0,)]),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda x: F.leaky_relu(x, 0.1), [(-3.0,), (0.0,), (0.2,)]),
    "abs": (lambda x: abs(x), None, [(-2.5,), (0.0,), (4.0,)]),
    # max(x, 0.5) whose shift up to 0.5 is a constant: d/dx = 1 everywhere, so d2/dx2 = 0
    "at_least": (lambda x: apply(AT_LEAST, x, param=0.5), lambda t: t + (t.clamp(min=0.5) - t).detach(),
                 [(-1.0,), (0.2,), (2.0,)]),
    # max(a, b, c) (the largest's slope is 1, the others' 0), times a so that its second derivatives show
    "max": (lambda a, b, c: apply(MAX, a, b, c) * a, lambda a, b, c: torch.stack([a, b, c]).amax() * a,
            [(0.3, -1.2, 2.0), (2.5, 1.0, -1.0)]),
    "sin": (lambda x: x.sin(), None, [(-2.0,), (1.3,)]),
    "cos": (lambda x: x.cos(), None, [(-2.0,), (1.3,)]),
}


def test_every_op_in_the_table_has_a_second_derivative_test() -> None:
    # BUILTIN_OPS: the rows of ops.py (define_op adds user ops to OPS as tests run)
    assert set(BUILTIN_OPS) <= set(CASES), f"add a case for {sorted(set(BUILTIN_OPS) - set(CASES))}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivatives_and_mixed_partials_match_pytorch(name: str) -> None:
    f, g, points = CASES[name]
    if name in OPS:  # the case really goes through the op it is named after
        out = f(*(Value(x) for x in points[0]))
        assert any(n._rule is OPS[name] for n in topological_order(out)), name
    for xs in points:
        assert_close(our_hessian(f, list(xs)), torch_hessian(g or f, list(xs)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_ops_first_and_second_derivatives_flow_through_a_composite(name: str) -> None:
    # sin(op(x)) * x0: the Hessian needs op's first derivatives (as Values) and its second ones
    f, g, points = CASES[name]
    ours = lambda *v: f(*v).sin() * v[0]  # noqa: E731
    theirs = lambda *t: (g or f)(*t).sin() * t[0]  # noqa: E731
    for xs in points:
        assert_close(our_hessian(ours, list(xs)), torch_hessian(theirs, list(xs)))


def test_pow_at_exponent_zero_against_central_differences() -> None:
    # d2/dx dy x^y = x^(y-1) (1 + y ln x) = 1/x at y = 0. PyTorch gives 0 for d/dy of d/dx there
    # (its backward of pow is masked where the exponent is 0); central differences agree with us.
    ours = our_hessian(lambda x, y: x**y, [1.5, 0.0])
    assert_close(ours, [[0.0, 1 / 1.5], [1 / 1.5, math.log(1.5) ** 2]], rel=1e-14)
    assert gradgradcheck(lambda x, y: x**y, [1.5, 0.0])
    assert torch_hessian(lambda x, y: x**y, [1.5, 0.0])[0][1] == 0.0  # if this fails, PyTorch fixed it
    x, y = Value(0.0), Value(0.0)
    assert grad(x**y, [x, y]) == (0.0, 0.0)  # d/dx 0^y at y = 0 is 0, not 0 * 0^-1, as PyTorch


@pytest.mark.parametrize("c", [2, 3, -1, -2, 0.5, 1.5, 1, 0])
def test_pow_by_any_number(c: float) -> None:
    for x in (0.5, 1.7):
        assert_close(our_hessian(lambda v: v**c, [x]), torch_hessian(lambda t: t**c, [x]))


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "sin", "cos", "powc"])
def test_third_and_fourth_derivatives(name: str) -> None:
    f = CASES[name][0]
    x, t = Value(0.6), torch.tensor(0.6, dtype=torch.float64, requires_grad=True)
    d, td = f(x), f(t)
    for _ in range(4):
        (d,) = grad(d, x, create_graph=True)
        (td,) = torch.autograd.grad(td, t, create_graph=True)
        assert math.isclose(d.data, td.item(), rel_tol=1e-11, abs_tol=1e-12)  # type: ignore[union-attr]


# --- random graphs ------------------------------------------------------------------------

def matches_pytorch(program) -> None:
    xs, _ = program
    # PyTorch's pow backward masks exponent == 0 with a `where`, which loses d2/dx dy there
    # (see test_pow_at_exponent_zero_against_central_differences); stay off that point
    out = run(program, [Value(x) for x in xs], "value")
    assume(not any(n._rule is POW and n._prev[1].data == 0 for n in topological_order(out)))
    ours = our_hessian(lambda *v: run(program, v, "value"), xs)
    theirs = torch_hessian(lambda *t: run(program, t, "torch"), xs)
    assert_close(ours, theirs, rel=1e-8)


def passes_gradgradcheck(program) -> None:
    xs, _ = program
    for shift in (-1e-5, 1e-5):  # keep kinks (relu, abs at 0) out of the finite differences' reach
        for k in range(len(xs)):
            run(program, [Value(x + shift if i == k else x) for i, x in enumerate(xs)], "value")
    assert gradgradcheck(lambda *v: run(program, v, "value"), xs, atol=1e-4, rtol=1e-4)


def examples(n: int) -> settings:
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


# a few dozen graphs in the quick suite, many more with `make test-slow`
@examples(50)
@given(programs)
def test_random_graphs_second_derivatives_match_pytorch(program) -> None:
    matches_pytorch(program)


@examples(50)
@given(programs)
def test_random_graphs_pass_gradgradcheck(program) -> None:
    passes_gradgradcheck(program)


@pytest.mark.slow
@examples(1000)
@given(programs)
def test_many_random_graphs_match_pytorch(program) -> None:
    matches_pytorch(program)


@pytest.mark.slow
@examples(1000)
@given(programs)
def test_many_random_graphs_pass_gradgradcheck(program) -> None:
    passes_gradgradcheck(program)


# --- Hessians of small MLP losses ------------------------------------------------------------

def torch_index(model: MLP) -> list[int]:
    """Where each of model.parameters() sits among to_torch(model)'s parameters, flattened.

    Ours go neuron by neuron (w..., b); PyTorch's go layer by layer (the weight matrix, then the bias)."""
    index, offset = [], 0
    for layer in model.layers:
        nout, nin = len(layer.neurons), len(layer.neurons[0].w)
        for j in range(nout):
            index += [offset + j * nin + k for k in range(nin)] + [offset + nout * nin + j]
        offset += nout * (nin + 1)
    return index


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_hessian_of_an_mlp_loss_matches_torch(activation: str) -> None:
    model = MLP(2, [3, 1], activation=activation, seed=1)
    xs, ys = [[0.5, -1.0], [1.5, 0.25], [-0.7, 0.8]], [1.0, -1.0, 0.5]
    params = model.parameters()
    loss = value_sum([mse(model(x), y) for x, y in zip(xs, ys)])
    first = grad(loss, params, create_graph=True)
    ours = [list(grad(g, params, materialize_grads=True)) for g in first]  # type: ignore[arg-type]

    net = to_torch(model)
    names = [name for name, _ in net.named_parameters()]
    shapes = [p.shape for p in net.parameters()]
    theta = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
    X, Y = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)

    def torch_loss(theta):
        chunks = torch.split(theta, [math.prod(shape) for shape in shapes])
        weights = {name: c.reshape(shape) for name, c, shape in zip(names, chunks, shapes)}
        return ((torch.func.functional_call(net, weights, (X,)).squeeze(-1) - Y) ** 2).sum()

    theirs = torch.autograd.functional.hessian(torch_loss, theta).tolist()
    at = torch_index(model)
    assert [theta[k].item() for k in at] == [p.data for p in params]
    assert_close(ours, [[theirs[at[i]][at[j]] for j in range(len(params))] for i in range(len(params))])


# --- ops a user defines ------------------------------------------------------------------------

@pytest.fixture
def forget_user_ops() -> Iterator[None]:
    """The test's ops leave ops.OPS as it was (other test files loop over its rows)."""
    before = dict(OPS)
    yield
    OPS.clear()
    OPS.update(before)


@pytest.mark.usefixtures("forget_user_ops")
def test_an_op_made_with_define_op_gets_its_second_derivatives() -> None:
    softplus = define_op("softplus_twice", lambda xp, x: xp.log1p(xp.exp(x)),
                         lambda xp, out, x: (1 / (1 + xp.exp(-x)),))
    for at in (-2.0, 0.3, 4.0):
        assert_close(our_hessian(softplus, [at]), torch_hessian(F.softplus, [at]))
    # a rule that uses its output: d/dx log(e^x + e^y) = e^(x - out)
    logaddexp = define_op("logaddexp_twice", lambda xp, x, y: xp.log(xp.exp(x) + xp.exp(y)),
                          lambda xp, out, x, y: (xp.exp(x - out), xp.exp(y - out)))
    for at in ([0.5, -1.0], [2.0, 2.0]):
        assert_close(our_hessian(logaddexp, at), torch_hessian(torch.logaddexp, at))
    assert gradgradcheck(lambda a, b: logaddexp(softplus(a), a * b), [0.4, -0.7])
