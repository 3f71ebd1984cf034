"""fit's backends: how one batch's mean loss and every parameter's gradient get computed.

A backend is a function (model, xs, ys, loss) -> (mean loss, outputs) that adds
d(mean loss)/dp to every parameter's .grad, as `batch_loss(...)[0].backward()`
would, and returns the model's outputs as plain numbers. `BACKENDS` lists them by
name (fit's `backend=` and the command line's `--backend` read it):

* "eager" builds the batch's graph of Values and calls backward();
* "tape" records the loss of one example once per (model, loss) and replays it on
  whole batches with NumPy (tape.py), raising TapeError when it cannot;
* "auto" is the tape when it can replay the model and loss, else eager (with one warning).

This module sits below train.py and above tape.py: both use it or are used by it,
and neither imports the other.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from autograd_lite.engine import Value
from autograd_lite.losses import VALUE_TARGETS, Loss, mean

if TYPE_CHECKING:  # the tape needs NumPy: imported when first used, so `import autograd_lite` stays light
    from autograd_lite.optim import Optimizer
    from autograd_lite.tape import Tape

Numbers = float | list[float]  # one example's output, as plain numbers
#: A backend computes one batch's mean loss and fills in every parameter's .grad.
Gradients = Callable[[Any, Sequence[Any], Sequence[Any], Loss], tuple[float, list[Numbers]]]


def batch_loss(model: Callable[[Any], Any], xs: Sequence[Any], ys: Sequence[Any],
               loss: Loss) -> tuple[Value, list[Any]]:
    """The mean of loss(model(x), y) over a batch, as one graph; also returns the model's outputs."""
    outputs = [model(x) for x in xs]
    losses = [loss(out, y) for out, y in zip(outputs, ys)]
    if not losses:
        raise ValueError("batch_loss: the batch is empty")
    return mean(losses), outputs


def eager_gradients(model: Callable[[Any], Any], xs: Sequence[Any], ys: Sequence[Any],
                    loss: Loss) -> tuple[float, list[Numbers]]:
    """The "eager" backend: build the batch's graph of Values, then backward() through it."""
    total, outputs = batch_loss(model, xs, ys, loss)
    total.backward()
    return total.data, [as_numbers(out) for out in outputs]


# --- the tape: one per (model, loss), kept while the model lives ---------------------------------

@dataclass(frozen=True)
class Unreplayable:
    """A (model, loss) the tape could not record: why, so that later batches skip the attempt."""

    reason: str


_TAPES: weakref.WeakKeyDictionary[Any, dict[tuple[Loss, bool], Tape | Unreplayable]] = \
    weakref.WeakKeyDictionary()


def tape_gradients(model: Callable[[Any], Any], xs: Sequence[Any], ys: Sequence[Any],
                   loss: Loss) -> tuple[float, list[Numbers]]:
    """The "tape" backend: add d(mean loss)/dp to every parameter's .grad with a tape; return
    (mean loss, outputs).

    One tape per (model, loss), recorded on the first batch. Whole-number targets (class
    labels) are `static`: the loss gets them as plain numbers, one recording per label. Other
    targets, and those of losses.VALUE_TARGETS (mse, ...), are inputs of the tape like xs.
    Raises TapeError when the loss or the model cannot be replayed (and again, at once, for
    that model and loss on later batches).
    """
    return _with_tape(model, xs, ys, loss, _run)


def _run(tape: Tape, batch: Any) -> Any:
    return tape.run(batch)


def tape_loss(model: Callable[[Any], Any], xs: Sequence[Any], ys: Sequence[Any],
              loss: Loss) -> tuple[float, Any]:
    """(mean loss, outputs) over a dataset with the same tape as tape_gradients; no gradients.
    The outputs are an array, one row per example (a number each for a model with one output)."""
    import numpy as np

    def mean_and_outputs(tape: Tape, batch: Any) -> tuple[float, Any]:
        losses, outputs = tape.forward(batch)
        return float(np.mean(losses)), outputs
    return _with_tape(model, xs, ys, loss, mean_and_outputs, listed=False)


def auto_gradients(model: Callable[[Any], Any], xs: Sequence[Any], ys: Sequence[Any],
                   loss: Loss) -> tuple[float, list[Numbers]]:
    """The "auto" backend: the tape when it can replay the model and loss, else eager.

    The first time a (model, loss) cannot be recorded, a warning says why; later batches go
    straight to eager. A batch whose replay fails with a maths error (e.g. an overflow) is
    redone eagerly, which raises its own error if the maths is really bad.
    """
    return _auto(model, xs, ys, loss, _run, _nothing)


def _nothing() -> None:
    pass


