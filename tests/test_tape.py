"""The batched tape: same losses and gradients as eager backward, and clear errors."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autograd_lite import define_op, ops
from autograd_lite.engine import Value, detect_anomaly, no_grad, value_dot, value_sum
from autograd_lite.losses import cross_entropy, hinge
from autograd_lite.nn import MLP
from autograd_lite.optim import SGD, Adam, AdamW
from autograd_lite.tape import Tape, TapeError

RNG = np.random.default_rng(5)


def eager(fn, batch, static=(), reduction="mean", params=()):
    """The reference: one graph for the whole batch, then backward(); returns (loss, grads)."""
    for p in params:
        p.grad = 0.0
    losses = []
    for i in range(len(batch[0])):
        args = [a[i].tolist() if k in static else _values(a[i]) for k, a in enumerate(batch)]
        losses.append(fn(*args))
    total = value_sum(losses)
    if reduction == "mean":
        total = total / len(losses)
    total.backward()
    return total.data, np.array([p.grad for p in params])


def _values(row):
    return Value(float(row)) if row.ndim == 0 else [Value(float(x)) for x in row]


def taped(fn, batch, params, **options):
    for p in params:
        p.grad = 0.0
    reduction = options.pop("reduction", "mean")
    loss = Tape.record(fn, batch, **options).run(batch, reduction=reduction)
    return loss, np.array([p.grad for p in params])


def moons_like(n=40):
    X = RNG.normal(size=(n, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, 1, -1)
    return X, y


# --- the same numbers as eager ---------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mlp_hinge_with_l2_equals_eager_backward(reduction) -> None:
    model = MLP(2, [8, 8, 1], seed=3)
    params = model.parameters()

    def loss(x, y):  # micrograd's demo loss, per example: the L2 term averages to itself
        return hinge(model(x), y) + 1e-4 * value_sum([p * p for p in params])

    X, y = moons_like()
    want_loss, want = eager(loss, (X, y), static=[1], reduction=reduction, params=params)
    got_loss, got = taped(loss, (X, y), params, static=[1], reduction=reduction)
    assert got_loss == pytest.approx(want_loss, rel=1e-12)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.abs(want).max() > 1e-3  # the test can fail: gradients are not all zero


def test_leaves_accumulate_and_each_run_reads_the_parameters_again() -> None:
    model = MLP(3, [4, 2], activation="tanh", seed=1)
    params = model.parameters()
    X, T = RNG.normal(size=(10, 3)), RNG.normal(size=(10, 2))
    fn = lambda x, t: value_sum([(o - ti) ** 2 for o, ti in zip(model(x), t)])  # noqa: E731
    tape = Tape.record(fn, (X, T))
    for p in params:
        p.grad = 0.0
    tape.run((X, T))
    once = np.array([p.grad for p in params])
    tape.run((X, T))  # no zero_grad: the gradients add up, as with eager backward
    np.testing.assert_allclose([p.grad for p in params], 2 * once, rtol=1e-14)
    for p in params:  # an SGD step
        p.data -= 0.1 * p.grad
    want_loss, want = eager(fn, (X, T), params=params)
    for p in params:
        p.grad = 0.0
    assert tape.run((X, T)) == pytest.approx(want_loss, rel=1e-12)
    np.testing.assert_allclose([p.grad for p in params], want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: Adam(ps, lr=0.01), lambda ps: AdamW(ps, lr=0.01)])
def test_run_for_and_step_from_equal_zero_grad_run_and_step_bit_for_bit(make) -> None:
    # fit's step with a tape: the optimizer steps from the tape's arrays, not from the Values.
    # The optimizer has a parameter the loss never reads (grad 0), and misses one the loss reads
    # (its grad accumulates, as with run); a relu at 0 gives -0.0 * w grads.
    runs = []
    X, T = np.vstack([RNG.normal(size=(6, 3)), np.zeros((1, 3))]), RNG.normal(size=(7, 2))
    for fused in (False, True):
        model = MLP(3, [4, 2], seed=2)
        unused, outside = Value(0.5, label="unused"), Value(0.25, label="outside")
        params = [*model.parameters()[1:], unused]  # model.parameters()[0] is left out
        fn = lambda x, t, model=model, outside=outside: value_sum(  # noqa: E731
            [(o * outside - ti) ** 2 for o, ti in zip(model(x), t)])
        tape, optimizer = Tape.record(fn, (X, T)), make(params)
        for step in range(4):
            if fused:  # (run_for zeroes the optimizer's grads itself)
                loss, values, grads = tape.run_for((X, T), optimizer.params)
                optimizer.step_from((values, grads))
            else:
                optimizer.zero_grad()
                loss = tape.run((X, T))
                optimizer.step()
            every = [*model.parameters(), unused, outside]
            runs.append((fused, step, loss, [(p.data, p.grad) for p in every]))
    half = len(runs) // 2
    for (_, _, *plain), (_, _, *fused) in zip(runs[:half], runs[half:]):
        assert repr(plain) == repr(fused)  # every .data and .grad the same, signs of zeros too


def test_gradients_match_pytorch_float64() -> None:
    torch = pytest.importorskip("torch")
    model = MLP(4, [5, 3], activation="sigmoid", seed=7)
    X, T = RNG.normal(size=(16, 4)), RNG.uniform(size=(16, 3))
    # targets as Values of the tape (the product's mse reads plain-number targets)
    tape = Tape.record(lambda x, t: value_sum([(o - ti) ** 2 for o, ti in zip(model(x), t)]) / 3, (X, T))
    got_loss = tape.run((X, T))
    layers = [(torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64,
                            requires_grad=True),
               torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True))
              for layer in model.layers]
    h = torch.tensor(X)
    for i, (W, b) in enumerate(layers):
        h = h @ W.T + b
        h = torch.sigmoid(h) if i == 0 else h
    want_loss = ((h - torch.tensor(T)) ** 2).mean()
    want_loss.backward()
    assert got_loss == pytest.approx(want_loss.item(), rel=1e-12)
    for layer, (W, b) in zip(model.layers, layers):
        np.testing.assert_allclose([[w.grad for w in n.w] for n in layer.neurons], W.grad.numpy(), rtol=1e-11)
        np.testing.assert_allclose([n.b.grad for n in layer.neurons], b.grad.numpy(), rtol=1e-11)


# random graphs over every op: the tape must agree with eager backward
UNARY = ["tanh", "sigmoid", "sin", "cos", "relu", "abs", "leaky_relu", "square", "cube", "log1p_sq",
         "exp_tanh", "recip", "sqrt", "pow"]


def _apply(kind: str, x: Value, y: Value) -> Value:
    if kind == "leaky_relu":
        return x.leaky_relu(0.1)
    if kind == "square":
        return x**2
    if kind == "cube":
        return x**3
    if kind == "log1p_sq":  # log of something positive
        return (1 + x * x).log()
    if kind == "exp_tanh":
        return x.tanh().exp()
    if kind == "recip":
        return x / (1 + x * x)
    if kind == "sqrt":
        return (x * x + 0.5).sqrt()
    if kind == "pow":  # Value exponent, positive base
        return (x * x + 1) ** y.tanh()
    if kind == "abs":
        return abs(x)
    return getattr(x, kind)()


@st.composite
def programs(draw):
    n_inputs = draw(st.integers(1, 3))
    n_params = draw(st.integers(1, 3))
    steps = []
    for i in range(draw(st.integers(1, 12))):
        n = n_inputs + n_params + i
        kind = draw(st.sampled_from(["add", "mul", "sum", *UNARY]))
        picks = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=4))
        steps.append((kind, picks))
    outs = draw(st.lists(st.integers(0, n_inputs + n_params + len(steps) - 1), min_size=1, max_size=3))
    return n_inputs, n_params, steps, outs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.integers(0, 2**31))
def test_random_graphs_equal_eager(program, seed) -> None:
    n_inputs, n_params, steps, outs = program
    rng = np.random.default_rng(seed)
    params = [Value(v, label=f"p{i}") for i, v in enumerate(rng.uniform(-1.5, 1.5, n_params))]

    def fn(x):
        nodes = [*x, *params]
        for kind, picks in steps:
            a, b = nodes[picks[0]], nodes[picks[1]]
            if kind == "add":
                nodes.append(a + b)
            elif kind == "mul":
                nodes.append(a * b)
            elif kind == "sum":
                nodes.append(value_sum([nodes[i] for i in picks]))
            else:
                nodes.append(_apply(kind, a, b))
        return value_sum([nodes[i] for i in outs] + [params[0] * 0.5])

    X = rng.uniform(-1.5, 1.5, (7, n_inputs))
    try:
        want_loss, want = eager(fn, (X,), params=params)
    except (ValueError, OverflowError):
        assume(False)
    assume(math.isfinite(want_loss) and np.all(np.isfinite(want)) and np.abs(want).max() < 1e8)
    got_loss, got = taped(fn, (X,), params)
    assert got_loss == pytest.approx(want_loss, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12 * (1 + np.abs(want).max()))


# --- what fn returns ----------------------------------------------------------------------

def test_forward_returns_one_row_per_example_in_the_shape_of_fn_result() -> None:
    model = MLP(2, [3, 2], seed=2)
    X = RNG.normal(size=(5, 2))
    with no_grad():
        want = np.array([[o.data for o in model(list(x))] for x in X])
    np.testing.assert_allclose(Tape.record(model, X).forward(X), want, rtol=1e-14)
    first = Tape.record(lambda x: model(x)[0], X).forward(X)
    assert first.shape == (5,)
    np.testing.assert_allclose(first, want[:, 0], rtol=1e-14)
    losses, outputs = Tape.record(lambda x: (model(x)[1] ** 2, model(x)), X).forward(X)
    np.testing.assert_allclose(losses, want[:, 1] ** 2, rtol=1e-14)
    np.testing.assert_allclose(outputs, want, rtol=1e-14)


def test_run_with_a_loss_and_an_output_returns_both() -> None:
    model = MLP(2, [3, 1], seed=2)
    X, y = moons_like(12)
    loss, outputs = Tape.record(lambda x, t: (hinge(s := model(x), t), s), (X, y), static=[1]).run((X, y))
    with no_grad():
        scores = [model(list(x)).data for x in X]
    np.testing.assert_allclose(outputs, scores, rtol=1e-14)
    assert loss == pytest.approx(np.mean(np.maximum(0, 1 - y * np.array(scores))), rel=1e-12)


def test_static_arguments_get_plain_numbers_and_one_recording_each() -> None:
    seen = []

    def fn(x, label):
        seen.append(label)
        assert type(label) is int
        return x * label

    X, labels = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, -1, 1, 2])
    tape = Tape.record(fn, (X, labels), static=[1])
    assert sorted(tape.traces) == [(-1,), (1,), (2,)]
    assert tape.program.size == 7  # one input, three constants, x*1, x*-1, x*2: one program for all
    assert tape.forward((X, labels)).tolist() == [1.0, -2.0, 3.0, 8.0]
    assert tape.run((X, labels), reduction="sum") == 10.0


def test_a_subset_of_a_batch_replays_as_the_batch_of_those_examples() -> None:
    X, labels = np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([1, -1, 1, 2, 2])
    tape = Tape.record(lambda x, label: x * x * label, (X, labels), static=[1])
    whole = tape.batch((X, labels))
    for index in ([4, 0], [1], [3, 1, 2]):  # labels present: (2, 1), (-1,), (2, -1, 1)
        part, fresh = whole.subset(np.array(index)), tape.batch((X[index], labels[index]))
        assert [a.tolist() for a in part.arrays] == [a.tolist() for a in fresh.arrays]
        params = tape.program.parameters()
        for seed in (None, 0.5):
            got, want = tape.replay(part, params, seed), tape.replay(fresh, params, seed)
            assert got[0].tolist() == want[0].tolist() == [[X[i] ** 2 * labels[i] for i in index]]
            assert (got[1] is None and want[1] is None) or got[1].tolist() == want[1].tolist()


def test_static_values_that_change_the_graph_get_their_own_program() -> None:
    fn = lambda x, k: x.tanh() if k else x.sin() * 2  # noqa: E731
    X, labels = RNG.normal(size=6), np.array([0, 1, 1, 0, 1, 0])
    tape = Tape.record(fn, (X, labels), static=[1])
    assert len(tape.traces) == 2
    want = np.where(labels, np.tanh(X), 2 * np.sin(X))
    np.testing.assert_allclose(tape.forward((X, labels)), want, rtol=1e-14)


def test_inputs_can_be_rows_of_any_shape_and_recording_under_no_grad_works() -> None:
    batch = RNG.normal(size=(4, 2, 3))
    with no_grad():
        tape = Tape.record(lambda m: value_sum([value_sum(row) * (i + 1) for i, row in enumerate(m)]), batch)
        got = tape.forward(batch)
    np.testing.assert_allclose(got, batch[:, 0].sum(1) + 2 * batch[:, 1].sum(1), rtol=1e-14)


def test_a_long_chain_records_and_replays() -> None:
    def chain(x):
        for _ in range(3000):
            x = x * 1.0001 + 0.001
        return x
    X = np.array([0.5, 1.0])
    tape = Tape.record(chain, X)
    assert tape.forward(X) == pytest.approx([chain(Value(0.5)).data, chain(Value(1.0)).data], rel=1e-12)


# --- errors: a replay must never silently go wrong ----------------------------------------

def test_comparing_values_while_recording_raises_with_the_fix() -> None:
    with pytest.raises(TapeError, match=r"comparing .* while recording a tape.*static.*eager"):
        Tape.record(lambda x: x.relu() if x > 0 else x * 0.1, np.array([1.0, -1.0]))


def test_float_of_a_value_while_recording_raises() -> None:
    with pytest.raises(TapeError, match=r"float\('x' \(= 2.0\)\) while recording"):
        Tape.record(lambda x: x * float(x), np.array([2.0, 3.0]))
    assert float(Value(2.5)) == 2.5  # outside a recording, float() works


def test_branching_on_data_is_caught_by_recording_other_examples() -> None:
    with pytest.raises(TapeError, match=r"example \d of the batch builds a different graph from example 0"):
        Tape.record(lambda x: x.tanh() if x.data > 0 else x.sin(), np.array([1.0, 2.0, -3.0, 0.5]))


def test_a_constant_computed_from_the_data_is_caught() -> None:
    with pytest.raises(TapeError, match=r"has a constant 3.0 where example 0 has 1.0: .* depend on it"):
        Tape.record(lambda x: x * x.data, np.array([1.0, 2.0, 3.0]))


def test_a_constant_the_results_do_not_depend_on_is_allowed() -> None:
    def log_sum_exp(z):  # the max, taken from .data, is subtracted and added back
        m = max(v.data for v in z)
        return value_sum([(v - m).exp() for v in z]).log() + m
    Z = RNG.normal(size=(6, 3)) * 5
    zs = [[Value(x) for x in row] for row in Z]
    want = [log_sum_exp(z).data for z in zs]
    np.testing.assert_allclose(Tape.record(log_sum_exp, Z).forward(Z), want, rtol=1e-13)


def test_the_products_cross_entropy_with_class_labels_as_static_equals_eager() -> None:
    model = MLP(5, [6, 4], seed=9)
    params = model.parameters()
    X, labels = RNG.normal(size=(12, 5)), RNG.integers(0, 4, 12)
    loss = lambda x, k: cross_entropy(model(x), k)  # noqa: E731
    want_loss, want = eager(loss, (X, labels), static=[1], params=params)
    got_loss, got = taped(loss, (X, labels), params, static=[1])
    assert got_loss == pytest.approx(want_loss, rel=1e-12)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    one_label = Tape.record(loss, (X[:1], labels[:1]), static=[1]).program
    every_label = Tape.record(loss, (X, labels), static=[1]).program
    assert one_label.size < every_label.size < 1.5 * one_label.size  # the model is laid out once


def test_a_domain_error_on_replay_names_the_op_the_value_and_the_example() -> None:
    tape = Tape.record(lambda x: x.log(), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"log\('x' \(= -3\.0\)\) for example 2 of the batch: log is only"):
        tape.run(np.array([1.0, 2.0, -3.0]))


def test_overflow_and_anomalies_raise_like_eager() -> None:
    tape = Tape.record(lambda x: (x**3).tanh(), np.array([1.0]))
    with pytest.raises(OverflowError, match=r"powc\('x' \(= 1e\+200\), 3\.0\) for example 1 .* overflows"):
        tape.run(np.array([1.0, 1e200]))
    with pytest.raises(OverflowError, match=r"exp\('x' \(= 800\.0\)\) for example 0 .*: exp overflows"):
        Tape.record(lambda x: x.exp(), np.array([1.0])).run(np.array([800.0]))
    tape = Tape.record(lambda x: x * x * 1e300, np.array([1.0]))
    assert tape.forward(np.array([1e10])).tolist() == [math.inf]  # as eager: a float product overflows to inf
    with detect_anomaly(), pytest.raises(FloatingPointError, match="anomaly in forward: mul"):
        tape.forward(np.array([1.0, 1e10]))


EDGES = [-math.inf, -800.0, -2.5, -2.0, -1.0, -0.5, -1e-300, -0.0, 0.0, 1e-300, 0.5, 1.0, 2.0, 2.5,
         709.78, 709.782712893384, 709.79, 800.0, math.inf, math.nan]


@pytest.mark.parametrize("name", sorted(n for n in ops.BUILTIN_OPS if ops.OPS[n].valid is not None))
def test_a_built_in_op_gives_nan_or_inf_wherever_its_finite_inputs_are_outside_its_domain(name) -> None:
    # the replay skips a built-in op's domain check when its inputs and result are finite (tape_kernels)
    op = ops.OPS[name]
    arity = len(inspect.signature(op.valid).parameters)
    args = [a.reshape(-1) for a in np.meshgrid(*[EDGES] * arity)]
    with np.errstate(all="ignore"):
        outside, out = ~np.asarray(op.valid(*args)), op.forward(np, *args)
    outside &= np.all(np.isfinite(args), axis=0)
    assert outside.any() and not np.isfinite(out[outside]).any()


def test_a_domain_error_is_raised_even_when_the_result_is_finite() -> None:
    tape = Tape.record(lambda x, y: x ** -0.5 + x ** y, (np.array([1.0]), np.array([1.0])))
    with pytest.raises(ValueError, match=r"powc\('x' \(= -inf\), -0\.5\) for example 1 .*: a negative base"):
        tape.forward((np.array([1.0, -math.inf]), np.array([1.0, 2.0])))  # (-inf) ** -0.5 is 0.0
    tape = Tape.record(lambda x, y: x ** y, (np.array([1.0]), np.array([1.0])))
    with pytest.raises(ValueError, match=r"pow\('x' \(= -inf\), 'y' \(= -0\.5\)\) for example 0"):
        tape.forward((np.array([-math.inf]), np.array([-0.5])))


def test_an_own_op_outside_its_domain_raises_even_when_its_result_is_finite() -> None:
    capped = define_op("capped_double", lambda xp, x: 2 * x, lambda xp, out, x: (2.0,),
                       valid=lambda x: x < 10, domain="capped_double needs x < 10")
    tape = Tape.record(lambda x: capped(x), np.array([1.0]))
    assert tape.forward(np.array([1.0, 9.0])).tolist() == [2.0, 18.0]
    with pytest.raises(ValueError, match=r"capped_double\('x' \(= 20\.0\)\) for example 1 .*: capped_double"):
        tape.forward(np.array([1.0, 20.0]))


def test_a_replay_gives_the_same_numbers_after_other_batch_sizes_and_given_a_copy_of_its_values() -> None:
    model = MLP(2, [4, 4, 1], seed=4)
    params = model.parameters()

    def loss(x, y):  # layers, a scatter (the L2 term read by both labels' losses), nodes computed once
        return hinge(model(x), y) + 1e-4 * value_sum([p * p for p in params])
    X, y = moons_like(9)
    tape = Tape.record(loss, (X, y), static=[1])
    program = tape.program

    def replay(columns, copy=False):
        data = tape._batch((X[columns], y[columns]))
        keys, which = data.keyed
        losses = np.array([program.outputs[key] for key in keys])[which].T[0]
        examples, params = np.arange(len(columns)), program.parameters()
        with np.errstate(all="ignore"):
            values, saved = program.forward(params, data.inputs, examples, keep=True)
            if copy:
                values = values.copy()
            grads = program.backward(values, saved, params, 0.5, losses, examples)
            return values[losses, examples].copy(), grads
    first = replay(np.arange(9))
    for columns in (np.arange(3), np.array([4]), np.arange(9)[::-1]):
        replay(columns)
    for again in (replay(np.arange(9)), replay(np.arange(9), copy=True)):
        assert all(np.array_equal(a, b) for a, b in zip(first, again))


@pytest.mark.parametrize("batch, error, message", [
    ((np.ones((3, 2)), np.ones(4)), ValueError, "same number"),
    ((np.ones((3, 3)), np.ones(3)), ValueError, "shapes"),
    ((np.array(["a", "b", "c"]).reshape(3, 1), np.ones(3)), TypeError, "must be numbers"),
    ((np.ones((3, 2)), 1.0), ValueError, "one row per example"),
])
def test_bad_batches_are_explained(batch, error, message) -> None:
    tape = Tape.record(lambda x, t: x[0] * t, (np.ones((2, 2)), np.ones(2)))
    with pytest.raises(error, match=message):
        tape.run(batch)


def test_run_needs_a_loss_and_fn_must_return_values() -> None:
    with pytest.raises(TypeError, match="use Tape.forward"):
        Tape.record(lambda x: [x, x * 2], np.ones(2)).run(np.ones(2))
    with pytest.raises(TypeError, match="must return a Value"):
        Tape.record(lambda x: 3.0, np.ones(2))

def test_too_many_static_values_is_an_error_not_a_slow_crawl() -> None:
    tape = Tape(lambda x, k: x * k, static=[1])
    tape.max_recordings = 3
    with pytest.raises(TapeError, match="more than 3 different values"):
        tape.run((np.ones(5), np.arange(5)))


# --- how the tape knows its errors, and where the backends live -----------------------------

def test_recording_errors_are_a_type_raised_by_the_engine() -> None:
    from autograd_lite.engine import RecordingError
    with pytest.raises(TapeError) as caught:
        Tape.record(lambda x: x * float(x), np.array([2.0, 3.0]))
    assert isinstance(caught.value.__cause__, RecordingError) and issubclass(RecordingError, RuntimeError)
    assert caught.value.reason.startswith("float('x' (= 2.0)) while recording a tape")

    def other_runtime_error(x):
        raise RuntimeError("while recording a tape: not the engine's")  # not a RecordingError: not caught
    with pytest.raises(RuntimeError) as caught:
        Tape.record(other_runtime_error, np.array([2.0]))
    assert not isinstance(caught.value, TapeError)


def test_a_closure_node_is_refused_with_the_fix() -> None:
    def micrograd_style(x):  # the lecture's way: a node with its children, and a _backward closure
        out = Value(2 * x.data, (x,), "double")

        def _backward():
            x.grad += 2 * out.grad
        out._backward = _backward
        return out + x
    with pytest.raises(TapeError, match=r"made with micrograd's constructor .* Define the op with define_op"):
        Tape.record(micrograd_style, np.array([1.0, 2.0]))


# --- layers: dot nodes that read the same inputs replay as matrix products -----------------------

def test_an_mlp_replays_as_one_matrix_product_per_layer() -> None:
    model = MLP(3, [5, 4, 2], seed=1)
    X = RNG.normal(size=(6, 3))
    program = Tape.record(lambda x: value_sum(model(x)), X).program
    layers = [g.layer for g in program.groups if g.layer is not None]
    assert [layer.shape for layer in layers] == [(5, 3), (4, 5), (2, 4)]
    assert all(isinstance(layer.block, slice) for layer in layers)  # [W | b] read without a copy
    assert not layers[0].input_grads and layers[1].input_grads  # nobody needs d/d(inputs)


def test_shared_weights_shuffled_inputs_and_non_leaf_weights_equal_eager() -> None:
    w = [Value(v, label=f"w{i}") for i, v in enumerate(RNG.normal(size=4))]
    b = [Value(0.3), Value(-0.2)]
    scale = Value(1.5)

    def fn(x):
        shared = [value_dot(w[:3], x, b[0]), value_dot([w[0], w[3], w[0]], x, b[1])]  # w0 twice: not a block
        shuffled = value_dot(w[1:], [shared[0].tanh(), x[0], shared[1].tanh()], b[0])  # rows out of order
        computed = value_dot([scale * w[0], w[1]], [x[1], x[2]], b[1])  # a weight that is not a leaf
        return (shuffled * computed).sin() + value_sum(shared)

    params = [*w, *b, scale]
    X = RNG.normal(size=(7, 3))
    program = Tape.record(fn, X).program
    assert sum(g.layer is not None for g in program.groups) == 2  # computed stays a generic dot
    want_loss, want = eager(fn, (X,), params=params)
    got_loss, got = taped(fn, (X,), params)
    assert got_loss == pytest.approx(want_loss, rel=1e-12)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_a_layer_can_read_parameters_and_nodes_computed_once() -> None:
    p, q = Value(0.7, label="p"), Value(-0.4, label="q")
    w = [Value(v) for v in RNG.normal(size=6)]
    b = [Value(0.1), Value(0.2)]

    def fn(x):  # the layer's inputs: an input, a parameter, and a node that depends on no input
        inputs = [x[0], p, (q * q).tanh()]
        return value_sum([value_dot(w[3 * j:3 * j + 3], inputs, b[j]).tanh() for j in range(2)])

    params = [p, q, *w, *b]
    X = RNG.normal(size=(5, 1))
    assert any(g.layer is not None for g in Tape.record(fn, X).program.groups)
    want_loss, want = eager(fn, (X,), params=params)
    got_loss, got = taped(fn, (X,), params)
    assert got_loss == pytest.approx(want_loss, rel=1e-12)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_detect_anomaly_checks_the_replay_without_false_alarms() -> None:
    model = MLP(2, [4, 1], seed=3)
    params = model.parameters()

    def loss(x, y):  # the L2 term is computed once per batch (column 0 of the tape's rows)
        return hinge(model(x), y) + 1e-4 * value_sum([p * p for p in params])
    X, y = moons_like(9)
    tape = Tape.record(loss, (X, y), static=[1])
    for p in params:
        p.grad = 0.0
    tape.run((X, y))
    want = [p.grad for p in params]
    tape.program._runs[len(X)].buffers.grads.fill(math.nan)  # what backward does not set is not read
    for p in params:
        p.grad = 0.0
    with detect_anomaly():
        tape.run((X, y))
    np.testing.assert_allclose([p.grad for p in params], want, rtol=1e-15)
