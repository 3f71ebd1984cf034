"""Training: the loop of forward, loss, backward, step -- and pictures of how it went.

Writing the loop yourself stays easy (see optim.py); `fit` is a convenience that
adds mini-batches, a progress bar and a history:

    model = MLP(2, [16, 16, 1], seed=0)
    history = fit(model, data.X, data.y, loss="hinge", optimizer=SGD(model.parameters(), lr=0.1))
    plot_history(history); plot_decision_boundary(model, data.X, data.y)
"""

from __future__ import annotations

import io
import math
import random
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from autograd_lite.backend import BACKENDS as BACKENDS  # re-exported: fit's backends live in backend.py
from autograd_lite.backend import Gradients as Gradients
from autograd_lite.backend import Numbers, resolve
from autograd_lite.backend import as_numbers as _numbers
from autograd_lite.backend import batch_loss as batch_loss
from autograd_lite.backend import eager_gradients as eager_gradients
from autograd_lite.data import Dataset, batches
from autograd_lite.engine import no_grad
from autograd_lite.losses import CORRECT, LOSSES, Loss
from autograd_lite.nn import MLP
from autograd_lite.ops import LEAKY_SLOPE, OPS

# matplotlib, numpy and tqdm are imported when first needed, so `import autograd_lite` stays light
if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure
from autograd_lite.optim import SGD, LRScheduler, Optimizer


class DivergenceError(FloatingPointError):
    """The loss became nan or inf; `.history` holds the epochs finished before that."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history


@dataclass
class History:
    """Per-epoch numbers from `fit`. Training loss/accuracy are averaged over the epoch's batches,
    each measured just before its update (as Keras reports them)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)  # empty if the loss has no notion of correct
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)  # the learning rate used in each epoch
    interrupted: bool = False  # stopped early with Ctrl-C

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def __repr__(self) -> str:
        if not self.loss:
            return "History(no epochs)"
        last = [f"loss {self.loss[-1]:.4g}"]
        for name, values in (("accuracy", self.accuracy), ("val_loss", self.val_loss),
                             ("val_accuracy", self.val_accuracy)):
            if values:
                last.append(f"{name} {values[-1]:.4g}")
        stop = ", interrupted" if self.interrupted else ""
        return f"History({self.epochs} epochs{stop}; last: {', '.join(last)})"


def fit(model: Any, X: Sequence[Any] | Dataset, y: Sequence[Any] | None = None, *, loss: str | Loss,
        optimizer: Optimizer | None = None, lr: float | None = None, epochs: int = 10,
        batch_size: int | None = None,
        validation: Dataset | tuple[Sequence[Any], Sequence[Any]] | None = None,
        scheduler: LRScheduler | None = None, accuracy: Callable[[Any, Any], bool] | None = None,
        seed: int = 0, progress: bool = True, backend: str | Gradients = "auto",
        callback: Callable[[int, History], Any] | None = None) -> History:
    """Train `model` on inputs X with targets y by mini-batch gradient descent; return the History.

    loss: a function from losses.py (or its name, e.g. "hinge"), or your own
        loss(output, target) -> Value.
    optimizer: default SGD(model.parameters(), lr=lr), lr 0.1 if not given. With an
        optimizer, give lr to the optimizer, not to fit (fit raises rather than ignore it).
    batch_size: examples per update (None: all of them, full-batch gradient descent).
    validation: (X, y) or a Dataset to measure after every epoch (without recording graphs).
    scheduler: stepped once per epoch. accuracy: output (numbers), target -> bool; by
        default chosen from the loss (losses.CORRECT).
    seed: the shuffling of the batches. progress: show a tqdm bar with live loss/accuracy.
    callback: called as callback(epoch, history) after each epoch; return True to stop.
    backend: "auto" replays the batch on the NumPy tape when it can (many times faster) and
        falls back to building eager graphs, with a warning, when the model or loss looks at
        values; "eager" always builds the graph of Values; "tape" insists on the tape.

    Ctrl-C stops training and returns the history of the finished epochs (the model keeps
    its trained weights). A nan or inf loss raises DivergenceError before the bad update.
    """
    X, y = _xy(X, y, "fit")
    loss_fn = _loss(loss)
    correct = accuracy or CORRECT.get(loss_fn)
    gradients = resolve(backend)
    if optimizer is None:
        optimizer = SGD(model.parameters(), lr=0.1 if lr is None else lr)
    elif lr is not None:
        raise ValueError(f"fit: lr={lr!r} would be ignored: the optimizer has its own ({optimizer.lr!r}); "
                         f"pass it there, e.g. {type(optimizer).__name__}(model.parameters(), lr={lr!r})")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a whole number >= 1, got {epochs!r}")
    val = _xy(*validation, "fit(validation)") if isinstance(validation, tuple) else \
        (_xy(validation, None, "fit(validation)") if validation is not None else None)
    size = len(X) if batch_size is None else batch_size
    per_epoch = math.ceil(len(X) / size) if isinstance(size, int) and size > 0 else 1
    rng = random.Random(seed)
    history = History()
    bar = _progress_bar(total=epochs * per_epoch, disable=not progress, unit="batch", desc="training")
    try:
        for epoch in range(1, epochs + 1):
            history.lr.append(optimizer.lr)
            total, right, seen = 0.0, 0, 0
            for xs, ys in batches(X, y, batch_size, rng=rng):
                optimizer.zero_grad()
                try:
                    mean, outputs = gradients(model, xs, ys, loss_fn)
                    if not math.isfinite(mean):
                        raise FloatingPointError(f"the loss became {mean}")
                    optimizer.step()
                except (OverflowError, FloatingPointError) as e:
                    raise DivergenceError(
                        f"fit: training diverged in epoch {epoch}, after {optimizer.steps} updates ({e}); "
                        f"try a smaller learning rate than {optimizer.lr:g}", history) from e
                total += mean * len(xs)
                seen += len(xs)
                if correct is not None:
                    right += sum(bool(correct(o, t)) for o, t in zip(outputs, ys))
                bar.update(1)
                bar.set_postfix(_postfix(epoch, total / seen, right / seen if correct else None, history),
                                refresh=False)
            history.loss.append(total / seen)
            if correct is not None:
                history.accuracy.append(right / seen)
            if val is not None:
                val_loss, val_acc = evaluate(model, val[0], val[1], loss=loss_fn, accuracy=correct)
                history.val_loss.append(val_loss)
                if val_acc is not None:
                    history.val_accuracy.append(val_acc)
            if scheduler is not None:
                scheduler.step()
            if callback is not None and callback(epoch, history):
                break
    except KeyboardInterrupt:
        history.interrupted = True
        warnings.warn(f"fit: interrupted after {history.epochs} full epochs; returning the history so far",
                      stacklevel=2)
    finally:
        bar.close()
    return history