def _auto(model: Callable[[Any], Any], xs: Sequence[Any], ys: Sequence[Any], loss: Loss,
          use: Callable[[Tape, Any], Any], before_eager: Callable[[], None]) -> tuple[float, list[Numbers]]:
    from autograd_lite.tape import TapeError

    if isinstance(cached_tape(model, loss, ys), Unreplayable):
        before_eager()
        return eager_gradients(model, xs, ys, loss)
    try:  # (a replay that fails has added nothing: Tape.run writes .grad after all its maths)
        return _with_tape(model, xs, ys, loss, use)
    except TapeError as error:
        warnings.warn(f"the tape cannot replay this model and loss, so training is eager (slower): "
                      f"{error.reason}", stacklevel=3)
    except (ValueError, OverflowError, FloatingPointError, ZeroDivisionError):
        pass  # this batch only: the next one tries the tape again
    before_eager()
    return eager_gradients(model, xs, ys, loss)


def fit_step(backend: Gradients, model: Callable[[Any], Any], xs: Sequence[Any], ys: Sequence[Any],
             loss: Loss, optimizer: Optimizer, check: Callable[[float], None]) -> tuple[float, list[Numbers]]:
    """fit's step: optimizer.zero_grad(); mean, outputs = backend(model, xs, ys, loss);
    check(mean); optimizer.step(); returns (mean, outputs).

    With the tape ("tape", or "auto" when it replays), the optimizer steps from the values and
    gradients the tape has just read and computed (Tape.run_for), instead of reading them back
    from every parameter: the same numbers, bit for bit, two passes over the parameters fewer
    (run_for sets the optimizer's grads, so zero_grad is only needed where the tape is not used)."""
    found: list[tuple[Any, Any]] = []

    def run_for(tape: Tape, batch: Any) -> Any:
        result, values, grads = tape.run_for(batch, optimizer.params)
        found.append((values, grads))
        return result
    if backend is tape_gradients:
        try:
            mean_loss, outputs = _with_tape(model, xs, ys, loss, run_for)
        except BaseException:
            optimizer.zero_grad()  # as if zero_grad had come first
            raise
    elif backend is auto_gradients:
        mean_loss, outputs = _auto(model, xs, ys, loss, run_for, optimizer.zero_grad)
    else:
        optimizer.zero_grad()
        mean_loss, outputs = backend(model, xs, ys, loss)
    check(mean_loss)
    optimizer.step_from(found[0] if found else None)
    return mean_loss, outputs


#: fit's backends by name: fit(..., backend=name) and `autograd-lite train --backend`.
BACKENDS: dict[str, Gradients] = {"auto": auto_gradients, "eager": eager_gradients, "tape": tape_gradients}


def resolve(backend: str | Gradients) -> Gradients:
    """A backend by name (a key of BACKENDS), or a backend function itself."""
    if callable(backend):
        return backend
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: available are {', '.join(BACKENDS)}")
    return BACKENDS[backend]


def as_numbers(out: Any) -> Numbers:
    """A model's output (a Value or a list of them) as plain numbers."""
    if isinstance(out, Value):
        return out.data
    if isinstance(out, (list, tuple)):
        return [o.data if isinstance(o, Value) else float(o) for o in out]
    return float(out)


def static_targets(loss: Loss, ys: Any) -> tuple[bool, Any]:
    """Whether the tape gets the targets as plain numbers (`static`: one recording per value),
    and them as an array: whole numbers are class labels, which may pick the graph (hinge's
    sign, cross_entropy's logit), unless the loss takes its targets as Values (losses.VALUE_TARGETS)."""
    import numpy as np

    targets = np.asarray(ys)
    whole = targets.dtype.kind in "iub" or (targets.dtype.kind == "f" and bool(np.all(targets % 1 == 0)))
    return whole and loss not in VALUE_TARGETS, targets


def cached_tape(model: Any, loss: Loss, ys: Sequence[Any]) -> Tape | Unreplayable | None:
    return _TAPES.get(model, {}).get((loss, static_targets(loss, ys)[0]))


def _with_tape(model: Callable[[Any], Any], xs: Sequence[Any], ys: Sequence[Any], loss: Loss,
               use: Callable[[Tape, Any], Any], listed: bool = True) -> tuple[float, Any]:
    import numpy as np

    from autograd_lite.tape import Tape, TapeError

    static, targets = static_targets(loss, ys)
    tapes = _TAPES.setdefault(model, {})
    tape = tapes.get((loss, static))
    if isinstance(tape, Unreplayable):
        raise TapeError(tape.reason)
    if tape is None:
        model_ref = weakref.ref(model)  # the tape must not keep its model (the cache's key) alive

        def example_loss(x: Any, y: Any) -> tuple[Value, Any]:
            output = model_ref()(x)  # type: ignore[misc]
            return loss(output, y), output
        example_loss.__name__ = f"{getattr(loss, '__name__', 'loss')}(model(x), y)"
        tape = Tape(example_loss, static=[1] if static else [])
    batch = (np.asarray(xs, dtype=float), targets.astype(int) if static else targets)
    try:
        mean_loss, outputs = use(tape, batch)
    except TapeError as error:
        tapes[(loss, static)] = Unreplayable(error.reason)
        raise
    tapes[(loss, static)] = tape
    return mean_loss, outputs.tolist() if listed else outputs
