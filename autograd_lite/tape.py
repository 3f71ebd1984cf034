"""The tape: record a function of Values once, then replay it for a whole batch with NumPy.

The eager engine builds a new graph of Python objects for every example. But a
model's loss has the same graph for every example -- only the numbers change.
So record the graph once (the *tape*) and lay it out as the rows of a NumPy
array: row i holds node i's value for every example of the batch, one example
per column. Then replay it:

* forward: each op runs on whole rows, ``op.forward(numpy, ...)``, and all the
  same-op nodes of one level of the graph run in one NumPy call -- the neurons of
  a layer (dot nodes reading the same inputs) as one matrix product W @ X;
* backward: the chain rule ``grad[parent] += local * grad[node]`` on whole rows,
  with the local derivatives from ``op.local_grads(numpy, ...)`` -- the same
  rules in ops.py that eager backward uses; no derivative is written here.

    tape = Tape.record(lambda x, y: hinge(model(x), y), (X, Y), static=[1])
    loss = tape.run((X, Y))     # mean loss over the batch, d(loss)/dp added to every p.grad
    optimizer.step()

`run` gives every leaf the gradient that eager backward of the batch's mean loss,
``(value_sum([f(x_i, y_i) for each i]) / B).backward()``, would give it (sum
instead of mean with ``reduction="sum"``), except the numbers made while recording
(Constants, like the 2 in 2*x), which get none. The leaves (parameters, and numbers
like the 2 in 2*x) are read again at every run, so the replay sees each
optimizer step. The inputs are the tape's: fn gets one Value per input number.

A replay is right only if the graph does not depend on the example's values. So
while recording, comparing Values or float(Value) raises; and the function is
recorded again on a few other examples of the batch (those with the smallest and
largest values): a different graph raises TapeError, and so does a constant that
differs (it was computed from .data) unless the results do not depend on it, as
with the max subtracted in the log-sum-exp trick (the tape replays both examples
with both constants to check). A branch on .data that these examples happen not
to take cannot be seen. Arguments that choose the graph on purpose, like a class
label that picks a logit or a sign, go in `static`: fn gets them as plain numbers,
the tape keeps one recording per value, and the recordings share one program (the
model's nodes once, then each label's own loss nodes; see tape_replay.Program).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from autograd_lite import modes
from autograd_lite.engine import Value, describe, topological_order
from autograd_lite.modes import RecordingError
from autograd_lite.tape_replay import Program, Trace, differences

HINT = ("A tape records one graph and replays it for every example, so the function must not look at "
        "the values: write the branch with ops (relu, abs, ...), pass an argument that picks the branch "
        "(a class label) in `static`, or use the eager engine (backend='eager').")


class TapeError(RuntimeError):
    """The function cannot be replayed: its graph depends on the example's values, or it has nodes
    without a rule. `reason` says what went wrong; the message adds `fix` (HINT by default)."""

    def __init__(self, reason: str, fix: str = HINT) -> None:
        super().__init__(f"{reason}. {fix}" if fix else reason)
        self.reason = reason


class Tape:
    """A function of Values, recorded once and replayed on whole batches (see the module doc).

    fn(*args) returns a Value (a loss), a list of Values (outputs, for `forward`), or a
    tuple (loss, output) whose output (a Value or a list) `run` returns as numbers too.
    A batch is a tuple with one array per argument (or one array for a one-argument fn),
    each with one row per example: fn gets a Value for each number of a row (a list for
    a row of several), or the row as plain numbers for the arguments in `static`.
    """

    def __init__(self, fn: Callable[..., Any], *, static: Iterable[int] = (), checks: int = 3) -> None:
        self.fn = fn
        self.static = frozenset(static)
        self.checks = checks
        self.traces: dict[tuple[Any, ...], Trace] = {}  # static values -> their recording
        self.program: Program | None = None  # all the recordings, laid out for NumPy
        self._plans: dict[int, Any] = {}  # run_for: where each parameter's row is
        self._found: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))
        self.max_recordings = 64
        self._layout: list[tuple[int, ...]] | None = None
        self._key_of: dict[Any, Any] = {}
        try:
            self._names = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            self._names = []

    @classmethod
    def record(cls, fn: Callable[..., Any], examples: Any, *, static: Iterable[int] = (),
               checks: int = 3) -> Tape:
        """Record fn on the first example of `examples` (a batch), check it on `checks` others."""
        tape = cls(fn, static=static, checks=checks)
        batch = tape._batch(examples)
        tape._program(batch)
        return tape

    def run(self, batch: Any, reduction: str = "mean") -> Any:
        """Forward and backward over the batch: returns the mean (or sum) of fn's loss, and adds
        its gradient to every leaf's .grad, as eager backward would. If fn returns (loss, output),
        returns (loss, outputs) with outputs an array, one row per example. A run that raises
        has changed no .grad: they are written once the whole batch's maths has succeeded."""
        if reduction not in ("mean", "sum"):
            raise ValueError(f"Tape.run: reduction must be 'mean' or 'sum', got {reduction!r}")
        data = self._batch(batch)
        seed = 1.0 / data.size if reduction == "mean" else 1.0
        results, shape = self._replay(data, seed)
        loss = float(results[0].sum()) * seed
        return loss if shape is None else (loss, _shaped(shape[1], results[1:]))

    def run_for(self, batch: Any, params: Sequence[Value]) -> tuple[Any, np.ndarray, np.ndarray]:
        """zero the grads of `params`, then run(batch) (the mean): the same result, and the same
        .data and .grad everywhere, and also every p in `params`' value and new grad as two arrays,
        in that order, which an optimizer can step from without reading thousands of Values again:
        optimizer.step_from (fit does this: backend.fit_step). A p the tape does not reach gets
        grad 0; other leaves the tape reaches accumulate, as in run. A run_for that raises has
        changed no .grad."""
        data = self._batch(batch)
        seed = 1.0 / data.size
        results, shape = self._replay(data, seed, into=params)
        loss = float(results[0].sum()) * seed
        found = self._found
        return (loss if shape is None else (loss, _shaped(shape[1], results[1:]))), found[0], found[1]

    def forward(self, batch: Any) -> Any:
        """fn's result for every example, as numbers: an array (batch,) for a Value, (batch, k)
        for a list of k Values, and a pair of those for (loss, output). No gradients."""
        results, shape = self._replay(self._batch(batch), None)
        if isinstance(shape, tuple):
            return results[0], _shaped(shape[1], results[1:])
        return _shaped(shape, results)

    def _replay(self, data: _Batch, seed: float | None, into: Sequence[Value] | None = None
                ) -> tuple[np.ndarray, Any]:
        """Forward (and, given a seed, backward) for every example: fn's outputs, one column each."""
        program = self._program(data)
        if seed is not None and program.shape is not None and not isinstance(program.shape, tuple):
            raise TypeError(f"Tape.run needs fn to return a loss (a Value), or (loss, output); it "
                            f"returns a list of {program.shape} Values: use Tape.forward for outputs")
        params = program.parameters()
        results, grads = self.replay(data, params, seed)
        if grads is not None:
            if into is None:
                for leaf, grad in zip(program.learned_leaves, grads[program.learned].tolist()):
                    leaf.grad += grad  # leaves accumulate, as in eager backward
            else:
                self._found = self._write_into(program, into, params, grads)
        return results, program.shape

    def replay(self, data: _Batch, params: np.ndarray, seed: float | None
               ) -> tuple[np.ndarray, np.ndarray | None]:
        """The replay itself, reading and writing no Value: fn's outputs for every example (one
        column each) and, given a seed, d(seed * sum of the losses)/d(leaf) for every leaf of the
        program, from the leaves' numbers `params` (in self.program.leaves' order). Every static
        value of `data` must have its recording already (see `recorded`)."""
        program = self.program
        assert program is not None
        keys, which = data.keyed  # each example's outputs, from its own recording
        outputs = np.array([program.outputs[key] for key in keys])[which].T
        examples = np.arange(data.size)
        grads = None
        with np.errstate(all="ignore"):
            values, saved = program.forward(params, data.inputs, examples, keep=seed is not None)
            if seed is not None:
                grads = program.backward(values, saved, params, seed, outputs[0], examples)
        return values[outputs, examples], grads

    def recorded(self, data: _Batch) -> bool:
        """Whether every static value of the batch has its recording (else a run records it)."""
        return self.program is not None and all(key in self.traces for key in data.keyed[0])

    def batch(self, batch: Any) -> _Batch:
        """A batch (as run takes it) checked and laid out for `replay`."""
        return self._batch(batch)

    def _write_into(self, program: Program, into: Sequence[Value], params: np.ndarray, grads: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        """run_for's grads: set for `into` (as 0.0 + g would be: g + 0.0, so -0.0 becomes 0.0),
        added for the other leaves; `into`'s values and grads as arrays."""
        plan = self._plans.get(id(into))
        if plan is None or plan[0] is not program or plan[1] is not into:
            row = {leaf: i for i, leaf in enumerate(program.leaves)}
            rows = np.array([row.get(p, -1) for p in into], dtype=np.intp)
            learned = np.zeros(len(program.leaves), dtype=bool)
            learned[program.learned] = True
            reached = set(into)
            others = [(leaf, i) for leaf, i in row.items() if learned[i] and leaf not in reached]
            plan = (program, into, rows, (rows >= 0) & learned[rows], others)
            self._plans = {id(into): plan}  # one list of parameters at a time (fit's optimizer's)
        _, _, rows, reached_rows, others = plan
        new = np.where(reached_rows, grads[rows] + 0.0, 0.0)
        for p, grad in zip(into, new.tolist()):
            p.grad = grad
        for leaf, i in others:
            leaf.grad += float(grads[i])
        values = params[rows]
        if not reached_rows.all():  # parameters the loss does not use: read them
            values[~reached_rows] = [into[k].data for k in np.flatnonzero(~reached_rows).tolist()]
        return values, new

    def __repr__(self) -> str:
        name = getattr(self.fn, "__name__", "fn")
        size = f": {self.program.size} rows in {len(self.program.groups)} groups" if self.program else ""
        return f"<Tape of {name}: {len(self.traces)} recording(s){size}>"

    # --- batches ------------------------------------------------------------------------
    def _batch(self, batch: Any) -> _Batch:
        args = list(batch) if isinstance(batch, tuple) else [batch]
        arrays = [np.asarray(a) if i in self.static else _numbers(a, self._name(i))
                  for i, a in enumerate(args)]
        if any(a.ndim == 0 for a in arrays):
            raise ValueError("Tape: every argument needs one row per example (a batch); got a single number "
                             f"for {self._name([a.ndim for a in arrays].index(0))}")
        sizes = {len(a) for a in arrays}
        if len(sizes) != 1 or 0 in sizes:
            raise ValueError(f"Tape: every argument needs the same number (at least 1) of rows, one per "
                             f"example; got {[len(a) for a in arrays]}")
        layout = [a.shape[1:] for a in arrays]
        if self._layout is None:
            self._layout = layout
        elif layout != self._layout:
            raise ValueError(f"Tape: this batch's rows have shapes {layout}, but the tape was recorded with "
                             f"{self._layout}; record a new tape for a different model or data")
        return _Batch(arrays, self.static, self._key_of)

    def _name(self, i: int) -> str:
        return self._names[i] if i < len(self._names) else f"arg{i}"

    # --- recording ------------------------------------------------------------------------
    def _program(self, batch: _Batch) -> Program:
        """The program for every static value in the batch: new ones are recorded (and checked)."""
        new = {key: batch.groups[key] for key in batch.keyed[0] if key not in self.traces}
        if len(self.traces) + len(new) > self.max_recordings:
            raise TapeError(f"the static arguments take more than {self.max_recordings} different values, "
                            f"and each needs its own recording",
                            fix="Pass them as Values instead (not static).")
        for key, rows in new.items():
            first = int(rows[0])
            trace = self._trace(batch, first)
            for other in self._check_rows(batch, rows):
                again = self._trace(batch, other)
                difference, changed = differences(trace, again)
                if difference is not None:
                    raise TapeError(f"example {other} of the batch builds a different graph from example "
                                    f"{first}: {difference}")
                if changed:
                    _check_shift_only(Program({key: trace}, len(batch.inputs)), batch, (first, other),
                                      changed, set(again.order))
            self.traces[key] = trace
        if new or self.program is None:
            self.program = Program(self.traces, len(batch.inputs))
        return self.program

    def _trace(self, batch: _Batch, example: int) -> Trace:
        inputs: dict[Value, int] = {}
        args = []
        for i, array in enumerate(batch.arrays):
            if i in self.static:
                args.append(array[example].tolist())
                continue
            row = array[example]
            name = self._name(i)
            leaves = [Value(x, label=f"{name}{_index(row.shape, j)}") for j, x in enumerate(row.flat)]
            inputs.update((leaf, len(inputs)) for leaf in leaves)
            args.append(np.array(leaves, dtype=object).reshape(row.shape).tolist())
        state = modes.state
        previous = state.recording, state.grad_enabled
        state.recording, state.grad_enabled = HINT, True
        try:
            result = self.fn(*args)
        except RecordingError as error:
            raise TapeError(error.reason) from error
        finally:
            state.recording, state.grad_enabled = previous
        outputs, shape = _outputs(result)
        order: list[Value] = []
        seen: set[Value] = set()
        for out in outputs:  # several outputs: one order, each node once
            order += [node for node in topological_order(out) if node not in seen]
            seen.update(order)
        closure = next((node for node in order if node._rule is None and node._prev), None)
        if closure is not None:  # the replay runs ops.py's rules on NumPy rows; a closure has none
            raise TapeError(f"{describe(closure)} was made with micrograd's constructor and a _backward "
                            "closure, which the tape cannot replay on NumPy rows",
                            fix="Define the op with define_op (its rule then works on the tape), or build "
                                "it from autograd_lite's ops, or train without a tape (backend='eager')")
        return Trace(order, inputs, outputs, shape)

    def _check_rows(self, batch: _Batch, rows: np.ndarray) -> list[int]:
        """Examples unlike the first: the smallest and largest along a fixed direction, and the last."""
        picks = [int(rows[-1])]
        if len(batch.inputs):
            score = np.random.default_rng(0).standard_normal(len(batch.inputs)) @ batch.inputs[:, rows]
            picks = [int(rows[np.argmin(score)]), int(rows[np.argmax(score)]), *picks]
        return list(dict.fromkeys(p for p in picks if p != rows[0]))[:self.checks]


class _Batch:
    """The arguments of a batch: non-static numbers as one array (inputs, batch), static ones as rows."""

    def __init__(self, arrays: list[np.ndarray], static: frozenset[int], key_of: dict[Any, Any]) -> None:
        self.arrays = arrays
        self.key_of = key_of  # a static row (its bytes) -> its key, kept by the tape from batch to batch
        self.size = len(arrays[0])
        self.static = static
        numeric = [a.reshape(self.size, -1) for i, a in enumerate(arrays) if i not in static]
        self.inputs = np.concatenate(numeric, axis=1).T if numeric else np.empty((0, self.size))

    def subset(self, index: np.ndarray) -> _Batch:
        """The examples at `index` (their positions in this batch) as a batch, without checking
        and laying them out again: how a held training step takes its batch from the data set."""
        part = object.__new__(_Subset)
        part.whole, part.index, part.key_of, part.static = self, index, self.key_of, self.static
        part.size, part.inputs = len(index), self.inputs[:, index]
        keys, which = self.keyed
        if len(keys) > 1:  # only the static values that occur in the part (each needs its recording)
            present = np.flatnonzero(np.bincount(which[index], minlength=len(keys)))
            renumber = np.zeros(len(keys), dtype=np.intp)
            renumber[present] = np.arange(len(present))
            part.keyed = [keys[k] for k in present.tolist()], renumber[which[index]]
        else:
            part.keyed = keys, which[index]
        return part

    @functools.cached_property
    def groups(self) -> dict[tuple[Any, ...], np.ndarray]:
        """Examples by the values of their static arguments (one recording each)."""
        keys, which = self.keyed
        return {key: np.flatnonzero(which == k) for k, key in enumerate(keys)}

    @functools.cached_property
    def keyed(self) -> tuple[list[tuple[Any, ...]], np.ndarray]:
        """The distinct values of the static arguments, and for each example the number of its own."""
        if not self.static:
            return [()], np.zeros(self.size, dtype=np.intp)
        static = [a for i, a in enumerate(self.arrays) if i in self.static]
        if len(static) == 1 and static[0].ndim == 1 and static[0].dtype.kind in "biu":  # class labels
            labels, inverse = np.unique(static[0], return_inverse=True)
            return [(label,) for label in labels.tolist()], inverse.reshape(-1)
        if all(a.dtype.kind in "biuf" for a in static):  # numbers: find each row's key by its bytes
            joined = np.ascontiguousarray(np.concatenate([a.reshape(self.size, -1).astype(float)
                                                          for a in static], axis=1))
            rows = joined.view(np.dtype((np.void, 8 * joined.shape[1]))).ravel().tolist()
        else:
            rows = list(zip(*[[_frozen(x) for x in a.tolist()] for a in static]))
        seen: dict[Any, int] = {}
        inverse = np.array([seen.setdefault(row, len(seen)) for row in rows], dtype=np.intp)
        first = np.zeros(len(seen), dtype=np.intp)
        first[inverse[::-1]] = np.arange(self.size)[::-1]  # each distinct row's first example
        number: dict[tuple[Any, ...], int] = {}  # (0.0 and -0.0 have different bytes but are one key)
        for row, e in zip(seen, first.tolist()):
            if row not in self.key_of:
                self.key_of[row] = tuple(_frozen(a[e].tolist()) for a in static)
        renumber = np.array([number.setdefault(self.key_of[row], len(number)) for row in seen], dtype=np.intp)
        return list(number), renumber[inverse.reshape(-1)]


class _Subset(_Batch):
    """Some examples of a batch (`_Batch.subset`): their arguments are taken only if asked for."""

    whole: _Batch
    index: np.ndarray

    @functools.cached_property
    def arrays(self) -> list[np.ndarray]:  # type: ignore[override]
        return [a[self.index] for a in self.whole.arrays]


# --- helpers ----------------------------------------------------------------------------

def _numbers(a: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"Tape: argument {name!r} must be numbers, one row per example; got "
                        f"{type(a).__name__}") from None


def _frozen(x: Any) -> Any:
    return tuple(_frozen(y) for y in x) if isinstance(x, list) else x


def _index(shape: tuple[int, ...], j: int) -> str:
    return "" if not shape else str([int(i) for i in np.unravel_index(j, shape)]).replace(" ", "")


def _outputs(result: Any) -> tuple[list[Value], Any]:
    """fn's result as a flat list of Values, and its shape (see Trace.shape)."""
    if isinstance(result, Value):
        return [result], None
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], Value):
        rest, shape = _outputs(result[1])
        if isinstance(shape, tuple):
            raise TypeError("Tape: in fn's (loss, output), the output must be a Value or a list of Values")
        return [result[0], *rest], ("pair", shape)
    if isinstance(result, list) and result and all(isinstance(v, Value) for v in result):
        return list(result), len(result)
    raise TypeError(f"Tape: fn must return a Value, a list of Values, or (loss, output); got {result!r}")


