"""fit's held steps (tape_training.py): the parameters in arrays between steps give the same
numbers, bit for bit, as the ordinary steps that read and write every Value."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_lite import live, tape_training
from autograd_lite.data import Dataset, digits, moons
from autograd_lite.engine import Value
from autograd_lite.nn import MLP
from autograd_lite.optim import SGD, Adam, AdamW
from autograd_lite.train import DivergenceError, fit

pytest.importorskip("autograd_lite.tape")


def small_digits(n: int = 96) -> Dataset:
    data = digits()
    return Dataset(data.X[:n], data.y[:n], data.name, data.num_classes)


def regression(n: int = 40) -> tuple[list[list[float]], list[float]]:
    X = np.random.default_rng(3).normal(size=(n, 2))
    return X.tolist(), (X[:, 0] - 2 * X[:, 1] ** 2 + 0.25).tolist()


def train_both(make: object, data: object, **kwargs: object) -> list[tuple]:
    """fit twice from the same start: with held steps, then with every step ordinary. Returns
    each run's (data, grads, losses, held steps) and checks that the first really held."""
    counts = []
    original = tape_training.HeldSteps._held_step
    runs = []
    for hold in (True, False):
        held = [0]

        def counting(self, indices, held=held):
            mean = original(self, indices)
            held[0] += mean is not None
            return mean
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(tape_training.HeldSteps, "_held_step", counting)
            if not hold:
                patch.setattr(tape_training.HeldSteps, "_plan", lambda self, ys: None)
            model, optimizer = make()  # type: ignore[operator]
            X, y = data if isinstance(data, tuple) else (data, None)  # type: ignore[misc]
            history = error = None
            try:
                history = fit(model, X, y, optimizer=optimizer, progress=False, **kwargs)
            except DivergenceError as e:
                error = str(e)
        params = model.parameters()
        runs.append(([p.data for p in params], [p.grad for p in params],
                     None if history is None else (history.loss, history.accuracy), error, optimizer.steps))
        counts.append(held[0])
    assert counts[1] == 0
    assert counts[0] > 0, "the held path was never taken: this test would compare a run with itself"
    return runs


def mlp(*sizes: int, optimizer=SGD, **options: object):
    def make():
        model = MLP(sizes[0], list(sizes[1:]), seed=1)
        return model, optimizer(model.parameters(), **options)
    return make


@pytest.mark.parametrize(("make", "data", "kwargs"), [
    (mlp(2, 8, 8, 1, lr=0.3), moons(40, seed=0), {"loss": "hinge", "batch_size": 8, "epochs": 3}),
    (mlp(2, 8, 1, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3), moons(30, seed=1),
     {"loss": "hinge", "batch_size": 7, "epochs": 2}),
    (mlp(64, 8, 10, optimizer=Adam, lr=0.01), small_digits(),
     {"loss": "cross_entropy", "batch_size": 16, "epochs": 2}),
    (mlp(64, 6, 10, optimizer=AdamW, lr=0.01, weight_decay=0.1), small_digits(40),
     {"loss": "cross_entropy", "batch_size": None, "epochs": 3}),
    (mlp(2, 6, 1, lr=0.05), regression(), {"loss": "mse", "batch_size": 10, "epochs": 3}),
], ids=["moons-sgd", "moons-nesterov", "digits-adam", "digits-adamw-full-batch", "regression-mse"])
def test_held_steps_give_the_ordinary_steps_numbers_bit_for_bit(monkeypatch, make, data, kwargs) -> None:
    held, ordinary = train_both(make, data, backend="tape", **kwargs)
    assert held == ordinary  # every .data, every .grad, the history, the optimizer's count


def test_a_class_label_first_seen_late_is_recorded_and_held_again(monkeypatch) -> None:
    ordinary = []
    original = tape_training.fit_step

    def counting(*args):
        ordinary.append(len(args[2]))
        return original(*args)
    monkeypatch.setattr(tape_training, "fit_step", counting)
    data = small_digits(60)  # batches of 6 with 10 classes: labels turn up after the first batch
    runs = train_both(mlp(64, 6, 10, lr=0.1), data, loss="cross_entropy", batch_size=6,
                      epochs=2, backend="auto")
    assert runs[0] == runs[1]
    held_run = ordinary[:len(ordinary) - 20]  # (the second run's 20 steps are all ordinary)
    assert 1 < len(held_run) < 20  # the first batch, and each one with a label not seen before


def test_a_callback_that_changes_the_parameters_is_seen_by_the_next_epoch(monkeypatch) -> None:
    boxes: list = []

    def shrink(epoch, history):  # the callback halves every weight after each epoch
        for p in boxes[-1].parameters():
            p.data *= 0.5

    def make():
        model = MLP(2, [5, 1], seed=2)
        boxes.append(model)
        return model, SGD(model.parameters(), lr=0.2)
    runs = train_both(make, moons(30, seed=2), loss="hinge", batch_size=10, epochs=3,
                      callback=shrink)
    assert runs[0] == runs[1]


