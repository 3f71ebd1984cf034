"""Pictures of training: the loss curves, the decision boundary, the network's weights, digit guesses.

    plot_history(history)                       # loss (and accuracy) per epoch, train and validation
    plot_decision_boundary(model, data)         # the class the model picks at every point of the plane
    plot_network(model)                         # every weight: colour its sign, thickness its size
    plot_images(model, digits)                  # inputs as images, titled with the model's guess

Each returns a matplotlib Figure that Jupyter shows as a picture (no pyplot, so no window
ever opens); `.savefig(path)` saves it. The `draw_*` functions draw into axes you give
them: the live figure of `fit(..., live=True)` and the playground redraw with them.
The grid of a decision boundary is computed by the model itself, replayed on the tape
when it can be (one NumPy pass for the whole grid), else called point by point.
"""

from __future__ import annotations

import io
import weakref
from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from autograd_lite.data import Dataset, as_xy
from autograd_lite.engine import Value
from autograd_lite.history import History
from autograd_lite.modes import no_grad
from autograd_lite.nn import MLP

# matplotlib and numpy are imported when first needed, so `import autograd_lite` stays light
if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
          "#bcbd22", "#17becf"]  # class i is drawn in COLORS[i], in every picture
CHUNK = 4096  # grid points per tape replay: the replay holds (nodes x points) numbers at once


@cache
def figure_class() -> type[Figure]:
    from matplotlib.figure import Figure

    class PlotFigure(Figure):
        """A matplotlib Figure that Jupyter shows as a picture without pyplot; `.savefig(path)` saves it."""

        def _repr_png_(self) -> bytes:
            return png(self)

    return PlotFigure


