"""Scripts written for micrograd 0.1.0 give the same values and gradients with autograd_lite.

Each script takes the Value class, so the same code runs against `micrograd.engine.Value`
and `autograd_lite.Value`. Forward values must agree to the last bit. Gradients must agree
to a few units in the last place: where a node is used twice, its gradient is a sum whose
order follows the graph walk, and micrograd walks children kept in a `set` (an order that
depends on memory addresses), so the last bit of such sums can differ.
"""

from __future__ import annotations

import math
import random
import struct

import pytest

import autograd_lite

micrograd_engine = pytest.importorskip("micrograd.engine")


def sanity(Value):  # micrograd's own test_sanity_check
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return [x, y]


def more_ops(Value):  # micrograd's own test_more_ops: +=, numbers on the left, ** by numbers
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return [a, b, g]


def neuron_by_hand(Value):  # the kind of code people write in the micrograd lecture
    rnd = random.Random(7)
    xs = [Value(rnd.uniform(-1, 1)) for _ in range(3)]
    ws = [Value(rnd.uniform(-1, 1)) for _ in range(3)]
    b = Value(0.1)
    act = sum((wi * xi for wi, xi in zip(ws, xs)), b).relu()
    loss = (act - 1.0) ** 2 + sum(w**2 for w in ws) * 1e-3
    loss.backward()
    return [*xs, *ws, b, loss]


def svm_demo_step(Value):  # micrograd demo's max-margin loss on a few points
    rnd = random.Random(3)
    ws = [[Value(rnd.uniform(-1, 1)) for _ in range(2)] for _ in range(4)]
    points = [([rnd.uniform(-1, 1), rnd.uniform(-1, 1)], rnd.choice([-1, 1])) for _ in range(5)]
    losses = []
    for x, y in points:
        hidden = [sum((wi * xi for wi, xi in zip(w, x)), Value(0.0)).relu() for w in ws[:3]]
        score = sum((wi * hi for wi, hi in zip(ws[3], hidden)), Value(0.0))
        losses.append((1 + -y * score).relu())
    data_loss = sum(losses) * (1.0 / len(losses))
    total = data_loss + 1e-4 * sum(p * p for w in ws for p in w)
    total.backward()
    return [p for w in ws for p in w] + [total]


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


@pytest.mark.parametrize("script", [sanity, more_ops, neuron_by_hand, svm_demo_step])
def test_same_values_and_gradients_as_micrograd(script) -> None:
    theirs = script(micrograd_engine.Value)
    ours = script(autograd_lite.Value)
    assert [bits(v.data) for v in ours] == [bits(v.data) for v in theirs]
    for o, t in zip(ours, theirs):
        assert math.isclose(o.grad, t.grad, rel_tol=4e-16 * 8, abs_tol=1e-300), (o.grad, t.grad)


def test_more_ops_known_numbers() -> None:  # the numbers micrograd's test gets from PyTorch
    a, b, g = more_ops(autograd_lite.Value)
    assert abs(g.data - 24.70408163265306) < 1e-12
    assert abs(a.grad - 138.83381924198252) < 1e-12
    assert abs(b.grad - 645.5772594752186) < 1e-12
