"""What you see while `fit` runs: a progress bar, and with live=True one figure redrawn in place.

Both get the same three calls from the loop: `batch` after every update, `epoch` once
the epoch's numbers are measured (so the bar's val_acc is this epoch's, not the last
one's), `close` at the end. The numbers shown after an epoch are the History's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from autograd_lite.history import History
from autograd_lite.plots import draw_decision_boundary, draw_history, figure_class, png

BUDGET = 0.05  # the live figure may take this share of the training time...
MIN_INTERVAL = 0.3  # ...and is redrawn at most this often (seconds)
RESOLUTION = 70  # grid points per side of the live decision boundary


class Display(Protocol):
    def batch(self, epoch: int, loss: float) -> None: ...
    def epoch(self, history: History) -> None: ...
    def close(self) -> None: ...


def in_jupyter() -> bool:
    """True inside a Jupyter kernel (where a display can be updated in place), not in a terminal."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


class ProgressBar:
    """tqdm's widget bar in Jupyter (text in a terminal): a tick per batch; after each epoch
    the History's numbers; within an epoch the running mean of its batch losses, so labelled."""

    def __init__(self, epochs: int, per_epoch: int, *, disable: bool = False) -> None:
        self.epochs = epochs
        self.bar = _tqdm()(total=epochs * per_epoch, unit="batch", desc="training", disable=disable)
        self.finished: dict[str, str] = {}
        self.total, self.count = 0.0, 0

    def batch(self, epoch: int, loss: float) -> None:
        self.total, self.count = self.total + loss, self.count + 1
        self.bar.update(1)
        self.bar.set_postfix({"epoch": f"{epoch}/{self.epochs}", **self.finished,
                              "running_loss": f"{self.total / self.count:.4f}"}, refresh=False)

    def epoch(self, history: History) -> None:
        self.total, self.count = 0.0, 0
        self.finished = {name.replace("accuracy", "acc"): f"{value:.1%}" if "acc" in name else f"{value:.4g}"
                         for name, value in history.last().items()}
        self.bar.set_postfix({"epoch": f"{history.epochs}/{self.epochs}", **self.finished})  # refreshes

    def close(self) -> None:
        self.bar.close()


class LivePlot:
    """One figure, updated in place as training runs: loss and accuracy per epoch (train and
    validation, with each batch's loss faintly) and, for 2-D inputs, the decision boundary.

    Redrawn at most every MIN_INTERVAL seconds and so that drawing takes about BUDGET of the
    time (a redraw that took 0.1 s waits 2 s), and once more at the end. `show` displays the
    first picture and returns a handle whose `update(picture)` replaces it (IPython's
    display(..., display_id=True) in Jupyter).
    """

    def __init__(self, model: Callable[[Any], Any], X: Sequence[Any], y: Sequence[Any], *, epochs: int,
                 per_epoch: int, accuracy: bool, show: Callable[[Any], Any] | None = None) -> None:
        self.model, self.X, self.y = model, X, y
        self.epochs, self.per_epoch = epochs, per_epoch
        self.boundary = len(X[0]) == 2 if len(X) and hasattr(X[0], "__len__") else False
        panels = 1 + accuracy + self.boundary
        self.fig = figure_class()(figsize=(4.2 * panels, 3.4), layout="constrained")
        self.axes = list(self.fig.subplots(1, panels, squeeze=False)[0])
        self.history = History()
        self.batch_losses: list[tuple[float, float]] = []
        self.batches = 0
        self.redraws = 0
        self.drawing = 0.0  # seconds spent drawing, in all
        self._next = 0.0  # time.perf_counter() after which the next redraw may happen
        self._draw(final=False)
        self.handle = (show or _display)(_Picture(png(self.fig)))

    def batch(self, epoch: int, loss: float) -> None:
        self.batches += 1
        self.batch_losses.append((epoch - 1 + (self.batches - (epoch - 1) * self.per_epoch) / self.per_epoch,
                                  loss))
        self._maybe_redraw()

    def epoch(self, history: History) -> None:
        self.history = history
        self._maybe_redraw()

    def close(self) -> None:
        self._redraw(final=True)

    def _maybe_redraw(self) -> None:
        if time.perf_counter() >= self._next:
            self._redraw(final=False)

    def _redraw(self, final: bool) -> None:
        start = time.perf_counter()
        self._draw(final)
        self.handle.update(_Picture(png(self.fig)))
        end = time.perf_counter()
        self.drawing += end - start
        self.redraws += 1
        self._next = end + max(MIN_INTERVAL, (end - start) * (1 - BUDGET) / BUDGET)

    def _draw(self, final: bool) -> None:
        for ax in self.axes:
            ax.clear()
        curves = self.axes[:-1] if self.boundary else self.axes
        draw_history(curves, self.history, self.batch_losses, total_epochs=self.epochs)
        if self.boundary:
            done = "" if final else " (training)"
            draw_decision_boundary(self.axes[-1], self.model, self.X, self.y, resolution=RESOLUTION,
                                   title=f"epoch {self.history.epochs}/{self.epochs}{done}")


class _Picture:
    """A PNG that Jupyter shows (what display() and update() send), without pyplot."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def _repr_png_(self) -> bytes:
        return self.data


def _display(picture: _Picture) -> Any:
    from IPython.display import display

    return display(picture, display_id=True)


def _tqdm() -> Any:
    """tqdm's notebook bar when Jupyter widgets are installed, else its text bar (fine in notebooks too)."""
    try:
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm import tqdm
    return tqdm


class Displays:
    """Several displays as one (the bar and the live figure)."""

    def __init__(self, *displays: Display) -> None:
        self.displays = displays

    def batch(self, epoch: int, loss: float) -> None:
        for d in self.displays:
            d.batch(epoch, loss)

    def epoch(self, history: History) -> None:
        for d in self.displays:
            d.epoch(history)

    def close(self) -> None:
        for d in self.displays:
            d.close()
