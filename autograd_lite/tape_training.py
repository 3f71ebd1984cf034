"""Training on the tape: many steps with the parameters held in arrays.

One step of `fit` on the tape (backend.fit_step) reads every parameter's number into
an array, replays the batch, writes every parameter's .grad, and the optimizer writes
every .data. For MLP(64, [16, 16, 10]) that is 1,482 Values read and written twice per
step: more time than the replay's matrix products. While an epoch runs, nothing else
looks at the parameters. So `HeldSteps` keeps them in the tape's own parameter vector
between steps: the replay reads it, the optimizer updates it in place
(Optimizer.next_values), and the Values are written back (`write_back`) whenever
something else may look: at the end of every epoch, before a live figure draws, and
when training stops for any reason. The numbers are those of the step-by-step path,
bit for bit (tests/test_tape_training.py).

Anything unusual takes the ordinary step after writing the Values back, which then
does what it always does: the first batch (which records the tape), a class label
not seen before (a new recording), a replay that fails or a loss that is not finite
(the ordinary step raises its error or falls back to eager), an optimizer with its
own update(), a model whose loss has other learned leaves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_lite.backend import (
    Gradients,
    auto_gradients,
    cached_tape,
    fit_step,
    static_targets,
    tape_gradients,
)
from autograd_lite.losses import Loss
from autograd_lite.optim import Optimizer
from autograd_lite.tape import Tape, TapeError


class HeldSteps:
    """fit's steps on one data set (X, y): `steps(indices)` is one update on the examples at
    those indices, returning the batch's mean loss before it, as backend.fit_step would.
    X and y are read once, into arrays, when the steps first hold the parameters (fit does not
    change its data while it trains)."""

    def __init__(self, model: Any, backend: Gradients, loss: Loss, optimizer: Optimizer,
                 X: Sequence[Any], y: Sequence[Any], check: Callable[[float], None]) -> None:
        self.model, self.backend, self.loss = model, backend, loss
        self.optimizer, self.check = optimizer, check
        self.X, self.y = X, y
        self.arrays: tuple[np.ndarray, np.ndarray] | None = None  # X and y as arrays, made once
        self.can_hold = backend in (tape_gradients, auto_gradients) and optimizer._vectorized()
        self.plans: dict[int, _Plan | None] = {}  # id(program) -> where the parameters are in it
        self.plan: _Plan | None = None  # the tape that the last ordinary step used, if it can hold
        self.held: _Held | None = None  # the arrays, while the Values are behind them

    def __call__(self, indices: Sequence[int]) -> float:
        if self.held is None and self.plan is not None:  # read the Values again (a callback may change them)
            self.held = _Held(self.plan)
        mean = self._held_step(indices) if self.held is not None else None
        if mean is None:  # the ordinary step: reads and writes every Value (records, falls back, raises)
            self.write_back()
            xs, ys = [self.X[i] for i in indices], [self.y[i] for i in indices]
            self.plan = None
            mean = fit_step(self.backend, self.model, xs, ys, self.loss, self.optimizer, self.check)[0]
            self.plan = self._plan(ys) if self.can_hold else None
        return mean

    def write_back(self, release: bool = True) -> None:
        """Give every parameter its value and grad from the arrays. Then the next step reads the
        Values again (someone may change them), unless `release` is False: for a reader only."""
        held = self.held
        if held is not None and held.steps:
            rows = held.plan.rows
            for p, x, g in zip(self.optimizer.params, held.params[rows].tolist(), held.grads.tolist()):
                p.data, p.grad = x, g
            held.steps = 0
        if release:
            self.held = None

    def _plan(self, ys: Sequence[Any]) -> _Plan | None:
        """Where the optimizer's parameters are among the leaves of the tape that just ran, if
        it can hold them: it replays this model and loss, and they are exactly its learned leaves."""
        tape = cached_tape(self.model, self.loss, ys)
        if not isinstance(tape, Tape) or tape.program is None:
            return None
        program = tape.program
        if id(program) not in self.plans:
            self.plans = {id(program): self._rows(tape, program, static_targets(self.loss, ys)[0])}
        return self.plans[id(program)]

    def _rows(self, tape: Tape, program: Any, static: bool) -> _Plan | None:
        params = self.optimizer.params
        learned = set(program.learned_leaves)
        if len(learned) != len(params) or not all(p in learned for p in params):
            return None
        if self.arrays is None:
            try:
                self.arrays = np.asarray(self.X, dtype=float), np.asarray(self.y)
            except (TypeError, ValueError):  # ragged inputs: the ordinary steps convert each batch
                self.can_hold = False
                return None
        X, y = self.arrays
        everywhere, targets = static_targets(self.loss, y)  # as the whole data set's batches would be
        if everywhere != static:  # (only some batches' targets are whole numbers: the ordinary steps)
            return None
        try:
            dataset = tape.batch((X, targets.astype(int) if static else targets))  # laid out once
        except (TypeError, ValueError):
            return None
        row = {leaf: i for i, leaf in enumerate(program.leaves)}
        rows = np.array([row[p] for p in params], dtype=np.intp)
        block = slice(int(rows[0]), int(rows[0]) + len(rows))
        contiguous = np.array_equal(rows, np.arange(block.start, block.stop))
        return _Plan(tape, program, dataset, block if contiguous else rows)  # a slice: the optimizer's view

    def _held_step(self, indices: Sequence[int]) -> float | None:
        """One step on the arrays, or None (nothing changed) where the ordinary step must run."""
        held = self.held
        assert held is not None and self.arrays is not None
        plan, tape = held.plan, held.plan.tape
        try:
            data = plan.dataset.subset(np.asarray(indices, dtype=np.intp))
            if not tape.recorded(data) or tape.program is not plan.program:
                return None  # a class label not seen before: the ordinary step records it
            seed = 1.0 / data.size  # as Tape.run_for
            results, grads = tape.replay(data, held.params, seed)
            mean = float(results[0].sum()) * seed
            if not math.isfinite(mean):
                return None  # the ordinary step raises (with every .grad as it leaves them)
            assert grads is not None
            found = grads[plan.rows] + 0.0  # as 0.0 + g in eager backward: -0.0 becomes 0.0
            new = self.optimizer.next_values(held.params[plan.rows], found)
        except (ArithmeticError, ValueError, TapeError):
            return None  # the ordinary step says what went wrong (or falls back to eager)
        held.params[plan.rows] = new  # (a view of the replay's parameter vector when a slice)
        held.grads, held.steps = found, held.steps + 1
        return mean


@dataclass(frozen=True)
class _Plan:
    """A tape that can hold the optimizer's parameters, and where they are among its leaves."""

    tape: Tape
    program: Any
    dataset: Any  # the whole data set, laid out for the tape (tape._Batch): each batch is a subset
    rows: slice | np.ndarray  # the optimizer's parameters in program.leaves (a slice when contiguous)


class _Held:
    """The parameter vector (the program's leaves, in its order) while HeldSteps holds it."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.params = plan.program.parameters()  # read from the Values
        self.grads = np.zeros(0)
        self.steps = 0  # held steps since the Values were read or written
