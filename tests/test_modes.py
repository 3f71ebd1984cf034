"""Grad mode, anomaly mode and the tape's recording flag are per thread, as PyTorch's grad mode.

Each test is one of issue 13's reproducers, with events instead of luck deciding how the
threads interleave: one thread holds a mode while the other one works.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lite import Value, detect_anomaly, no_grad
from autograd_lite.engine import state
from autograd_lite.tape import Tape


def in_thread(body: Callable[[], Any]) -> tuple[threading.Thread, list[BaseException]]:
    """Start `body` in a thread; exceptions are kept to be re-raised by the test."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            body()
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            errors.append(e)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def join(thread: threading.Thread, errors: list[BaseException]) -> None:
    thread.join(timeout=30)
    assert not thread.is_alive()
    if errors:
        raise errors[0]


def holding(mode: Callable[[], Any], inside: threading.Event, release: threading.Event) -> Callable[[], None]:
    def body() -> None:
        with mode():
            inside.set()
            assert release.wait(timeout=30)
    return body


def test_training_next_to_an_evaluation_thread_in_no_grad_gets_its_gradients() -> None:
    inside, release = threading.Event(), threading.Event()
    evaluator = in_thread(holding(no_grad, inside, release))
    assert inside.wait(timeout=30)
    zero_steps = 0
    w = Value(0.5, label="w")
    for step in range(300):  # was: all-zero grads in 271 of 300 steps
        w.grad = 0.0
        loss = w * (step + 1.0) + w * w
        loss.backward()
        zero_steps += w.grad == 0.0  # d/dw = step + 1 + 2w, never 0
    release.set()
    join(*evaluator)
    assert zero_steps == 0


def test_overlapping_no_grad_blocks_in_two_threads_leave_grad_mode_on() -> None:
    # thread 1 enters, thread 2 enters, thread 1 leaves, thread 2 leaves: with one global
    # switch, thread 2 "restored" the off that thread 1 had set, for the whole process
    in1, out1, in2, out2 = (threading.Event() for _ in range(4))
    t1 = in_thread(holding(no_grad, in1, out1))
    assert in1.wait(timeout=30)
    t2 = in_thread(holding(no_grad, in2, out2))
    assert in2.wait(timeout=30)
    out1.set()
    join(*t1)
    out2.set()
    join(*t2)
    assert state.grad_enabled
    x = Value(2.0)
    y = x * x
    y.backward()
    assert x.grad == 4.0


def test_detect_anomaly_in_one_thread_does_not_raise_in_another() -> None:
    inside, release = threading.Event(), threading.Event()
    watcher = in_thread(holding(detect_anomaly, inside, release))
    assert inside.wait(timeout=30)
    try:
        product = Value(math.inf) * 0  # nan, allowed here: anomaly mode is the other thread's
        assert math.isnan(product.data)
    finally:
        release.set()
    join(*watcher)


def test_the_anomaly_thread_itself_still_raises() -> None:
    def body() -> None:
        with detect_anomaly():
            try:
                Value(math.inf) * 0
            except FloatingPointError:
                return
            raise AssertionError("detect_anomaly did not raise in its own thread")
    join(*in_thread(body))


def test_max_over_values_works_while_another_thread_records_a_tape() -> None:
    inside, release = threading.Event(), threading.Event()

    def loss(x: Any) -> Value:
        if not inside.is_set():  # the first recording waits, with the tape's flag up
            inside.set()
            assert release.wait(timeout=30)
        return (x[0] * 2.0 - 1.0) ** 2

    recorder = in_thread(lambda: Tape.record(loss, (np.array([[0.5], [1.5], [2.5], [3.5]]),)))
    assert inside.wait(timeout=30)
    try:
        values = [Value(3.0), Value(-1.0), Value(7.0)]
        assert max(values).data == 7.0 and float(values[0]) == 3.0  # was RuntimeError "recording a tape"
    finally:
        release.set()
    join(*recorder)


def test_a_new_thread_starts_with_the_defaults_whatever_its_parent_does() -> None:
    seen: list[tuple[bool, bool, Any]] = []
    with no_grad(), detect_anomaly():
        join(*in_thread(lambda: seen.append((state.grad_enabled, state.anomaly, state.recording))))
        assert not state.grad_enabled and state.anomaly
    assert seen == [(True, False, None)]  # as torch: grad mode is on in a new thread
    assert state.grad_enabled and not state.anomaly


def test_modes_nest_and_restore_within_one_thread() -> None:
    with no_grad():
        with detect_anomaly():
            assert (state.grad_enabled, state.anomaly, state.usual) == (False, True, False)
        assert (state.grad_enabled, state.anomaly) == (False, False)
        assert Value(1.0) * 2 is not None and (Value(1.0) * 2)._prev == ()
    assert (state.grad_enabled, state.anomaly, state.usual) == (True, False, True)