def png(fig: Figure, dpi: float | None = None, crop: bool = True) -> bytes:
    """The figure as PNG bytes, cropped to what is drawn (crop=False: one drawing pass, not two)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi or fig.dpi, bbox_inches="tight" if crop else None)
    return buffer.getvalue()


# --- the model on many points ------------------------------------------------------------

_TAPES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()  # model -> Tape, or None


def model_outputs(model: Callable[[Any], Any], points: np.ndarray) -> np.ndarray:
    """The model's outputs for many inputs at once: (n_points, n_outputs), no graph kept.

    Replays the model on the tape (`Tape.record(model, X).forward(X)`) when it can: one
    recording per model, which reads the current weights at every replay. A model the
    tape cannot replay is called point by point under no_grad.
    """
    import numpy as np

    points = np.asarray(points, dtype=float)
    tape = _tape(model, points)
    if tape is not None:
        chunks = [tape.forward(points[i:i + CHUNK]) for i in range(0, len(points), CHUNK)]
        return np.concatenate([c.reshape(len(c), -1) for c in chunks])
    with no_grad():
        outputs = [model(list(p)) for p in points.tolist()]
    rows = [o if isinstance(o, list) else [o] for o in outputs]
    return np.array([[v.data if isinstance(v, Value) else float(v) for v in row] for row in rows])


def _tape(model: Callable[[Any], Any], points: np.ndarray) -> Any:
    try:
        if model in _TAPES:
            return _TAPES[model]
    except TypeError:  # not weak-referenceable (e.g. a bound method): no cache, no tape
        return None
    from autograd_lite.tape import Tape, TapeError

    model_ref = weakref.ref(model)  # the tape must not keep its model (the cache's key) alive

    def outputs(x: Any) -> Any:
        return model_ref()(x)  # type: ignore[misc]

    try:
        tape: Any = Tape.record(outputs, points[:CHUNK])
    except (TapeError, ValueError, TypeError, ArithmeticError):
        tape = None
    _TAPES[model] = tape
    return tape


# --- curves ------------------------------------------------------------------------------

def plot_history(history: History) -> Figure:
    """Loss (and accuracy, if measured) per epoch, for training and validation data."""
    panels = 2 if history.accuracy or history.val_accuracy else 1
    fig = figure_class()(figsize=(4.8 * panels, 3.4), layout="constrained")
    draw_history(list(fig.subplots(1, panels, squeeze=False)[0]), history)
    return fig


def draw_history(axes: Sequence[Axes], history: History, batch_losses: Sequence[tuple[float, float]] = (),
                 total_epochs: int | None = None, validation: str = "validation") -> None:
    """Loss curves into axes[0], accuracy into axes[1] (if there is one); batch_losses are
    (epoch as a fraction, loss) of single batches, drawn faintly under the epoch curves;
    `validation` names the held-out curve in the legend."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    epochs = list(range(1, history.epochs + 1))
    curves = [("loss", history.loss, history.val_loss), ("accuracy", history.accuracy, history.val_accuracy)]
    for ax, (name, train, val) in zip(axes, curves):
        if name == "loss" and batch_losses:
            ax.plot(*zip(*batch_losses), color="C0", alpha=0.25, linewidth=0.8, label="batches")
        for values, label, color in ((train, "train", "C0"), (val, validation, "C1")):
            if values:
                ax.plot(epochs[:len(values)], values, color=color, label=label,
                        marker="." if len(values) < 30 else None)
        ax.set(xlabel="epoch", ylabel=name, title=name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if total_epochs is not None:
            ax.set_xlim(0, max(total_epochs, 1))
        ax.grid(alpha=0.3)
        if name == "accuracy":
            ax.set_ylim(-0.02, 1.02)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        if val or (name == "loss" and batch_losses):
            ax.legend(fontsize=8)


# --- the plane ---------------------------------------------------------------------------

def plot_decision_boundary(model: Callable[[Any], Any], X: Sequence[Sequence[float]] | Dataset,
                           y: Sequence[int] | None = None, resolution: int = 200,
                           title: str = "decision boundary") -> Figure:
    """The class the model predicts at every point of the plane, with the data points on top.

    For 2-D inputs. One output: class 1 where the output is above 0 (0.5 after a
    sigmoid); several outputs: the largest wins.
    """
    fig = figure_class()(figsize=(5, 4.4), layout="constrained")
    draw_decision_boundary(fig.subplots(), model, X, y, resolution=resolution, title=title)
    return fig


def draw_decision_boundary(ax: Axes, model: Callable[[Any], Any], X: Sequence[Sequence[float]] | Dataset,
                           y: Sequence[int] | None = None, resolution: int = 200,
                           title: str = "decision boundary") -> None:
    import numpy as np
    from matplotlib.colors import ListedColormap

    X, y = as_xy(X, y, "plot_decision_boundary")
    points = np.asarray(X, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: needs 2-D inputs (2 numbers per example), "
                         f"got shape {points.shape}")
    if _tape(model, points) is None:
        resolution = min(resolution, 60)  # the model runs point by point
    low, high = points.min(axis=0), points.max(axis=0)
    pad = 0.15 * (high - low) + 0.1
    gx, gy = np.meshgrid(np.linspace(low[0] - pad[0], high[0] + pad[0], resolution),
                         np.linspace(low[1] - pad[1], high[1] + pad[1], resolution))
    scores = model_outputs(model, np.column_stack([gx.ravel(), gy.ravel()]))
    labels = np.asarray(y)
    classes = max(2, scores.shape[1], int(labels.max()) + 1)
    if scores.shape[1] == 1:
        threshold = 0.5 if isinstance(model, MLP) and model.activations[-1] == "sigmoid" else 0.0
        predicted = (scores[:, 0] > threshold).astype(int)
    else:
        predicted = scores.argmax(axis=1)
    colors = ListedColormap(COLORS[:classes])
    ax.contourf(gx, gy, predicted.reshape(gx.shape), levels=np.arange(classes + 1) - 0.5, cmap=colors,
                alpha=0.25)
    if scores.shape[1] == 1 and scores.min() < threshold < scores.max():
        ax.contour(gx, gy, scores[:, 0].reshape(gx.shape), levels=[threshold], colors="k", linewidths=1)
    positive = labels > 0.5 if classes == 2 else labels  # hinge's -1 labels are class 0
    ax.scatter(points[:, 0], points[:, 1], c=np.asarray(positive, dtype=int), cmap=colors, vmin=-0.5,
               vmax=classes - 0.5, edgecolors="k", s=22)
    ax.set(title=title, xlabel="x1", ylabel="x2")


# --- the network -------------------------------------------------------------------------

def plot_network(model: MLP, title: str = "weights") -> Figure:
    """The MLP as neurons in columns; each weight a line, blue if positive, red if negative,
    as thick as it is large (the largest |w| drawn thickest). Biases shade the neurons."""
    fig = figure_class()(figsize=(5, 3.6), layout="constrained")
    draw_network(fig.subplots(), model, title=title)
    return fig


def draw_network(ax: Axes, model: MLP, title: str = "weights") -> None:
    import numpy as np
    from matplotlib.collections import LineCollection

    sizes = model.sizes
    widest = max(max(sizes) - 1, 1)
    rows = [((n - 1) / 2 - np.arange(n)) / widest for n in sizes]  # the widest column spans -0.5..0.5
    weights = [np.array([[w.data for w in neuron.w] for neuron in layer.neurons]) for layer in model.layers]
    biggest = max((float(np.abs(w).max()) for w in weights if w.size), default=1.0) or 1.0
    segments: list[Any] = []
    colors, widths = [], []
    for k, w in enumerate(weights):  # w[j, i]: from neuron i of column k to neuron j of column k+1
        for j, i in np.ndindex(w.shape):
            segments.append([(k, rows[k][i]), (k + 1, rows[k + 1][j])])
            colors.append("#1f77b4" if w[j, i] >= 0 else "#d62728")
            widths.append(0.2 + 3.8 * abs(w[j, i]) / biggest)
    ax.add_collection(LineCollection(segments, colors=colors, linewidths=widths, alpha=0.75, zorder=1))
    biases = [np.zeros(sizes[0])] + [np.array([n.b.data for n in layer.neurons]) for layer in model.layers]
    for k, (ys, b) in enumerate(zip(rows, biases)):
        ax.scatter(np.full(len(ys), k), ys, s=140 if len(ys) <= 16 else 40, c=b, cmap="coolwarm_r",
                   vmin=-biggest, vmax=biggest, edgecolors="k", zorder=2)
    names = ["inputs", *[f"{a}" for a in model.activations[:-1]], "output"]
    ax.set_xticks(range(len(sizes)), [f"{name}\n{n}" for name, n in zip(names, sizes)], fontsize=8)
    ax.set_yticks([])
    ax.set_xlim(-0.3, len(sizes) - 0.7)
    ax.set_ylim(-0.6, 0.6)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title)


