"""Training: the loop of forward, loss, backward, step.

Writing the loop yourself stays easy (see optim.py); `fit` is a convenience that
adds mini-batches, a progress bar (or a live figure) and a history:

    model = MLP(2, [16, 16, 1], seed=0)
    history = fit(model, data.X, data.y, loss="hinge", optimizer=SGD(model.parameters(), lr=0.1))
    plot_history(history); plot_decision_boundary(model, data)     # from autograd_lite.plots

fit reads as its steps: `Step` (one update), `train_epoch` (one pass over the batches),
`measure_epoch` (the model's loss and accuracy on the training and validation data).
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from autograd_lite.backend import BACKENDS as BACKENDS  # re-exported: fit's backends live in backend.py
from autograd_lite.backend import Gradients as Gradients
from autograd_lite.backend import Numbers, fit_step, resolve
from autograd_lite.backend import as_numbers as _numbers
from autograd_lite.backend import batch_loss as batch_loss
from autograd_lite.backend import eager_gradients as eager_gradients
from autograd_lite.data import Dataset, as_xy, batch_indices
from autograd_lite.history import History
from autograd_lite.live import Display, Displays, LivePlot, ProgressBar, in_jupyter
from autograd_lite.losses import CORRECT, LOSSES, Loss, accuracy
from autograd_lite.modes import no_grad
from autograd_lite.optim import SGD, LRScheduler, Optimizer
from autograd_lite.plots import plot_decision_boundary as plot_decision_boundary  # moved to plots.py; old
from autograd_lite.plots import plot_history as plot_history  # imports from train keep working
from autograd_lite.plots import plot_images as plot_images

if TYPE_CHECKING:  # the tape loads on first use (import autograd_lite stays light)
    from autograd_lite.tape_training import HeldSteps

__all__ = ["BACKENDS", "DivergenceError", "History", "Step", "batch_loss", "eager_gradients", "evaluate",
           "fit", "measure_epoch", "measurer", "predict", "train_epoch"]


class DivergenceError(FloatingPointError):
    """The loss became nan or inf; `.history` holds the epochs finished before that."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history


