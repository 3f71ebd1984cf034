"""fit's backends (backend.py): eager, the tape and auto give the same numbers; the registry."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_lite.backend import auto_gradients, eager_gradients, tape_gradients, tape_loss
from autograd_lite.losses import cross_entropy, hinge
from autograd_lite.nn import MLP
from autograd_lite.tape import TapeError

RNG = np.random.default_rng(6)


def moons_like(n=40):
    X = RNG.normal(size=(n, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, 1, -1)
    return X, y


def test_tape_backend_equals_the_eager_backend() -> None:

    X, y = moons_like(20)
    xs, ys = X.tolist(), y.tolist()
    model = MLP(2, [6, 1], seed=4)
    results = []
    for backend in (eager_gradients, tape_gradients):
        model.zero_grad()
        mean, outputs = backend(model, xs, ys, hinge)
        results.append((mean, outputs, [p.grad for p in model.parameters()]))
    (m1, o1, g1), (m2, o2, g2) = results
    assert m2 == pytest.approx(m1, rel=1e-12)
    np.testing.assert_allclose(o2, o1, rtol=1e-13)
    np.testing.assert_allclose(g2, g1, rtol=1e-12, atol=1e-15)
    model.zero_grad()
    m3, o3 = tape_loss(model, xs, ys, hinge)  # no gradients
    assert m3 == pytest.approx(m1, rel=1e-12) and o3 == pytest.approx(o1, rel=1e-13)
    assert all(p.grad == 0 for p in model.parameters())


def test_the_backends_cache_does_not_keep_models_alive() -> None:
    import gc
    import weakref
    model = MLP(2, [3, 1], seed=4)
    X, y = moons_like(8)
    tape_gradients(model, X.tolist(), y.tolist(), hinge)
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None


def test_auto_backend_falls_back_to_eager_with_one_warning() -> None:
    model = MLP(2, [3, 1], seed=4)
    peeking = lambda out, y: (out - out.data) ** 2 + out * y  # noqa: E731 - reads .data: not replayable
    X, y = moons_like(8)
    with pytest.warns(UserWarning, match="training is eager.*has a constant"):
        first = auto_gradients(model, X.tolist(), y.tolist(), peeking)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert auto_gradients(model, X.tolist(), y.tolist(), peeking) == first


def test_auto_backend_redoes_a_batch_eagerly_when_its_replay_fails() -> None:
    # cross_entropy subtracts the largest logit, a constant the tape takes from its first batch
    # (harmless there); logits of 800 on a later batch then overflow exp() in the replay only.
    results = []
    for backend in (eager_gradients, auto_gradients):
        model = MLP(1, [2], seed=0)
        for neuron, w in zip(model.layers[0].neurons, (1.0, -1.0)):
            neuron.w[0].data = w
        backend(model, [[0.0], [0.1]], [0, 1], cross_entropy)  # records the tape
        model.zero_grad()
        mean, outputs = backend(model, [[800.0], [0.2]], [0, 1], cross_entropy)
        results.append((mean, outputs, [p.grad for p in model.parameters()]))
    (m1, o1, g1), (m2, o2, g2) = results
    assert math.isfinite(m1) and m2 == m1 and o2 == o1
    assert g2 == g1  # the failed replay left no half-added gradients behind


def test_a_saturated_binary_cross_entropy_replays_like_eager() -> None:
    # BCE keeps log's argument at least 1e-12 with an op (at_least), not by reading .data:
    # the tape recorded where sigmoid < 1 replays a batch where sigmoid(80) == 1.0.
    from autograd_lite.losses import binary_cross_entropy
    results = []
    for backend in (eager_gradients, tape_gradients):
        model = MLP(1, [1], activation="sigmoid", output_activation="sigmoid", seed=0)
        model.layers[0].neurons[0].w[0].data = 1.0
        backend(model, [[0.0], [0.1]], [0, 0], binary_cross_entropy)  # records the tape
        model.zero_grad()
        mean, outputs = backend(model, [[80.0], [0.2]], [0, 0], binary_cross_entropy)
        results.append((mean, outputs, [p.grad for p in model.parameters()]))
    (m1, o1, g1), (m2, o2, g2) = results
    assert m1 == pytest.approx(-math.log(1e-12) / 2 + -math.log(1 - o1[1]) / 2, rel=1e-12)
    assert m2 == pytest.approx(m1, rel=1e-12) and o2 == pytest.approx(o1, rel=1e-13)
    np.testing.assert_allclose(g2, g1, rtol=1e-12)


def test_mse_with_real_valued_targets_replays() -> None:
    from autograd_lite.losses import mse
    model = MLP(3, [4, 2], activation="tanh", seed=1)
    X, T = RNG.normal(size=(9, 3)), RNG.normal(size=(9, 2))  # targets are not whole: tape inputs
    results = []
    for backend in (eager_gradients, tape_gradients):
        model.zero_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            mean, outputs = backend(model, X.tolist(), T.tolist(), mse)
        results.append((mean, outputs, [p.grad for p in model.parameters()]))
    (m1, o1, g1), (m2, o2, g2) = results
    assert m2 == pytest.approx(m1, rel=1e-12)
    np.testing.assert_allclose(o2, o1, rtol=1e-13)
    np.testing.assert_allclose(g2, g1, rtol=1e-12, atol=1e-15)


def test_mse_of_class_labels_is_one_recording_with_the_labels_as_inputs() -> None:
    from autograd_lite import backend
    from autograd_lite.losses import mse
    model = MLP(2, [3, 3], seed=2)
    X, labels = RNG.normal(size=(12, 2)), RNG.integers(0, 2, (12, 3))  # one-hot-like 0/1 rows
    tape_gradients(model, X.tolist(), labels.tolist(), mse)
    (tape,) = backend._TAPES[model].values()
    assert len(tape.traces) == 1 and not tape.static  # not one recording per distinct row
    tape_gradients(model, X.tolist(), labels.tolist(), hinge)  # hinge's sign is picked by the label
    assert len(backend._TAPES[model]) == 2 and any(t.static for t in backend._TAPES[model].values())


def test_the_cli_trains_bce_on_the_tape_where_eager_finishes(tmp_path, capsys) -> None:
    # lr 20 saturates the sigmoid at once: log(1 - p) would be log(0) without the at_least op
    import json

    from autograd_lite.cli import main
    histories = []
    for backend in ("eager", "tape"):
        out = tmp_path / backend
        assert main(["train", "moons", "--loss", "binary_cross_entropy", "--backend", backend, "--lr", "20",
                     "--epochs", "3", "--samples", "60", "--no-progress", "--out", str(out)]) == 0
        assert (out / "model.json").exists() and (out / "loss.png").exists()
        histories.append(json.loads((out / "history.json").read_text()))
    np.testing.assert_allclose(histories[1]["loss"], histories[0]["loss"], rtol=1e-9)
    capsys.readouterr()


# --- random networks: the tape's gradients are eager backward's ---------------------------------

LOSS_KINDS = ["hinge", "mse_labels", "mse_real", "cross_entropy", "binary_cross_entropy", "bce_with_logits"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 5), min_size=0, max_size=3), st.sampled_from(["relu", "tanh", "sigmoid",
       "leaky_relu", "linear"]), st.sampled_from(LOSS_KINDS), st.integers(1, 4), st.integers(1, 17),
       st.integers(0, 2**31))
def test_random_mlps_get_eager_gradients_from_the_tape(hidden, activation, kind, outputs, size, seed) -> None:
    from autograd_lite import losses
    rng = np.random.default_rng(seed)
    nin = int(rng.integers(1, 5))
    nout = max(2, outputs) if kind == "cross_entropy" else outputs
    last = "sigmoid" if kind == "binary_cross_entropy" else "linear"
    model = MLP(nin, [*hidden, nout], activation=activation, output_activation=last, init="fan_in",
                seed=int(seed))
    X = rng.normal(size=(size, nin))
    y = {"hinge": rng.choice([-1, 1], (size, nout)), "mse_labels": rng.integers(0, 2, (size, nout)),
         "mse_real": rng.normal(size=(size, nout)), "cross_entropy": rng.integers(0, nout, size),
         "binary_cross_entropy": rng.integers(0, 2, (size, nout)),
         "bce_with_logits": rng.uniform(size=(size, nout))}[kind]
    loss = getattr(losses, kind.removesuffix("_labels").removesuffix("_real"))
    if nout == 1 and kind != "cross_entropy":
        y = y[:, 0]
    results = []
    for backend in (eager_gradients, tape_gradients):
        model.zero_grad()
        mean, _ = backend(model, X.tolist(), y.tolist(), loss)
        results.append((mean, np.array([p.grad for p in model.parameters()])))
    (want_loss, want), (got_loss, got) = results
    assert got_loss == pytest.approx(want_loss, rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_a_model_and_loss_the_tape_cannot_record_are_remembered_as_a_record() -> None:
    from autograd_lite import backend
    calls = []

    def peeking(out, y):
        calls.append(1)
        return out * float(out)  # float() of a Value: the tape cannot record it
    model = MLP(2, [2, 1], seed=0)
    X, y = moons_like(6)
    with pytest.raises(TapeError, match="float"):
        tape_gradients(model, X.tolist(), y.tolist(), peeking)
    (record,) = backend._TAPES[model].values()
    assert isinstance(record, backend.Unreplayable) and record.reason.startswith("float(")
    calls.clear()
    with pytest.raises(TapeError, match="float"):
        tape_gradients(model, X.tolist(), y.tolist(), peeking)
    assert not calls  # not recorded again


def test_the_backends_are_one_registry_that_fit_and_the_cli_read() -> None:
    import ast
    from pathlib import Path

    from autograd_lite import backend, cli, train
    assert set(backend.BACKENDS) == {"auto", "eager", "tape"}
    assert train.BACKENDS is backend.BACKENDS and train.batch_loss is backend.batch_loss
    (action,) = [a for a in cli.build_parser()._subparsers._group_actions[0].choices["train"]._actions
                 if a.dest == "backend"]
    assert action.choices == list(backend.BACKENDS)
    for module in ("tape.py", "tape_replay.py"):  # the tape sits below the backends and train
        tree = ast.parse((Path(backend.__file__).parent / module).read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not imported & {"autograd_lite.train", "autograd_lite.backend"}, module