def predict(model: Callable[[Any], Any], X: Sequence[Any]) -> list[Numbers]:
    """The model's outputs for every input, as plain numbers (no graph is recorded)."""
    with no_grad():
        return [_numbers(model(x)) for x in X]


def evaluate(model: Callable[[Any], Any], X: Sequence[Any] | Dataset, y: Sequence[Any] | None = None, *,
             loss: str | Loss, accuracy: Callable[[Any, Any], bool] | None = None
             ) -> tuple[float, float | None]:
    """(mean loss, accuracy) over a dataset, without recording graphs; accuracy None if unknown."""
    X, y = _xy(X, y, "evaluate")
    loss_fn = _loss(loss)
    correct = accuracy or CORRECT.get(loss_fn)
    with no_grad():
        outputs = [model(x) for x in X]
        mean = sum(loss_fn(out, t).data for out, t in zip(outputs, y)) / len(X)
    if correct is None:
        return mean, None
    return mean, sum(bool(correct(_numbers(o), t)) for o, t in zip(outputs, y)) / len(X)


# --- pictures ----------------------------------------------------------------------------

@cache
def _figure_class() -> type[Figure]:
    from matplotlib.figure import Figure

    class PlotFigure(Figure):
        """A matplotlib Figure that Jupyter shows as a picture without pyplot; `.savefig(path)` saves it."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", bbox_inches="tight")
            return buffer.getvalue()

    return PlotFigure


def plot_history(history: History) -> Figure:
    """Loss (and accuracy, if measured) per epoch, for training and validation data."""
    from matplotlib.ticker import PercentFormatter

    panels = 2 if history.accuracy or history.val_accuracy else 1
    fig = _figure_class()(figsize=(4.8 * panels, 3.4), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    epochs = list(range(1, history.epochs + 1))
    curves = [("loss", history.loss, history.val_loss), ("accuracy", history.accuracy, history.val_accuracy)]
    for ax, (name, train, val) in zip(axes, curves):
        if train:
            ax.plot(epochs[:len(train)], train, label="train", marker="." if len(train) < 30 else None)
        if val:
            ax.plot(epochs[:len(val)], val, label="validation", marker="." if len(val) < 30 else None)
        ax.set(xlabel="epoch", ylabel=name, title=name)
        ax.grid(alpha=0.3)
        if name == "accuracy":
            ax.set_ylim(-0.02, 1.02)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        if val:
            ax.legend()
    return fig


def plot_decision_boundary(model: Callable[[Any], Any], X: Sequence[Sequence[float]] | Dataset,
                           y: Sequence[int] | None = None, resolution: int = 200,
                           title: str = "decision boundary") -> Figure:
    """The class the model predicts at every point of the plane, with the data points on top.

    For 2-D inputs. One output: class 1 where the output is above 0 (0.5 after a
    sigmoid); several outputs: the largest wins.
    """
    import numpy as np
    from matplotlib.colors import ListedColormap

    X, y = _xy(X, y, "plot_decision_boundary")
    points = np.asarray(X, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: needs 2-D inputs (2 numbers per example), "
                         f"got shape {points.shape}")
    if not isinstance(model, MLP):
        resolution = min(resolution, 60)  # eager evaluation, point by point
    low, high = points.min(axis=0), points.max(axis=0)
    pad = 0.15 * (high - low) + 0.1
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    scores = _grid_outputs(model, np.column_stack([gx.ravel(), gy.ravel()]))
    labels = np.asarray(y)
    classes = max(2, scores.shape[1], int(labels.max()) + 1)
    if scores.shape[1] == 1:
        threshold = 0.5 if isinstance(model, MLP) and model.activations[-1] == "sigmoid" else 0.0
        predicted = (scores[:, 0] > threshold).astype(int)
    else:
        predicted = scores.argmax(axis=1)
    colors = ListedColormap(["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                             "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"][:classes])
    fig = _figure_class()(figsize=(5, 4.4), layout="constrained")
    ax = fig.subplots()
    levels = np.arange(classes + 1) - 0.5
    ax.contourf(gx, gy, predicted.reshape(gx.shape), levels=levels, cmap=colors, alpha=0.25)
    if scores.shape[1] == 1:
        ax.contour(gx, gy, scores[:, 0].reshape(gx.shape), levels=[threshold], colors="k", linewidths=1)
    positive = labels > 0.5 if classes == 2 else labels  # hinge's -1 labels are class 0
    ax.scatter(points[:, 0], points[:, 1], c=np.asarray(positive, dtype=int), cmap=colors, vmin=-0.5,
               vmax=classes - 0.5, edgecolors="k", s=22)
    ax.set(title=title, xlabel="x1", ylabel="x2")
    return fig


def plot_images(model: Callable[[Any], Any], X: Sequence[Sequence[float]] | Dataset,
                y: Sequence[int] | None = None, shape: tuple[int, int] = (8, 8), count: int = 40,
                title: str = "predictions") -> Figure:
    """Inputs drawn as images, each titled with the class the model predicts (its largest output).

    The model's mistakes come first, in red with the true class in brackets; then correct ones.
    """
    import numpy as np

    X, y = _xy(X, y, "plot_images")
    guesses = _grid_outputs(model, np.asarray(X, dtype=float)).argmax(axis=1)
    order = sorted(range(len(X)), key=lambda i: guesses[i] == y[i])[:count]  # mistakes first
    columns = min(10, len(order))
    rows = -(-len(order) // columns)
    fig = _figure_class()(figsize=(1.0 * columns, 1.15 * rows + 0.4), layout="constrained")
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


def _grid_outputs(model: Callable[[Any], Any], points: np.ndarray) -> np.ndarray:
    """Model outputs for many points at once: (n_points, n_outputs)."""
    import numpy as np

    if isinstance(model, MLP):  # a NumPy forward pass, reading each activation from ops.OPS
        a = points
        for layer in model.layers:
            W = np.array([[w.data for w in n.w] for n in layer.neurons])
            b = np.array([n.b.data for n in layer.neurons])
            a = _activate(layer.activation, a @ W.T + b)
        return np.asarray(a)
    return np.array([_listed(o) for o in predict(model, points.tolist())])


def _activate(name: str, z: np.ndarray) -> np.ndarray:
    import numpy as np

    if name == "linear":
        return z
    op = OPS[name]
    return np.asarray(op.forward(np, z, LEAKY_SLOPE) if op.has_param else op.forward(np, z))


def _listed(out: Numbers) -> list[float]:
    return out if isinstance(out, list) else [out]


# --- helpers ----------------------------------------------------------------------------

def _progress_bar(**kwargs: Any) -> Any:
    """tqdm's notebook bar when Jupyter widgets are installed, else its text bar (fine in notebooks too)."""
    try:
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm import tqdm
    return tqdm(**kwargs)


def _loss(loss: str | Loss) -> Loss:
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}: choose one of {', '.join(LOSSES)} or pass a function")
        return LOSSES[loss]
    if not callable(loss):
        raise TypeError(f"loss must be a loss function or its name, got {type(loss).__name__}")
    return loss


def _xy(X: Any, y: Any, where: str) -> tuple[Sequence[Any], Sequence[Any]]:
    if isinstance(X, Dataset) and y is None:
        return X.X, X.y
    if y is None:
        raise TypeError(f"{where}: give inputs and targets (X, y), or a Dataset")
    if len(X) != len(y):
        raise ValueError(f"{where}: {len(X)} inputs but {len(y)} targets")
    if len(X) == 0:
        raise ValueError(f"{where}: no examples")
    return X, y


def _postfix(epoch: int, loss: float, acc: float | None, history: History) -> dict[str, Any]:
    info: dict[str, Any] = {"epoch": epoch, "loss": f"{loss:.4f}"}
    if acc is not None:
        info["acc"] = f"{acc:.1%}"
    if history.val_accuracy:
        info["val_acc"] = f"{history.val_accuracy[-1]:.1%}"
    return info