def fit(model: Any, X: Sequence[Any] | Dataset, y: Sequence[Any] | None = None, *, loss: str | Loss,
        optimizer: Optimizer | None = None, lr: float | None = None, epochs: int = 10,
        batch_size: int | None = None,
        validation: Dataset | tuple[Sequence[Any], Sequence[Any]] | None = None,
        scheduler: LRScheduler | None = None, accuracy: Callable[[Any, Any], bool] | None = None,
        seed: int = 0, progress: bool = True, live: bool = False, backend: str | Gradients = "auto",
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
    seed: the shuffling of the batches. progress: show a progress bar (a widget in Jupyter).
    live: in Jupyter, one figure updated in place while training: the loss and accuracy
        curves and, for 2-D inputs, the decision boundary (elsewhere: just the bar).
    callback: called as callback(epoch, history) after each epoch; return True to stop.
    backend: "auto" replays the batch on the NumPy tape when it can (many times faster) and
        falls back to building eager graphs, with a warning, when the model or loss looks at
        values; "eager" always builds the graph of Values; "tape" insists on the tape.

    After every epoch the loss and accuracy of the whole training (and validation) set are
    measured on the model as it then is: the History, the bar and the live figure show them.
    Ctrl-C stops training and returns the history of the finished epochs (the model keeps
    its trained weights). A nan or inf loss raises DivergenceError before the bad update.
    """
    X, y = as_xy(X, y, "fit")
    loss_fn = _loss(loss)
    correct = accuracy or CORRECT.get(loss_fn)
    step = Step(model, resolve(backend), loss_fn, _optimizer(model, optimizer, lr))
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a whole number >= 1, got {epochs!r}")
    val = _validation(validation)
    measure = measurer(loss_fn, correct)
    rng = random.Random(seed)
    history = History()
    steps = step.on(X, y)  # with the tape, the parameters stay in arrays while an epoch runs
    show = _displays(model, X, y, epochs, _batches_per_epoch(len(X), batch_size), progress=progress,
                     live=live, accuracy=correct is not None, validation=val is not None)
    try:
        for epoch in range(1, epochs + 1):
            history.lr.append(step.optimizer.lr)
            train_epoch(steps, batch_indices(len(X), batch_size, rng=rng), epoch, history, show)
            measure_epoch(history, measure, step, (X, y), val)
            show.epoch(history)
            if scheduler is not None:
                scheduler.step()
            if callback is not None and callback(epoch, history):
                break
    except KeyboardInterrupt:
        history.interrupted = True
        warnings.warn(f"fit: interrupted after {history.epochs} full epochs; returning the history so far",
                      stacklevel=2)
    finally:
        show.close()
    return history


@dataclass(frozen=True)
class Step:
    """One update: zero the gradients, compute the batch's mean loss and gradients, step."""

    model: Any
    gradients: Gradients
    loss: Loss
    optimizer: Optimizer

    def __call__(self, xs: Sequence[Any], ys: Sequence[Any]) -> float:
        """The batch's mean loss before the update. Raises FloatingPointError (and skips the
        update) if it is nan or inf."""
        # backend.fit_step: with the tape, the optimizer steps from the tape's arrays (same numbers)
        return fit_step(self.gradients, self.model, xs, ys, self.loss, self.optimizer, _finite)[0]

    def on(self, X: Sequence[Any], y: Sequence[Any]) -> HeldSteps:
        """The steps on one data set, by the examples' numbers: `steps(indices)` is one update.
        With the tape they keep the parameters in arrays between steps (tape_training.py) until
        `steps.write_back()`, which fit calls whenever anything else may look at the model."""
        from autograd_lite.tape_training import HeldSteps

        return HeldSteps(self.model, self.gradients, self.loss, self.optimizer, X, y, _finite)


def _finite(mean: float) -> None:  # no update from a nan or inf loss
    if not math.isfinite(mean):
        raise FloatingPointError(f"the loss became {mean}")


def train_epoch(steps: HeldSteps, epoch_batches: Iterable[Sequence[int]], epoch: int, history: History,
                show: Display) -> None:
    """One pass over the batches (each a list of the examples' numbers), an update for each; a
    diverging loss raises DivergenceError. The model's Values are up to date when it returns or
    raises, and before a display that draws from the model sees a batch."""
    optimizer = steps.optimizer
    try:
        for indices in epoch_batches:
            try:
                mean = steps(indices)
            except (OverflowError, FloatingPointError) as e:
                raise DivergenceError(
                    f"fit: training diverged in epoch {epoch}, after {optimizer.steps} updates ({e}); "
                    f"try a smaller learning rate than {optimizer.lr:g}", history) from e
            if show.reads_model:  # (it only looks: the steps go on from the arrays)
                steps.write_back(release=False)
            show.batch(epoch, mean)
    finally:
        steps.write_back()


Measure = Callable[[Any, Sequence[Any], Sequence[Any]], tuple[float, "float | None"]]


def measurer(loss: Loss, correct: Callable[[Any, Any], bool] | None) -> Measure:
    """(mean loss, accuracy) of a model on a dataset, without gradients: the tape's forward (one
    NumPy pass, whatever the training backend) when it can replay the model, else like `evaluate`."""
    import numpy as np

    from autograd_lite.backend import tape_loss
    from autograd_lite.tape import TapeError

    def eager(model: Any, X: Sequence[Any], y: Sequence[Any]) -> tuple[float, float | None]:
        try:
            return evaluate(model, X, y, loss=loss, accuracy=correct)
        except (OverflowError, FloatingPointError):  # the weights blew up: fit raises DivergenceError
            return math.inf, None if correct is None else math.nan

    arrays: dict[int, tuple[Any, Any]] = {}  # id(X) -> (X, X as an array): fit measures the same sets

    def as_array(X: Sequence[Any]) -> Any:
        kept = arrays.get(id(X))
        if kept is None or kept[0] is not X:
            try:
                kept = arrays[id(X)] = (X, np.asarray(X, dtype=float))
            except (TypeError, ValueError):  # ragged: the tape says what is wrong with it
                return X
        return kept[1]

    def with_tape(model: Any, X: Sequence[Any], y: Sequence[Any]) -> tuple[float, float | None]:
        try:
            mean, outputs = tape_loss(model, as_array(X), y, loss)
        except (TapeError, ArithmeticError, ValueError, TypeError):
            return eager(model, X, y)
        if not math.isfinite(mean):
            return eager(model, X, y)  # eager says which op failed, or gets the clamped value right
        return mean, None if correct is None else accuracy(correct, outputs, y)
    return with_tape


def measure_epoch(history: History, measure: Measure, step: Step, train: tuple[Sequence[Any], Sequence[Any]],
                  val: tuple[Sequence[Any], Sequence[Any]] | None) -> None:
    """Append the model's loss and accuracy on the training (and validation) data to the history.
    A training loss that is no longer finite raises DivergenceError (the history keeps the
    epochs before, so history.json stays plain numbers)."""
    on_train = measure(step.model, *train)
    if not math.isfinite(on_train[0]):
        raise DivergenceError(
            f"fit: training diverged in epoch {history.epochs + 1}, after {step.optimizer.steps} updates "
            f"(the training set's loss became {on_train[0]}); try a smaller learning rate than "
            f"{step.optimizer.lr:g}", history)
    measured = [on_train, None if val is None else measure(step.model, *val)]
    for numbers, losses, accuracies in zip(measured, (history.loss, history.val_loss),
                                           (history.accuracy, history.val_accuracy)):
        if numbers is not None:
            losses.append(numbers[0])
            if numbers[1] is not None:
                accuracies.append(numbers[1])


def _displays(model: Any, X: Sequence[Any], y: Sequence[Any], epochs: int, per_epoch: int, *, progress: bool,
              live: bool, accuracy: bool, validation: bool) -> Display:
    bar = ProgressBar(epochs, per_epoch, disable=not progress)
    if live and in_jupyter():
        return Displays(bar, LivePlot(model, X, y, epochs=epochs, per_epoch=per_epoch, accuracy=accuracy,
                                      validation=validation))
    return bar


def _optimizer(model: Any, optimizer: Optimizer | None, lr: float | None) -> Optimizer:
    if optimizer is None:
        return SGD(model.parameters(), lr=0.1 if lr is None else lr)
    if lr is not None:
        raise ValueError(f"fit: lr={lr!r} would be ignored: the optimizer has its own ({optimizer.lr!r}); "
                         f"pass it there, e.g. {type(optimizer).__name__}(model.parameters(), lr={lr!r})")
    return optimizer


def _validation(validation: Any) -> tuple[Sequence[Any], Sequence[Any]] | None:
    if validation is None:
        return None
    if isinstance(validation, tuple):
        return as_xy(validation[0], validation[1], "fit(validation)")
    return as_xy(validation, None, "fit(validation)")


def _batches_per_epoch(n: int, batch_size: int | None) -> int:
    size = n if batch_size is None else batch_size
    return math.ceil(n / size) if isinstance(size, int) and size > 0 else 1


def predict(model: Callable[[Any], Any], X: Sequence[Any]) -> list[Numbers]:
    """The model's outputs for every input, as plain numbers (no graph is recorded)."""
    with no_grad():
        return [_numbers(model(x)) for x in X]


def evaluate(model: Callable[[Any], Any], X: Sequence[Any] | Dataset, y: Sequence[Any] | None = None, *,
             loss: str | Loss, accuracy: Callable[[Any, Any], bool] | None = None
             ) -> tuple[float, float | None]:
    """(mean loss, accuracy) over a dataset, without recording graphs; accuracy None if unknown."""
    X, y = as_xy(X, y, "evaluate")
    loss_fn = _loss(loss)
    correct = accuracy or CORRECT.get(loss_fn)
    with no_grad():
        outputs = [model(x) for x in X]
        mean = sum(loss_fn(out, t).data for out, t in zip(outputs, y)) / len(X)
    if correct is None:
        return mean, None
    return mean, sum(bool(correct(_numbers(o), t)) for o, t in zip(outputs, y)) / len(X)


# --- helpers ----------------------------------------------------------------------------



def _loss(loss: str | Loss) -> Loss:
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}: choose one of {', '.join(LOSSES)} or pass a function")
        return LOSSES[loss]
    if not callable(loss):
        raise TypeError(f"loss must be a loss function or its name, got {type(loss).__name__}")
    return loss