# --- images ------------------------------------------------------------------------------

def plot_images(model: Callable[[Any], Any], X: Sequence[Sequence[float]] | Dataset,
                y: Sequence[int] | None = None, shape: tuple[int, int] = (8, 8), count: int = 40,
                title: str = "predictions") -> Figure:
    """Inputs drawn as images, each titled with the class the model predicts (its largest output).

    The model's mistakes come first, in red with the true class in brackets; then correct ones.
    """
    import numpy as np

    X, y = as_xy(X, y, "plot_images")
    guesses = model_outputs(model, np.asarray(X, dtype=float)).argmax(axis=1)
    order = sorted(range(len(X)), key=lambda i: guesses[i] == y[i])[:count]  # mistakes first
    columns = min(10, len(order))
    rows = -(-len(order) // columns)
    fig = figure_class()(figsize=(1.0 * columns, 1.15 * rows + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax, i in zip(axes, order):
        ax.imshow(np.asarray(X[i], dtype=float).reshape(shape), cmap="gray_r", interpolation="nearest")
        wrong = guesses[i] != y[i]
        label = f"{guesses[i]} ({y[i]})" if wrong else str(guesses[i])
        ax.set_title(label, color="red" if wrong else "black", fontsize=9)
    for ax in axes:
        ax.set_axis_off()
    fig.suptitle(title)
    return fig
