"""Small datasets to train on, as plain Python lists, and the mini-batches of SGD.

    >>> data = moons(100, noise=0.1, seed=0)
    >>> data
    Dataset('moons', 100 examples, 2 features, 2 classes)
    >>> x, label = data[0]          # x is a list of floats, label an int class index
    >>> train, test = train_test_split(data, test_fraction=0.2, seed=0)

Labels are class indices 0, 1, ... (hinge accepts 0 as its -1 class). Every
generator takes a `seed`, so the same call gives the same points.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class Dataset:
    """Examples as lists: `X[i]` (a list of floats) has the label `y[i]` (an int class index)."""

    X: list[list[float]]
    y: list[int]
    name: str = ""
    num_classes: int = 2

    def __post_init__(self) -> None:
        if len(self.X) != len(self.y):
            raise ValueError(f"Dataset: {len(self.X)} inputs but {len(self.y)} labels")

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[list[float], int]:
        return self.X[i], self.y[i]

    def __iter__(self) -> Iterator[tuple[list[float], int]]:  # for x, label in data: ...
        return iter(zip(self.X, self.y))

    @property
    def num_features(self) -> int:
        return len(self.X[0]) if self.X else 0

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, {len(self)} examples, {self.num_features} features, "
                f"{self.num_classes} classes)")


def xor() -> Dataset:
    """The four corners of the unit square, labelled x1 XOR x2 (seed 002's problem)."""
    return Dataset([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0], "xor")


def moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles (scikit-learn's make_moons): upper moon 0, lower moon 1."""
    rng = _check(n, noise, seed, "moons")
    n_upper = n // 2
    n_lower = n - n_upper
    points = [(math.cos(t), math.sin(t), 0) for t in _linspace(0.0, math.pi, n_upper)]
    points += [(1 - math.cos(t), 0.5 - math.sin(t), 1) for t in _linspace(0.0, math.pi, n_lower)]
    return _noisy(points, noise, rng, "moons")


def circles(n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 0) -> Dataset:
    """A small circle (label 1, radius `factor`) inside a big one (label 0, radius 1), as make_circles."""
    rng = _check(n, noise, seed, "circles")
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor (inner radius / outer radius) must be in (0, 1), got {factor!r}")
    n_outer = n // 2
    n_inner = n - n_outer
    points = [(math.cos(t), math.sin(t), 0) for t in _linspace(0.0, 2 * math.pi, n_outer, endpoint=False)]
    points += [(factor * math.cos(t), factor * math.sin(t), 1)
               for t in _linspace(0.0, 2 * math.pi, n_inner, endpoint=False)]
    return _noisy(points, noise, rng, "circles")


def spirals(n: int = 100, classes: int = 2, noise: float = 0.2, turns: float = 1.0, seed: int = 0) -> Dataset:
    """`classes` spiral arms winding out from the centre; arm k has label k.

    A point at radius r in [0, 1] on arm k sits at the angle 2*pi*(turns*r + k/classes)
    plus Gaussian noise (in radians, standard deviation `noise`).
    """
    rng = _check(n, noise, seed, "spirals")
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ValueError(f"spirals: classes must be a whole number >= 2, got {classes!r}")
    points = []
    for k in range(classes):
        count = n // classes + (1 if k < n % classes else 0)
        for r in _linspace(0.05, 1.0, count):
            angle = 2 * math.pi * (turns * r + k / classes) + rng.gauss(0.0, noise)
            points.append((r * math.cos(angle), r * math.sin(angle), k))
    data = _noisy(points, 0.0, rng, "spirals")
    data.num_classes = classes
    return data


def digits(scale: bool = True) -> Dataset:
    """scikit-learn's 1797 handwritten digits, 8x8 pixels as 64 inputs, labels 0..9 (ships with it).

    With `scale`, pixels go from 0..16 to 0..1. Needs scikit-learn (`pip install autograd_lite[digits]`).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("the digits dataset needs scikit-learn: "
                          "pip install 'autograd_lite[digits]'") from None
    bunch = load_digits()
    divide = 16.0 if scale else 1.0
    X = [[float(v) / divide for v in row] for row in bunch.data]
    return Dataset(X, [int(t) for t in bunch.target], "digits", 10)


def train_test_split(data: Dataset, test_fraction: float = 0.2, seed: int = 0,
                     stratify: bool = True) -> tuple[Dataset, Dataset]:
    """Shuffle and split into (train, test): round(n * test_fraction) examples for testing.

    With `stratify`, each class gets its share of those, n_c * n_test / n, rounded down; the
    examples left over go to the classes with the largest remainders (ties at random), as in
    scikit-learn. So 20 examples in 10 classes at 0.2 give 4 test examples from 4 classes.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"train_test_split: test_fraction must be between 0 and 1, got {test_fraction!r}")
    rng = random.Random(seed)
    n, n_test = max(len(data), 1), round(len(data) * test_fraction)
    groups = [[i for i, t in enumerate(data.y) if t == c] for c in sorted(set(data.y))] if stratify \
        else [list(range(len(data)))]
    counts = [len(g) * n_test // n for g in groups]  # exact share, rounded down
    by_remainder = sorted(range(len(groups)), key=lambda c: (-(len(groups[c]) * n_test % n), rng.random()))
    for c in by_remainder[:n_test - sum(counts)]:
        counts[c] += 1
    train: list[int] = []
    test: list[int] = []
    for group, k in zip(groups, counts):
        rng.shuffle(group)
        test += group[:k]
        train += group[k:]
    if not train or not test:
        raise ValueError(f"train_test_split: {len(data)} examples with test_fraction={test_fraction} leave "
                         f"{len(train)} for training and {len(test)} for testing; both need at least one")
    rng.shuffle(train)
    rng.shuffle(test)
    return _subset(data, train, "train"), _subset(data, test, "test")


def batches(X: Sequence[Any], y: Sequence[Any], batch_size: int | None = None, *, shuffle: bool = True,
            rng: random.Random | int | None = None) -> Iterator[tuple[list[Any], list[Any]]]:
    """Mini-batches (xs, ys) that together cover every example once: one epoch of SGD.

    The order is shuffled first (so the model cannot learn the order; seed 004's
    "random shuffling and mini-batches"); the last batch may be smaller. batch_size
    None means one batch of everything (full-batch gradient descent). Pass the same
    `rng` every epoch for a different but reproducible order each time.
    """
    if len(X) != len(y):
        raise ValueError(f"batches: {len(X)} inputs but {len(y)} labels")
    for chunk in batch_indices(len(X), batch_size, shuffle=shuffle, rng=rng):
        yield [X[i] for i in chunk], [y[i] for i in chunk]


def batch_indices(n: int, batch_size: int | None = None, *, shuffle: bool = True,
                  rng: random.Random | int | None = None) -> Iterator[list[int]]:
    """The examples' numbers in each of `batches`' mini-batches (the same order for the same rng)."""
    size = n if batch_size is None else batch_size
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"batches: batch_size must be a whole number >= 1, got {batch_size!r}")
    order = list(range(n))
    if shuffle:
        (rng if isinstance(rng, random.Random) else random.Random(rng)).shuffle(order)
    for start in range(0, n, int(size)):
        yield order[start:start + int(size)]


# --- helpers ----------------------------------------------------------------------------

def _linspace(start: float, stop: float, n: int, endpoint: bool = True) -> list[float]:
    """n evenly spaced numbers from start to stop (numpy.linspace in plain Python)."""
    if n == 1:
        return [start]
    step = (stop - start) / (n - 1 if endpoint else n)
    return [start + i * step for i in range(n)]


def _check(n: Any, noise: Any, seed: Any, name: str) -> random.Random:
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"{name}: n (number of points) must be a whole number >= 2, got {n!r}")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not 0 <= float(noise) < math.inf:
        raise ValueError(f"{name}: noise must be a number >= 0, got {noise!r}")
    return random.Random(seed)


def _noisy(points: list[tuple[float, float, int]], noise: float, rng: random.Random, name: str) -> Dataset:
    """Add Gaussian noise to every coordinate and shuffle the points (as scikit-learn does)."""
    rng.shuffle(points)
    X = [[a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)] if noise else [a, b] for a, b, _ in points]
    return Dataset(X, [label for _, _, label in points], name)


def _subset(data: Dataset, indices: list[int], part: str) -> Dataset:
    name = f"{data.name} ({part})" if data.name else part
    return Dataset([data.X[i] for i in indices], [data.y[i] for i in indices], name, data.num_classes)


def as_xy(X: Any, y: Any, where: str) -> tuple[Sequence[Any], Sequence[Any]]:
    """(inputs, targets) from a Dataset or from X and y, checked: what fit, evaluate and the plots accept."""
    if isinstance(X, Dataset) and y is None:
        return X.X, X.y
    if y is None:
        raise TypeError(f"{where}: give inputs and targets (X, y), or a Dataset")
    if len(X) != len(y):
        raise ValueError(f"{where}: {len(X)} inputs but {len(y)} targets")
    if len(X) == 0:
        raise ValueError(f"{where}: no examples")
    return X, y