def _shaped(shape: Any, results: np.ndarray) -> np.ndarray:
    return results[0] if shape is None else results.T


def _check_shift_only(program: Program, batch: _Batch, examples: tuple[int, int],
                      changed: list[tuple[Value, Value]], shared: set[Value]) -> None:
    """A constant computed from the data is harmless if the results do not depend on it, like
    the max subtracted in the log-sum-exp trick. Replay both examples with the constants of
    either recording: the same outputs and parameter gradients (the parameters are the leaves
    both recordings share), or TapeError."""
    example, other = examples
    (loss_rows,) = program.outputs.values()
    rows = np.array([program.leaf_row[program.same_as[a]] for a, _ in changed], dtype=np.intp)
    parameters = np.array([leaf in shared for leaf in program.leaves], dtype=bool)
    results = []
    for numbers in ([a.data for a, _ in changed], [b.data for _, b in changed]):
        params = program.parameters()
        params[rows] = numbers
        try:
            found = []
            for column in map(np.array, ([example], [other])):  # one at a time: gradients per example
                with np.errstate(all="ignore"):
                    values, saved = program.forward(params, batch.inputs[:, column], column, keep=True)
                    grads = program.backward(values, saved, params, 1.0, loss_rows[:1], column)
                found += [values[loss_rows, 0], grads[parameters]]
            results.append(np.concatenate(found))
        except (ValueError, OverflowError):
            results.append(np.full(1, np.nan))
    scale = 1e-9 * (1.0 + np.nanmax(np.abs(results[0]), initial=0.0))
    if results[0].shape != results[1].shape or not np.all(np.abs(results[0] - results[1]) <= scale):
        a, b = changed[0]
        raise TapeError(f"example {other} of the batch has a constant {describe(b)} where example {example} "
                        f"has {describe(a)}: it was computed from the example's values (e.g. from .data), "
                        f"and the results depend on it, so a replay using {a.data!r} for every example would "
                        f"be wrong")
