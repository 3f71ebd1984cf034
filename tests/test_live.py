"""What fit shows while it trains: the progress bar's numbers and the live figure (without Jupyter)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from autograd_lite import live, train
from autograd_lite.data import moons, train_test_split
from autograd_lite.history import History
from autograd_lite.live import LivePlot, ProgressBar
from autograd_lite.nn import MLP
from autograd_lite.train import fit


class Handle:
    """What IPython's display(..., display_id=True) returns: update() replaces the picture."""

    def __init__(self) -> None:
        self.pictures: list[bytes] = []
        self.shown = 0

    def show(self, placeholder) -> Handle:
        self.shown += 1
        assert "live figure appears here" in repr(placeholder)  # a line of text, no picture yet
        return self

    def update(self, picture) -> None:
        self.pictures.append(picture._repr_png_())


def test_the_bar_ends_on_the_historys_numbers_with_whole_epochs() -> None:
    stream = io.StringIO()
    bar = ProgressBar(epochs=10_000, per_epoch=1)
    bar.bar.fp = stream
    bar.batch(1, 0.75)
    assert bar.bar.postfix == "epoch=1/10000, running_loss=0.7500"  # not epoch=1e+4
    history = History(loss=[0.5], accuracy=[0.8], val_loss=[0.6], val_accuracy=[0.7])
    bar.epoch(history)  # refreshed as soon as the epoch is measured: val_acc is this epoch's
    assert bar.bar.postfix == "epoch=1/10000, loss=0.5, acc=80.0%, val_loss=0.6, val_acc=70.0%"
    bar.close()


@pytest.mark.parametrize("backend", ["auto", "eager"])
def test_fit_measures_each_epoch_on_the_whole_training_set(backend: str) -> None:
    train_set, test = train_test_split(moons(60, seed=0), 0.25, seed=0)
    model = MLP(2, [8, 1], seed=0)
    history = fit(model, train_set, loss="hinge", lr=0.1, epochs=3, batch_size=8, validation=test,
                  progress=False, backend=backend)
    # the History holds the model's numbers after its last epoch, as evaluate gives them
    for part, (loss, acc) in (("train", (history.loss, history.accuracy)),
                              ("test", (history.val_loss, history.val_accuracy))):
        data = train_set if part == "train" else test
        expected = train.evaluate(model, data, loss="hinge")
        assert (loss[-1], acc[-1]) == pytest.approx(expected, rel=1e-12)


def test_live_plot_updates_one_picture_and_throttles_by_time(monkeypatch) -> None:
    data = moons(40, seed=0)
    model = MLP(2, [4, 1], seed=0)
    handle = Handle()
    monkeypatch.setattr(live, "FIRST", 3600.0)  # no picture before the last
    plot = LivePlot(model, data.X, data.y, epochs=2, per_epoch=3, accuracy=True, validation=False,
                    show=handle.show)
    for epoch in (1, 2):
        for _ in range(3):
            plot.batch(epoch, 0.5)
        plot.epoch(History(loss=[0.4] * epoch, accuracy=[0.9] * epoch))
    assert handle.shown == 1 and handle.pictures == []  # a run shorter than FIRST is drawn once, at the end
    plot.close()
    assert handle.shown == 1 and len(handle.pictures) == 1
    batches, train_loss, train_acc = plot.lines
    assert list(train_loss.get_ydata()) == [0.4, 0.4] and list(train_acc.get_xdata()) == [1, 2]
    assert list(batches.get_xdata()) == pytest.approx([1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2])
    assert plot.fig.axes[-1].get_title() == "epoch 2/2"


def test_the_live_boundary_is_the_models_prediction(monkeypatch) -> None:
    model = MLP(2, [1], activation="linear", output_activation="linear", seed=0)
    w1, w2, b = model.parameters()
    w1.data, w2.data, b.data = 1.0, 0.0, -0.5  # class 1 where x1 > 0.5
    plot = LivePlot(model, [[0.0, 0.0], [1.0, 1.0]], [0, 1], epochs=1, per_epoch=1, accuracy=False,
                    show=Handle().show)
    plot.close()
    grid, image = plot.boundary.grid, np.asarray(plot.boundary.image.get_array())
    assert image.ravel().tolist() == (grid[:, 0] > 0.5).astype(int).tolist()


def test_fit_live_in_jupyter_draws_while_training(monkeypatch) -> None:
    handle = Handle()
    monkeypatch.setattr(train, "in_jupyter", lambda: True)
    monkeypatch.setattr(live, "_display", handle.show)
    monkeypatch.setattr(live, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(live, "FIRST", 0.0)
    monkeypatch.setattr(live, "BUDGET", 1.0)  # no wait between redraws: one at every batch
    data = moons(30, seed=0)
    history = fit(MLP(2, [4, 1], seed=0), data, loss="hinge", epochs=2, batch_size=10, progress=False,
                  live=True)
    assert handle.shown == 1 and len(handle.pictures) == 2 * 3 + 2 + 1  # batches, epochs, the last
    assert len(set(handle.pictures)) > 3  # the pictures change as it learns
    assert history.epochs == 2


def test_fit_live_in_a_terminal_is_just_the_bar(monkeypatch) -> None:
    def no_display(picture):
        raise AssertionError("no picture outside Jupyter")

    monkeypatch.setattr(live, "_display", no_display)
    fit(MLP(2, [2, 1], seed=0), moons(20, seed=0), loss="hinge", epochs=1, progress=False, live=True)
