"""The playground's Python side, driven as the buttons would: Step, Train, Pause, Reset, the controls."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("ipywidgets")

from autograd_lite.nn import MLP  # noqa: E402
from autograd_lite.playground import Playground, Settings, Trainer, make_model  # noqa: E402


def weights(model: MLP) -> list[float]:
    return [p.data for p in model.parameters()]


def wait_for(condition, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_step_changes_the_parameters_the_pictures_and_the_readout() -> None:
    pg = Playground(dataset="circles", noise=0.05)
    before = weights(pg.trainer.model)
    pictures = pg.boundary.value, pg.curves.value, pg.network.value
    readout = pg.readout.value
    assert "step 0" in readout and all(bytes(p).startswith(b"\x89PNG") for p in pictures)
    pg.buttons["step"].click()
    assert pg.trainer.steps == 1
    assert weights(pg.trainer.model) != before
    assert pg.boundary.value != pictures[0] and pg.network.value != pictures[2]
    assert "step 1" in pg.readout.value


def test_an_epoch_is_measured_on_train_and_test_data() -> None:
    pg = Playground(batch_size=50)  # 100 training points: an epoch is 2 steps
    pg.buttons["step"].click()
    assert pg.trainer.history.epochs == 0
    curves = pg.curves.value
    pg.buttons["step"].click()
    h = pg.trainer.history
    assert h.epochs == 1 and len(h.val_loss) == 1 and len(h.accuracy) == 1
    assert pg.curves.value != curves
    assert f"test loss {h.val_loss[-1]:.4f}" in pg.readout.value


def test_reset_restores_the_seeds_weights() -> None:
    pg = Playground(hidden=(3,), seed=5)
    for _ in range(5):
        pg.buttons["step"].click()
    assert weights(pg.trainer.model) != weights(make_model(Settings(hidden=(3,), seed=5)))
    pg.buttons["reset"].click()
    assert weights(pg.trainer.model) == weights(make_model(Settings(hidden=(3,), seed=5)))
    assert pg.trainer.steps == 0 and pg.trainer.history.epochs == 0 and "step 0" in pg.readout.value


def test_train_runs_in_the_background_and_pause_stops_between_batches() -> None:
    pg = Playground()
    pg.buttons["train"].click()
    assert pg.running and pg.buttons["train"].disabled
    wait_for(lambda: pg.trainer.steps > 20)  # the caller's thread is free meanwhile
    pg.buttons["pause"].click()
    assert not pg.running and not pg.buttons["train"].disabled
    steps = pg.trainer.steps
    time.sleep(0.1)
    assert pg.trainer.steps == steps  # no batch after the pause
    assert f"step {steps}" in pg.readout.value
    pg.buttons["train"].click()  # and it goes on from there
    wait_for(lambda: pg.trainer.steps > steps)
    pg.pause()


def test_the_controls_rebuild_the_network_or_apply_at_once() -> None:
    pg = Playground()
    pg.controls["hidden"].value = "5, 3"
    assert pg.trainer.model.sizes == [2, 5, 3, 1]
    pg.controls["loss"].value = "cross_entropy"
    assert pg.trainer.model.sizes == [2, 5, 3, 2]
    pg.buttons["step"].click()
    pg.controls["lr"].value = 0.001  # the learning rate changes without a reset
    assert pg.trainer.optimizer.lr == pytest.approx(0.001) and pg.trainer.steps == 1
    pg.controls["hidden"].value = "4,x"
    assert "not a list of sizes" in pg.message.value and pg.trainer.model.sizes == [2, 5, 3, 2]
    for name in ("xor", "spirals"):
        pg.controls["dataset"].value = name
        assert pg.trainer.train.name.startswith(name) and pg.trainer.steps == 0


def test_the_tape_trains_the_default_network() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "auto" would warn if it fell back to eager
        trainer = Trainer(Settings())
        for _ in range(30):
            trainer.one_batch()
    from autograd_lite.backend import _TAPES
    from autograd_lite.tape import Tape

    assert [type(t) for t in _TAPES[trainer.model].values()] == [Tape]


def test_a_diverging_run_stops_with_a_message() -> None:
    pg = Playground(optimizer="sgd", lr=1e6, loss="mse", activation="relu", hidden=(8, 8))
    pg.buttons["train"].click()
    wait_for(lambda: not pg.running)  # the weights overflow within a few dozen steps
    assert "training stopped" in pg.message.value and "smaller learning rate" in pg.message.value


def test_explain_one_example_steps_through_the_worst_examples_loss() -> None:
    trainer = Trainer(Settings(hidden=(3,)))
    grads = [p.grad for p in trainer.model.parameters()]
    index, stepper = trainer.explain()
    x, target = trainer.train[index]
    losses = [trainer.loss(trainer.model(x), t).data for x, t in trainer.train]
    assert stepper.root.data == max(losses) == losses[index]
    assert [p.grad for p in trainer.model.parameters()] == grads  # training's grads are left alone
    assert "al-stepper" in stepper._repr_html_()


def test_the_explain_button_rings_the_example_on_the_plane() -> None:
    pg = Playground(hidden=(3,))
    before = pg.boundary.value
    pg.buttons["explain"].click()
    index, _ = pg.trainer.explain()
    assert pg._explained == index and pg.boundary.value != before  # the red ring is drawn
    pg.buttons["reset"].click()
    assert pg._explained is None


def test_the_speed_control_slows_training_down_to_watch_it() -> None:
    pg = Playground()
    pg.speed.value = 20
    pg.buttons["train"].click()
    time.sleep(0.5)
    pg.buttons["pause"].click()
    assert 1 <= pg.trainer.steps <= 11 + 1  # about 20 steps a second, never faster


def test_training_in_the_background_ignores_the_callers_no_grad() -> None:
    from autograd_lite.engine import no_grad

    pg = Playground()
    before = weights(pg.trainer.model)
    with no_grad():  # e.g. another cell evaluating something while the playground trains
        pg.buttons["train"].click()
        wait_for(lambda: pg.trainer.steps > 10)
        pg.buttons["pause"].click()
    assert weights(pg.trainer.model) != before and pg.trainer.history.epochs >= 1


def test_the_readout_follows_every_step() -> None:
    pg = Playground()
    losses = set()
    for _ in range(3):  # within the first epoch: the readout is measured on the model as it is
        pg.buttons["step"].click()
        numbers = pg.trainer.current()
        assert numbers == pg.trainer.current()  # measured once per step, then kept
        losses.add(numbers["train loss"])
        assert f"train loss {numbers['train loss']:.4f}" in pg.readout.value
    assert len(losses) == 3
