"""The Value class and backward(): semantics, errors, big graphs, memory."""

from __future__ import annotations

import gc
import math
import struct
import sys
import weakref
from fractions import Fraction

import numpy as np
import pytest

from autograd_lite import Value, detect_anomaly, no_grad, topological_order, value_sum, zero_grad
from autograd_lite.engine import Constant, local_grads

# --- construction -----------------------------------------------------------------------


@pytest.mark.parametrize("x", [2, 2.5, np.float64(2.5), np.float32(0.5), np.int64(3), Fraction(1, 4)])
def test_value_accepts_real_numbers_and_stores_a_python_float(x) -> None:
    v = Value(x)
    assert type(v.data) is float and v.data == float(x)
    assert v.grad == 0.0 and type(v.grad) is float


@pytest.mark.parametrize("bad", ["2.0", None, [1.0], 1 + 2j, np.array([1.0, 2.0]), object()])
def test_value_rejects_non_numbers_naming_the_type(bad) -> None:
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_value_rejects_bool_with_a_fix() -> None:
    with pytest.raises(TypeError, match="bool.*1.0"):
        Value(True)


def test_arithmetic_rejects_non_numbers() -> None:
    with pytest.raises(TypeError, match="str"):
        Value(1.0) + "2"  # noqa: B018


def test_repr_float_and_micrograd_attributes() -> None:
    a = Value(2.0, label="a")
    assert repr(a) == "Value(data=2.0, grad=0.0, label='a')"
    assert repr(Value(-1.5)) == "Value(data=-1.5, grad=0.0)"
    assert float(a) == 2.0
    b = Value(3.0, label="b")
    c = a * b
    assert c._prev == (a, b) and c._op == "*" and a._op == ""
    assert (a + b)._op == "+" and a.tanh()._op == "tanh"


def test_comparisons_use_data_and_hashing_uses_identity() -> None:
    vs = [Value(3.0), Value(-1.0), Value(2.0)]
    assert max(vs) is vs[0] and min(vs) is vs[1]
    assert [v.data for v in sorted(vs)] == [-1.0, 2.0, 3.0]
    assert Value(1.0) < 2 and Value(2.0) >= Value(2.0) and not Value(1.0) > 1
    twins = Value(1.0), Value(1.0)
    assert twins[0] != twins[1] and len({*twins}) == 2
    assert {twins[0]: "a"}[twins[0]] == "a"


# --- backward semantics --------------------------------------------------------------------


def test_backward_by_hand() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + a  # dc/da = b + 1 = -2, dc/db = a = 2
    c.backward()
    assert (c.grad, a.grad, b.grad) == (1.0, -2.0, 2.0)


def test_calling_backward_twice_doubles_leaf_grads_exactly() -> None:
    a, b = Value(2.0), Value(-3.0)
    h = a * b  # interior
    out = h * h + a
    out.backward()
    first = (a.grad, b.grad, h.grad)
    out.backward()
    assert (a.grad, b.grad) == (2 * first[0], 2 * first[1])
    assert h.grad == first[2]  # interior grads are recomputed, not accumulated
    out.backward()
    assert (a.grad, b.grad) == (3 * first[0], 3 * first[1])  # never micrograd's drift


def test_two_losses_add_up_on_shared_leaves() -> None:
    w = Value(0.5)
    l1, l2 = w * 3.0, w * w
    l1.backward()
    l2.backward()
    assert w.grad == 3.0 + 2 * 0.5


def test_backward_seed() -> None:
    a = Value(1.5)
    (a * 4).backward(grad=0.5)
    assert a.grad == 2.0


def test_zero_grad_clears_the_whole_graph() -> None:
    a, b = Value(1.0), Value(2.0)
    out = (a * b).tanh()
    out.backward()
    zero_grad(out)
    assert all(n.grad == 0.0 for n in topological_order(out))


def test_topological_order_puts_parents_first_and_visits_each_node_once() -> None:
    a = Value(1.0)
    b = a * a
    c = b + a
    d = c * b
    order = topological_order(d)
    assert len(order) == len(set(order)) == 4
    pos = {n: i for i, n in enumerate(order)}
    assert all(pos[p] < pos[n] for n in order for p in n._prev)


def test_local_grads_read_from_the_rule() -> None:
    x = Value(0.3)
    t = x.tanh()
    assert local_grads(t) == (1 - math.tanh(0.3) ** 2,)
    assert local_grads(x) == ()


# --- big graphs --------------------------------------------------------------------------


def test_a_chain_of_a_million_nodes_under_the_default_recursion_limit() -> None:
    assert sys.getrecursionlimit() <= 10_000
    x = Value(0.0)
    y = x
    for _ in range(500_000):  # + and its constant: 1,000,000 nodes
        y = y + 1.0
    y.backward()
    assert y.data == 500_000.0 and x.grad == 1.0


