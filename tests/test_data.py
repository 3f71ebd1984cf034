"""Datasets: reproducible, the right shapes and geometry; splits and mini-batches."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from autograd_lite.data import Dataset, batches, circles, digits, moons, spirals, train_test_split, xor


def test_xor_is_the_four_corners() -> None:
    data = xor()
    assert data.X == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert data.y == [int(a) ^ int(b) for a, b in data.X]


@pytest.mark.parametrize("make", [moons, circles, spirals])
def test_generators_are_reproducible_with_a_seed(make) -> None:
    assert make(50, seed=1) == make(50, seed=1)
    assert make(50, seed=1).X != make(50, seed=2).X
    data = make(51, seed=0)
    assert len(data) == 51 and data.num_features == 2
    assert sorted(Counter(data.y).values()) == [25, 26]  # classes as balanced as possible
    assert data.y[:10] != sorted(data.y[:10]) or data.y[-10:] != sorted(data.y[-10:])  # shuffled


def test_moons_lie_on_two_half_circles_without_noise() -> None:
    data = moons(100, noise=0.0)
    for (x1, x2), label in data:
        if label == 0:  # upper moon: unit circle around (0, 0), upper half
            assert math.hypot(x1, x2) == pytest.approx(1.0) and x2 >= -1e-12
        else:  # lower moon: unit circle around (1, 0.5), lower half
            assert math.hypot(x1 - 1, x2 - 0.5) == pytest.approx(1.0) and x2 <= 0.5 + 1e-12
    ends = {tuple(round(v, 9) for v in x) for x in data.X}
    assert {(1.0, 0.0), (-1.0, 0.0), (0.0, 0.5), (2.0, 0.5)} <= ends  # the arcs' end points, as sklearn


def test_moons_noise_has_the_requested_spread() -> None:
    clean, noisy = moons(2000, noise=0.0, seed=3), moons(2000, noise=0.1, seed=3)
    # same shuffle, so point i of both is the same arc point; the difference is the noise
    deltas = [a - b for x, z in zip(noisy.X, clean.X) for a, b in zip(x, z)]
    std = math.sqrt(sum(d * d for d in deltas) / len(deltas))
    assert std == pytest.approx(0.1, rel=0.05)


def test_circles_radii() -> None:
    data = circles(60, noise=0.0, factor=0.3)
    for (x1, x2), label in data:
        assert math.hypot(x1, x2) == pytest.approx(0.3 if label == 1 else 1.0)


def test_spirals_arms() -> None:
    data = spirals(90, classes=3, noise=0.0, seed=0)
    assert data.num_classes == 3 and Counter(data.y) == {0: 30, 1: 30, 2: 30}
    for (x1, x2), k in data:
        r = math.hypot(x1, x2)
        assert 0.05 - 1e-12 <= r <= 1.0 + 1e-12
        angle = math.atan2(x2, x1)  # = 2 pi (r + k/3), modulo a full turn
        assert math.cos(angle - 2 * math.pi * (r + k / 3)) == pytest.approx(1.0)


def test_digits() -> None:
    pytest.importorskip("sklearn")
    data = digits()
    assert len(data) == 1797 and data.num_features == 64 and data.num_classes == 10
    assert set(data.y) == set(range(10))
    assert min(min(x) for x in data.X) == 0.0 and max(max(x) for x in data.X) == 1.0
    assert max(max(x) for x in digits(scale=False).X) == 16.0


def test_train_test_split_is_a_stratified_partition() -> None:
    data = moons(100, seed=0)
    train, test = train_test_split(data, test_fraction=0.2, seed=1)
    assert (len(train), len(test)) == (80, 20)
    assert Counter(test.y) == {0: 10, 1: 10}  # stratified
    pairs = sorted(map(tuple, [*train.X, *test.X]))
    assert pairs == sorted(map(tuple, data.X))  # every example exactly once
    again = train_test_split(data, test_fraction=0.2, seed=1)
    assert again == (train, test)
    assert train.name == "moons (train)" and test.num_classes == 2


@pytest.mark.parametrize(("sizes", "fraction", "n_test"), [
    ([2] * 10, 0.2, 4),  # 20 examples in 10 classes: 4 classes give one each (each owes 0.4)
    ([3, 3, 3, 1], 0.5, 5),  # rounding each class (2+2+2+0 = 6) would overshoot round(10 * 0.5)
    ([50, 30, 20], 0.25, 25),  # 12.5, 7.5, 5 -> 12 or 13, 7 or 8, 5
])
def test_stratified_split_rounds_the_total_first_then_shares_it_by_largest_remainder(
        sizes: list[int], fraction: float, n_test: int) -> None:
    y = [c for c, size in enumerate(sizes) for _ in range(size)]
    data = Dataset([[float(i)] for i in range(len(y))], y, num_classes=len(sizes))
    train, test = train_test_split(data, fraction, seed=3)
    assert len(test) == n_test and len(train) == len(y) - n_test
    assert sorted(x[0] for x in train.X + test.X) == [float(i) for i in range(len(y))]
    for c, size in enumerate(sizes):  # each class within one example of its exact share
        share = size * n_test / len(y)
        assert math.floor(share) <= test.y.count(c) <= math.ceil(share)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.5])
def test_train_test_split_errors(fraction: float) -> None:
    with pytest.raises(ValueError, match="test_fraction must be between 0 and 1"):
        train_test_split(xor(), fraction)
    with pytest.raises(ValueError, match="leave 2 for training and 0 for testing"):
        train_test_split(Dataset([[0.0], [1.0]], [0, 1]), 0.2)


def test_batches_cover_every_example_once() -> None:
    X, y = [[float(i)] for i in range(10)], list(range(10))
    got = list(batches(X, y, 4, rng=0))
    assert [len(xs) for xs, _ in got] == [4, 4, 2]  # the last batch is smaller
    seen = [t for _, ys in got for t in ys]
    assert sorted(seen) == y and seen != y  # all of them, shuffled
    assert all(x == [float(t)] for xs, ys in got for x, t in zip(xs, ys))  # inputs stay with their labels
    assert list(batches(X, y, 4, shuffle=False))[0] == ([[0.0], [1.0], [2.0], [3.0]], [0, 1, 2, 3])
    assert list(batches(X, y)) and len(list(batches(X, y))) == 1  # None: one full batch


def test_batches_are_reproducible_and_change_every_epoch() -> None:
    X, y = list(range(20)), list(range(20))
    rng = random.Random(7)
    epoch1 = [t for _, ys in batches(X, y, 5, rng=rng) for t in ys]
    epoch2 = [t for _, ys in batches(X, y, 5, rng=rng) for t in ys]
    assert epoch1 != epoch2
    rng = random.Random(7)
    assert [t for _, ys in batches(X, y, 5, rng=rng) for t in ys] == epoch1


@pytest.mark.parametrize(("call", "message"), [
    (lambda: list(batches([1, 2], [1], 1)), "2 inputs but 1 labels"),
    (lambda: list(batches([1, 2], [1, 2], 0)), "batch_size must be a whole number >= 1, got 0"),
    (lambda: moons(1), "n (number of points) must be a whole number >= 2"),
    (lambda: moons(10, noise=-1), "noise must be a number >= 0"),
    (lambda: circles(10, factor=1.5), "factor (inner radius / outer radius) must be in (0, 1)"),
    (lambda: spirals(10, classes=1), "classes must be a whole number >= 2"),
    (lambda: Dataset([[1.0]], [0, 1]), "1 inputs but 2 labels"),
])
def test_errors(call, message: str) -> None:
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


def test_dataset_reads_like_a_list_of_examples() -> None:
    data = moons(10, seed=0)
    assert repr(data) == "Dataset('moons', 10 examples, 2 features, 2 classes)"
    x, label = data[3]
    assert x == data.X[3] and label == data.y[3]
    assert list(data)[3] == (x, label)
