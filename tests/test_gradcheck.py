"""gradcheck must pass correct derivatives and catch wrong ones."""

from __future__ import annotations

import math

import pytest

from autograd_lite import GradcheckError, Value, gradcheck, gradgradcheck
from autograd_lite.engine import apply
from autograd_lite.gradcheck import numeric_grads
from autograd_lite.ops import Op

# tanh with a deliberately wrong derivative: 1 - tanh(x) instead of 1 - tanh(x)^2
WRONG_TANH = Op("wrong_tanh", "tanh?", lambda xp, x: xp.tanh(x), lambda xp, out, x: (1.0 - out,))


def test_passes_correct_gradients() -> None:
    assert gradcheck(lambda a, b: (a * b).tanh() + a.exp() / b, [0.3, -1.2])
    assert gradcheck(lambda a: a**3 - 2 * a, [Value(1.7, label="a")])


def test_a_wrong_derivative_fails_with_a_table_of_both_gradients() -> None:
    f = lambda a, b: apply(WRONG_TANH, a * b) + b  # noqa: E731
    with pytest.raises(GradcheckError) as info:
        gradcheck(f, [Value(0.8, label="a"), 0.5])
    message = str(info.value)
    assert "2 of 2 inputs" in message
    assert "'a'" not in message and "a" in message.split("\n")[1]  # rows are named by label
    right_da = 0.5 * (1 - math.tanh(0.4) ** 2)
    assert f"{right_da:+.10g}"[:8] in message  # the numeric gradient is shown
    assert "mismatch" in message


def test_catches_a_small_error_but_not_rounding() -> None:
    slightly_wrong = Op("off", "off", lambda xp, x: 3.0 * x, lambda xp, out, x: (3.0 * (1 + 1e-3),))
    with pytest.raises(GradcheckError):
        gradcheck(lambda a: apply(slightly_wrong, a), [2.0])
    right = Op("right", "right", lambda xp, x: 3.0 * x, lambda xp, out, x: (3.0,))
    assert gradcheck(lambda a: apply(right, a), [2.0])


def test_numeric_gradients_are_central_differences() -> None:
    grads = numeric_grads(lambda a: a**2, [3.0], eps=1e-3)
    assert grads[0] == pytest.approx(6.0, abs=1e-9)  # exact for a quadratic, up to rounding


def test_f_must_return_a_value() -> None:
    with pytest.raises(TypeError, match="float"):
        gradcheck(lambda a: 1.0, [2.0])


# --- gradgradcheck: second derivatives ------------------------------------------------------

def test_gradgradcheck_passes_correct_second_derivatives() -> None:
    assert gradgradcheck(lambda a, b: (a * b).tanh() + a.exp() / b, [0.3, -1.2])
    assert gradgradcheck(lambda a, b: a**b + (a * b).sigmoid().log(), [1.7, 0.6])


def test_gradgradcheck_catches_a_rule_that_leaves_the_graph() -> None:
    # the right first derivative of tanh, but computed from float(x): as a graph it is a
    # constant, so its own derivative (the second derivative of tanh) comes out as 0
    leaky = Op("tanh_f", "tanh", lambda xp, x: xp.tanh(x),
               lambda xp, out, x: (xp.ones_like(x) * (1 - math.tanh(float(x)) ** 2),))
    f = lambda a: apply(leaky, a) * 2  # noqa: E731
    assert gradcheck(f, [0.7])  # first derivatives are fine
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(f, [Value(0.7, label="a")])
    message = str(info.value)
    assert "1 of 1 second derivatives" in message and "d2/da da" in message and "mismatch" in message
    assert f"{2 * -2 * math.tanh(0.7) * (1 - math.tanh(0.7) ** 2):+.6g}"[:7] in message  # the numeric one


def test_gradgradcheck_mixed_partials_are_named() -> None:
    wrong = Op("mul_f", "*", lambda xp, x, y: x * y, lambda xp, out, x, y: (float(y), float(x)))
    with pytest.raises(GradcheckError, match=r"d2/dx0 dx1 .*mismatch"):
        gradgradcheck(lambda a, b: apply(wrong, a, b), [0.5, 2.0])