def test_builtin_sum_of_100k_values() -> None:
    xs = [Value(float(i)) for i in range(100_000)]
    total = sum(xs)
    total.backward()
    assert total.data == sum(range(100_000)) and all(x.grad == 1.0 for x in xs[::997])


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def test_same_graph_twice_gives_identical_bits() -> None:
    def run() -> list[bytes]:
        xs = [Value(0.1 * i - 0.7) for i in range(12)]
        hs = [(xs[i] * xs[(i * 5) % 12] + xs[(i + 3) % 12]).tanh() for i in range(12)]
        out = value_sum(h * h for h in hs) + sum(hs) * xs[0]
        out.backward()
        return [_bits(x.grad) for x in xs] + [_bits(out.data)]

    assert run() == run()


def test_a_dropped_graph_is_freed_without_the_cycle_collector() -> None:
    gc.disable()
    try:
        x = Value(1.5)
        y = ((x * 2).tanh() + x.exp() / 3) ** 2
        y.backward()
        ref_out, ref_mid = weakref.ref(y), weakref.ref(y._prev[0])
        del y
        assert ref_out() is None and ref_mid() is None  # reference counting alone freed them
        assert x.grad != 0.0  # the leaf keeps its gradient
    finally:
        gc.enable()


# --- errors ----------------------------------------------------------------------------------


def test_log_of_non_positive_names_op_label_and_value() -> None:
    z = Value(-2.0, label="z")
    with pytest.raises(ValueError, match=r"log\('z' \(= -2.0\)\).*positive"):
        z.log()
    with pytest.raises(ValueError, match="log"):
        Value(0.0).log()


def test_division_by_zero() -> None:
    with pytest.raises(ZeroDivisionError, match=r"'a' \(= 1.0\) / 'd' \(= 0.0\)"):
        Value(1.0, label="a") / Value(0.0, label="d")
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        3 / Value(0.0)
    with pytest.raises(ZeroDivisionError):
        Value(2.0) / 0


def test_negative_base_to_a_fractional_power() -> None:
    with pytest.raises(ValueError, match=r"powc\('b' \(= -8.0\), 0.5\).*whole-number"):
        Value(-8.0, label="b") ** 0.5
    with pytest.raises(ValueError, match="pow"):
        Value(-8.0) ** Value(1 / 3)
    with pytest.raises(ValueError, match="powc"):
        Value(0.0) ** -1


def test_exp_overflow() -> None:
    with pytest.raises(OverflowError, match=r"exp\('big' \(= 800.0\)\).*709"):
        Value(800.0, label="big").exp()
    assert Value(709.0).exp().data == math.exp(709.0)


def test_pow_overflow_is_named() -> None:
    with pytest.raises(OverflowError, match="powc"):
        Value(1e200) ** 3


def test_infinite_derivative_at_the_edge_of_the_domain_is_inf_like_torch() -> None:
    x = Value(0.0)
    y = x.sqrt()
    y.backward()
    assert y.data == 0.0 and x.grad == math.inf


def test_anomaly_mode_names_the_op_and_input_labels_in_forward() -> None:
    a, b = Value(math.inf, label="a"), Value(0.0, label="b")
    assert math.isnan((a * b).data)  # off by default
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"mul\('a' \(= inf\), 'b' \(= 0.0\)\)"):
        a * b


def test_anomaly_mode_catches_non_finite_gradients_in_backward() -> None:
    x = Value(0.0, label="x")
    with detect_anomaly():
        y = x.sqrt() * 2
        with pytest.raises(FloatingPointError, match=r"backward.*powc\('x'"):
            y.backward()


def test_no_grad_records_no_parents_and_restores_itself() -> None:
    a = Value(2.0)
    with no_grad():
        b = a * 3 + 1
        assert b._prev == () and b._op == "" and b._param is None and b._local == ()
        assert repr(a.sqrt()) == f"Value(data={2.0 ** 0.5!r}, grad=0.0)"
    assert b.data == 7.0
    c = a * 3
    assert c._prev[0] is a
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("even on errors the mode is restored")
    assert (a * 1)._prev


def test_detach_is_a_fresh_leaf() -> None:
    a = Value(2.0, label="a")
    b = (a * a).detach()
    assert b._prev == () and b.data == 4.0
    (b * a).backward()
    assert a.grad == 4.0  # no gradient flowed through the detached square


def test_constants_are_marked() -> None:
    x = Value(1.0)
    y = 2 * x + 1
    constants = [n for n in topological_order(y) if isinstance(n, Constant)]
    assert sorted(c.data for c in constants) == [1.0, 2.0]