def test_ctrl_c_in_the_middle_of_an_epoch_leaves_the_values_written(monkeypatch) -> None:
    batches = [0]

    def interrupt(self, epoch, loss):
        batches[0] += 1
        if batches[0] % 7 == 0:  # in the 3rd batch of the 3rd epoch, in each run
            raise KeyboardInterrupt
    monkeypatch.setattr(live.ProgressBar, "batch", interrupt)
    runs = []
    for hold in (True, False):
        if not hold:
            monkeypatch.setattr(tape_training.HeldSteps, "_plan", lambda self, ys: None)
        model = MLP(2, [6, 1], seed=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit(model, moons(30, seed=3), loss="hinge", lr=0.3, batch_size=10, epochs=5, progress=False)
        runs.append([(p.data, p.grad) for p in model.parameters()])
    assert runs[0] == runs[1]
    assert any(g != 0 for _, g in runs[0])


def test_divergence_while_held_stops_with_the_ordinary_steps_error_and_values(monkeypatch) -> None:
    X, y = [[float(i)] for i in range(10)], [float(10 * i) for i in range(10)]

    def make():
        model = MLP(1, [4, 1], activation="linear", seed=0)
        return model, SGD(model.parameters(), lr=0.01)
    held, ordinary = train_both(make, (X, y), loss="mse", batch_size=3, epochs=300,
                                backend="tape")
    assert held[3] is not None and "diverged" in held[3]
    assert held == ordinary


def test_a_live_figure_sees_current_values(monkeypatch) -> None:
    seen = []

    class Watching:
        reads_model = True

        def __init__(self, model):
            self.model = model

        def batch(self, epoch, loss):
            seen.append([p.data for p in self.model.parameters()])

        def epoch(self, history):
            pass

        def close(self):
            pass
    model = MLP(2, [4, 1], seed=5)
    params = model.parameters()
    monkeypatch.setattr("autograd_lite.train._displays", lambda *a, **k: Watching(model))
    steps = []
    original = SGD.next_values

    def recording(self, data, grads):
        new = original(self, data, grads)
        steps.append(new.tolist())
        return new
    monkeypatch.setattr(SGD, "next_values", recording)
    fit(model, moons(20, seed=5), loss="hinge", lr=0.1, batch_size=5, epochs=2, progress=False)
    assert steps, "no held step ran"
    assert all(s in seen for s in steps)  # each held step's values were written before the display looked
    assert seen[-1] == [p.data for p in params]


def test_an_optimizer_with_its_own_update_is_never_held(monkeypatch) -> None:
    class Halving(SGD):
        def update(self, i: int, grad: float, data: float) -> float:
            return 0.5 * self.lr * grad
    model = MLP(2, [3, 1], seed=0)
    calls = []
    monkeypatch.setattr(tape_training.HeldSteps, "_held_step", lambda self, i: calls.append(i))
    fit(model, moons(12, seed=0), loss="hinge", optimizer=Halving(model.parameters(), lr=0.1),
        batch_size=4, epochs=1, progress=False)
    assert calls == []


def test_parameters_the_optimizer_does_not_hold_keep_the_ordinary_steps(monkeypatch) -> None:
    model = MLP(2, [3, 1], seed=0)
    scale = Value(1.0, label="scale")  # a learned leaf of the loss that no optimizer steps

    class Scaled:
        def __call__(self, x):
            return model(x) * scale

        def parameters(self):
            return model.parameters()
    held = []
    original = tape_training.HeldSteps._held_step
    monkeypatch.setattr(tape_training.HeldSteps, "_held_step",
                        lambda self, i: held.append(original(self, i)))
    fit(Scaled(), moons(12, seed=0), loss="hinge", optimizer=SGD(model.parameters(), lr=0.1),
        batch_size=4, epochs=2, progress=False, backend="tape")
    assert held == [] and scale.grad != 0  # it accumulates, as in eager backward


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 4), min_size=1, max_size=2), st.sampled_from(["relu", "tanh", "sigmoid"]),
       st.sampled_from(["hinge", "mse", "bce_with_logits", "cross_entropy"]),
       st.sampled_from([SGD, Adam, AdamW]), st.integers(1, 9), st.integers(0, 2**16))
def test_random_mlps_losses_and_optimizers_hold_bit_for_bit(hidden, activation, loss, optimizer, size, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(14, 3)).tolist()
    classes = 3 if loss == "cross_entropy" else 1
    labels = rng.integers(0, 2 if classes == 1 else classes, 14)
    y = (np.where(labels > 0, 1, -1) if loss == "hinge" else labels).tolist()
    if loss == "mse":
        y = rng.normal(size=14).tolist()  # real-valued targets: inputs of the tape

    def make():
        model = MLP(3, [*hidden, classes], activation=activation, seed=seed)
        return model, optimizer(model.parameters(), lr=0.05)
    held, ordinary = train_both(make, (X, y), loss=loss, batch_size=size, epochs=2, backend="tape")
    assert held == ordinary
