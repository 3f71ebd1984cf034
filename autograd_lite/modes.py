"""Modes: switches that change how ops are recorded, each thread its own.

`no_grad()` evaluates without recording a graph, `detect_anomaly()` raises at the first
nan or inf, and the tape sets `state.recording` while it records (reading a Value's
number then is a `RecordingError`). Like PyTorch's grad mode they are per thread:
`no_grad()` in an evaluation thread leaves a training thread recording.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _State(threading.local):
    """Switches that change how ops are recorded (see no_grad, detect_anomaly).

    Each thread has its own (as PyTorch's grad mode): `no_grad()` in an evaluation thread
    leaves a training thread recording. A new thread starts from the class defaults."""

    recording: str | None = None  # set by the tape: reading .data to branch is an error
    usual = True  # grad_enabled and not anomaly: what making a node checks, in one look-up
    _grad_enabled = True
    _anomaly = False

    @property
    def grad_enabled(self) -> bool:
        """Record parents so that backward() can run."""
        return self._grad_enabled

    @grad_enabled.setter
    def grad_enabled(self, on: bool) -> None:
        self._grad_enabled = on
        self.usual = on and not self._anomaly

    @property
    def anomaly(self) -> bool:
        """Raise at the first nan/inf in forward or backward."""
        return self._anomaly

    @anomaly.setter
    def anomaly(self, on: bool) -> None:
        self._anomaly = on
        self.usual = self._grad_enabled and not on


state = _State()


class RecordingError(RuntimeError):
    """A Value's number was read while a tape records (float(v), v > 0, ...): the replay would reuse it.

    `reason` says what was read; the message adds `fix`, the recorder's advice (state.recording)."""

    def __init__(self, reason: str, fix: str | None = None) -> None:
        super().__init__(f"{reason}. {fix}" if fix else reason)
        self.reason = reason


@contextmanager
def no_grad() -> Iterator[None]:
    """Evaluate without recording the graph (faster; results are leaves)."""
    previous = state.grad_enabled
    state.grad_enabled = False
    try:
        yield
    finally:
        state.grad_enabled = previous


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise FloatingPointError at the first nan or inf, naming the op and its inputs."""
    previous = state.anomaly
    state.anomaly = True
    try:
        yield
    finally:
        state.anomaly = previous
