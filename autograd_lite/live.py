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
from autograd_lite.nn import MLP
from autograd_lite.plots import COLORS, draw_history, figure_class, model_outputs, png

BUDGET = 0.1  # the live figure may take this share of the time (training slows by ~10% at most)...
MIN_INTERVAL = 0.3  # ...and is redrawn at most this often (seconds)
FIRST = 1.0  # seconds of training before the first picture: a shorter run is drawn once, at its end
RESOLUTION = 64  # grid points per side of the live decision boundary
DPI = 72
_cost = [0.1]  # seconds the last redraw took (in any LivePlot): when the first picture can be afforded


class Display(Protocol):
    reads_model: bool  # whether batch() may draw from the model (fit then makes its Values current first)

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

    reads_model = False

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

    Shown after FIRST seconds of training (later if the last picture was costly), then redrawn so
    that drawing takes about BUDGET of the
    time (a redraw that took 0.05 s waits 0.45 s), and once more at the end. A redraw only
    moves the lines' data and the boundary image (no new axes, no layout pass). `show`
    displays a line of text at once and returns a handle whose `update(picture)` replaces
    it, and then each picture (IPython's display(..., display_id=True) in Jupyter).
    """

    reads_model = True  # the decision boundary

    def __init__(self, model: Callable[[Any], Any], X: Sequence[Any], y: Sequence[Any], *, epochs: int,
                 per_epoch: int, accuracy: bool, validation: bool = True,
                 show: Callable[[Any], Any] | None = None) -> None:
        self.model, self.epochs, self.per_epoch = model, epochs, per_epoch
        self.curves = ["loss", *(["val_loss"] if validation else []), *(["accuracy"] if accuracy else []),
                       *(["val_accuracy"] if accuracy and validation else [])]
        self.history = History()
        self.batch_losses: list[tuple[float, float]] = []
        self.batches = self.redraws = 0
        self.drawing = 0.0  # seconds spent drawing, in all
        self._data = X, y, accuracy
        self.fig: Any = None  # made at the first redraw: a short run pays for one picture only
        # a line of text now (it costs nothing), replaced by the figure after FIRST seconds or at the end
        self.handle = (show or _display)(_Waiting(epochs))
        self._next = time.perf_counter() + max(FIRST, _wait(_cost[0]))

    def batch(self, epoch: int, loss: float) -> None:
        self.batches += 1
        self.batch_losses.append((epoch - 1 + (self.batches - (epoch - 1) * self.per_epoch) / self.per_epoch,
                                  loss))
        if time.perf_counter() >= self._next:
            self._redraw(final=False)

    def epoch(self, history: History) -> None:
        self.history = history
        if time.perf_counter() >= self._next:
            self._redraw(final=False)

    def close(self) -> None:
        self._redraw(final=True)

    def _build(self) -> None:
        X, y, accuracy = self._data
        two_d = len(X) > 0 and hasattr(X[0], "__len__") and len(X[0]) == 2
        panels = 1 + accuracy + two_d
        width = 3.6 * panels  # inches; margins fixed in inches (a layout engine would double the cost)
        self.fig = figure_class()(figsize=(width, 3.0))
        axes = list(self.fig.subplots(1, panels, squeeze=False, gridspec_kw={
            "left": 0.6 / width, "right": 1 - 0.15 / width, "bottom": 0.16, "top": 0.9, "wspace": 0.3})[0])
        placeholder = History()  # one line per curve, their data set at every redraw
        for name in self.curves:
            getattr(placeholder, name).append(0.5)
        draw_history(axes[:1 + accuracy], placeholder, [(0.0, 1.0)], total_epochs=self.epochs)
        self.lines = [line for ax in axes[:1 + accuracy] for line in ax.lines]  # batches, then self.curves
        self.boundary = _Boundary(axes[-1], self.model, X, y) if two_d else None

    def _redraw(self, final: bool) -> None:
        if self.fig is None:
            self._build()
        start = time.perf_counter()  # the next redraw waits in proportion to this one (not the building)
        h = self.history
        epochs = list(range(1, h.epochs + 1))
        curves: list[Any] = [list(zip(*self.batch_losses)) or ([], [])]
        curves += [(epochs, getattr(h, c)) for c in self.curves]
        for line, xy in zip(self.lines, curves):
            line.set_data(xy[0][:len(xy[1])], xy[1])
        for ax in {line.axes for line in self.lines}:
            ax.relim()
            ax.autoscale_view(scalex=False)
        if self.boundary is not None:
            self.boundary.update(f"epoch {h.epochs}/{self.epochs}" + ("" if final else " (training)"))
        picture = _Picture(png(self.fig, dpi=DPI, crop=False))
        self.handle.update(picture)
        end = time.perf_counter()
        self.drawing += end - start
        self.redraws += 1
        _cost[0] = end - start
        self._next = end + max(MIN_INTERVAL, _wait(end - start))


def _wait(cost: float) -> float:
    """Seconds of training between two pictures that cost `cost` each, for drawing to take BUDGET."""
    return cost * (1 - BUDGET) / BUDGET


class _Boundary:
    """The live decision boundary: the data points once, and an image of the predicted class
    on a grid, recomputed from the model at every redraw (the tape replays the whole grid)."""

    def __init__(self, ax: Any, model: Callable[[Any], Any], X: Sequence[Any], y: Sequence[Any]) -> None:
        import numpy as np
        from matplotlib.colors import ListedColormap

        self.ax, self.model = ax, model
        points, labels = np.asarray(X, dtype=float), np.asarray(y)
        low, high = points.min(axis=0), points.max(axis=0)
        pad = 0.15 * (high - low) + 0.1
        self.extent = (low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1])
        gx, gy = np.meshgrid(np.linspace(*self.extent[:2], RESOLUTION),
                             np.linspace(*self.extent[2:], RESOLUTION))
        self.grid = np.column_stack([gx.ravel(), gy.ravel()])
        outputs = model_outputs(model, self.grid[:1]).shape[1]  # (this records the tape for the grid)
        self.classes = max(2, outputs, int(labels.max()) + 1)
        self.threshold = 0.5 if isinstance(model, MLP) and model.activations[-1] == "sigmoid" else 0.0
        colors = ListedColormap(COLORS[:self.classes])
        self.image = ax.imshow(np.zeros((RESOLUTION, RESOLUTION)), extent=self.extent, origin="lower",
                               cmap=colors, vmin=-0.5, vmax=self.classes - 0.5, alpha=0.3, aspect="auto",
                               interpolation="bilinear" if self.classes == 2 else "nearest")
        positive = labels > 0.5 if self.classes == 2 else labels  # hinge's -1 labels are class 0
        ax.scatter(points[:, 0], points[:, 1], c=np.asarray(positive, dtype=int), cmap=colors, vmin=-0.5,
                   vmax=self.classes - 0.5, edgecolors="k", s=18)
        ax.set(xlabel="x1", ylabel="x2", xlim=self.extent[:2], ylim=self.extent[2:])

    def _predicted(self, scores: Any) -> Any:
        predicted = (scores[:, 0] > self.threshold) if scores.shape[1] == 1 else scores.argmax(axis=1)
        return predicted.astype(int).reshape(RESOLUTION, RESOLUTION)

    def update(self, title: str) -> None:
        self.image.set_data(self._predicted(model_outputs(self.model, self.grid)))
        self.ax.set_title(title)


class _Waiting:
    """What the live figure's place shows before its first picture."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def __repr__(self) -> str:
        return f"training for {self.epochs} epochs: the live figure appears here after a second"


class _Picture:
    """A PNG that Jupyter shows (what display() and update() send), without pyplot."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def _repr_png_(self) -> bytes:
        return self.data


def _display(picture: Any) -> Any:
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
        self.reads_model = any(d.reads_model for d in displays)

    def batch(self, epoch: int, loss: float) -> None:
        for d in self.displays:
            d.batch(epoch, loss)

    def epoch(self, history: History) -> None:
        for d in self.displays:
            d.epoch(history)

    def close(self) -> None:
        for d in self.displays:
            d.close()
