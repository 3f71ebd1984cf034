"""The benchmark's workloads, once per implementation, all starting from the same weights.

Implementations: autograd_lite's eager engine and its batched tape (as fit runs it, with
the parameters held in arrays during an epoch; and reading and writing every parameter's
Value at every step, as one train.Step does), micrograd 0.1.0,
PyTorch with one 0-d tensor per scalar (what a scalar engine does, in C++), PyTorch
on whole batches (what people outgrow a scalar engine for), and the floor: the same
step written by hand in NumPy (three matrix products forward, and backward). Each factory
returns a `step()` that runs one forward + backward (+ SGD update for training
steps), or None when the workload makes no sense for that implementation.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

EAGER, TAPE, MICROGRAD = "autograd_lite eager", "autograd_lite tape", "micrograd 0.1.0"
TAPE_VALUES = "autograd_lite tape, Values each step"
TORCH_SCALAR, TORCH_BATCHED = "PyTorch scalar-per-op", "PyTorch batched"
NUMPY = "NumPy by hand"
IMPLEMENTATIONS = [EAGER, TAPE, TAPE_VALUES, MICROGRAD, TORCH_SCALAR, TORCH_BATCHED, NUMPY]

Step = Callable[[], Any]
Weights = list[tuple[list[list[float]], list[float]]]  # per layer: W (nout rows of nin), b


@dataclass
class Sizes:
    chains: tuple[int, ...] = (1_000, 1_000_000)  # nodes, counting each op's constant leaf
    moons_points: int = 100
    moons_hidden: tuple[int, ...] = (16, 16)
    digits_batch: int = 32
    digits_hidden: tuple[int, ...] = (16, 16)
    real_digits: bool = True  # scikit-learn's digits; random pixels for a quick check of the harness


QUICK = Sizes(chains=(100, 1_000), moons_points=8, moons_hidden=(4, 4), digits_batch=4, digits_hidden=(4, 4),
              real_digits=False)


def initial_weights(sizes: list[int], seed: int = 1337) -> Weights:
    """micrograd's init, uniform(-1, 1) weights (its biases start at 0)."""
    rng = random.Random(seed)
    return [([[rng.uniform(-1, 1) for _ in range(nin)] for _ in range(nout)], [0.0] * nout)
            for nin, nout in zip(sizes, sizes[1:])]


# --- (1) a long chain of scalar ops: v = v * 1.0001, v = v + 0.001, ... then backward ---------

def chain(impl: str, nodes: int) -> Step | None:
    ops = nodes // 2  # every op also makes a constant leaf (1.0001, 0.001): two nodes per op
    if impl in (EAGER, MICROGRAD):
        if impl == EAGER:
            from autograd_lite.engine import Value
        else:
            from micrograd.engine import Value  # type: ignore[no-redef]

        def run() -> None:
            v = Value(0.5)
            for i in range(ops):
                v = v + 0.001 if i % 2 else v * 1.0001
            v.backward()
        return run
    if impl == TORCH_SCALAR:
        import torch

        def run_torch() -> None:
            v = x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
            for i in range(ops):
                v = v + 0.001 if i % 2 else v * 1.0001
            v.backward()
            assert x.grad is not None
        return run_torch
    return None  # a chain is one example: nothing to batch


# --- (2) micrograd's moons demo step and (3) a digits step --------------------------------------

def moons_data(points: int) -> tuple[np.ndarray, np.ndarray]:
    from autograd_lite.data import moons
    data = moons(points, noise=0.1, seed=0)
    return np.array(data.X), np.array(data.y) * 2 - 1  # labels -1/+1, as in the demo


def digits_data(real: bool = True) -> tuple[np.ndarray, np.ndarray]:
    if not real:
        rng = np.random.default_rng(0)
        return rng.uniform(size=(64, 64)), rng.integers(0, 10, 64)
    from autograd_lite.data import digits
    data = digits()
    return np.array(data.X), np.array(data.y)


Batches = list[tuple[np.ndarray, np.ndarray]]


def moons_step(impl: str, sizes: Sizes) -> Step | None:
    """One full-batch step of micrograd's demo: MLP(2, [16, 16, 1]), mean hinge loss + 1e-4 * L2,
    backward, SGD with the demo's learning rate 1 - 0.9 k / 100."""
    X, y = moons_data(sizes.moons_points)
    weights = initial_weights([2, *sizes.moons_hidden, 1])
    steps = [0]

    def lr() -> float:
        steps[0] += 1
        return 1.0 - 0.9 * (steps[0] % 100) / 100
    return MAKERS[impl](weights, [(X, y)], "hinge", lr)[0]


def digits_step(impl: str, sizes: Sizes) -> Step | None:
    """One step on a batch of digits: MLP(64, [16, 16, 10]), mean squared error to the one-hot
    target (micrograd has no exp or log, so no cross-entropy), backward, SGD with lr 0.1.
    Consecutive steps take consecutive batches (8 of them, in turn), as in training."""
    X, labels = digits_data(sizes.real_digits)
    size = sizes.digits_batch
    onehot = np.eye(10, dtype=int)[labels]
    batches = [(X[i:i + size], onehot[i:i + size]) for i in range(0, 8 * size, size)]
    steps = MAKERS[impl](initial_weights([64, *sizes.digits_hidden, 10]), batches, "mse", lambda: 0.1)
    k = [0]

    def step() -> None:
        k[0] += 1
        steps[k[0] % len(steps)]()
    return step


def _autograd_lite(impl: str, weights: Weights, batches: Batches, loss_name: str,
                   lr: Callable[[], float]) -> list[Step]:
    from autograd_lite.backend import tape_gradients
    from autograd_lite.engine import Value, value_sum
    from autograd_lite.losses import hinge, mse
    from autograd_lite.nn import MLP
    from autograd_lite.optim import SGD
    from autograd_lite.tape import Tape
    from autograd_lite.tape_training import HeldSteps

    sizes = [len(weights[0][0][0])] + [len(b) for _, b in weights]
    model = MLP(sizes[0], sizes[1:])  # ReLU hidden layers, linear output, as micrograd
    params = model.parameters()
    for p, w in zip(params, _flat(weights)):
        p.data = w

    def hinge_l2(output: Any, target: Any) -> Value:  # the demo's L2 term, the same for every example:
        return hinge(output, target) + 1e-4 * value_sum([p * p for p in params])  # its mean is itself
    loss = hinge_l2 if loss_name == "hinge" else mse

    def example_loss(x: Any, target: Any) -> Value:  # for the tape, which replays one example's loss
        return loss(model(x), target)

    static = [1] if loss_name == "hinge" else []  # as fit does: labels pick hinge's sign; mse's are inputs
    if impl == TAPE_VALUES:  # one tape, recorded on all the batches (static labels: one recording each)
        tape = Tape.record(example_loss, tuple(np.concatenate(part) for part in zip(*batches)), static=static)
        optimizer = SGD(params, lr=1.0)  # its lr is set at every step
    if impl == TAPE:  # as fit: every batch is some examples of one data set, by their numbers
        optimizer = SGD(params, lr=1.0)
        X_all, y_all = (np.concatenate(part) for part in zip(*batches))
        steps = HeldSteps(model, tape_gradients, loss, optimizer, X_all, y_all, lambda mean: None)
        starts = np.cumsum([0] + [len(Xb) for Xb, _ in batches])

    def make(Xb: np.ndarray, yb: np.ndarray, k: int) -> Step:
        if impl == TAPE:
            indices = list(range(starts[k], starts[k + 1]))

            def step_held() -> None:  # fit's step: the parameters stay in the tape's arrays
                optimizer.lr = lr()
                steps(indices)
            return step_held
        if impl == TAPE_VALUES:
            def step_tape() -> None:  # one train.Step: SGD steps from the tape's arrays, writing every Value
                _, values, grads = tape.run_for((Xb, yb), optimizer.params)  # (zero_grad, then run)
                optimizer.lr = lr()
                optimizer.step_from((values, grads))
            return step_tape
        rows, targets = Xb.tolist(), yb.tolist()

        def step_eager() -> None:  # as the demo: the L2 term once per batch
            inputs = [[Value(v) for v in row] for row in rows]
            if loss_name == "hinge":
                losses = [hinge(model(x), t) for x, t in zip(inputs, targets)]
                total = value_sum(losses) / len(losses) + 1e-4 * value_sum([p * p for p in params])
            else:
                total = value_sum([mse(model(x), t) for x, t in zip(inputs, targets)]) / len(inputs)
            model.zero_grad()
            total.backward()
            _sgd(params, lr())
        return step_eager
    return [make(Xb, yb, k) for k, (Xb, yb) in enumerate(batches)]


def _micrograd(weights: Weights, batches: Batches, loss_name: str, lr: Callable[[], float]) -> list[Step]:
    from micrograd.engine import Value
    from micrograd.nn import MLP

    sizes = [len(weights[0][0][0])] + [len(b) for _, b in weights]
    model = MLP(sizes[0], sizes[1:])
    params = model.parameters()
    for p, w in zip(params, _flat(weights)):
        p.data = w

    def make(rows: list[list[float]], targets: list[Any]) -> Step:
        def step() -> None:  # the demo's loss(), then zero_grad, backward, update
            inputs = [list(map(Value, row)) for row in rows]
            scores = list(map(model, inputs))
            if loss_name == "hinge":
                losses = [(1 + -t * s).relu() for t, s in zip(targets, scores)]
                data_loss = sum(losses) * (1.0 / len(losses))
                total = data_loss + 1e-4 * sum(p * p for p in params)
            else:
                losses = [sum((o - t) ** 2 for o, t in zip(out, target)) * (1.0 / len(out))
                          for out, target in zip(scores, targets)]
                total = sum(losses) * (1.0 / len(losses))
            model.zero_grad()
            total.backward()
            _sgd(params, lr())
        return step
    return [make(Xb.tolist(), yb.tolist()) for Xb, yb in batches]


def _torch_scalar(weights: Weights, batches: Batches, loss_name: str, lr: Callable[[], float]) -> list[Step]:
    import torch

    def scalar(v: float, grad: bool = True) -> Any:
        return torch.tensor(v, dtype=torch.float64, requires_grad=grad)
    layers = [([[scalar(w) for w in row] for row in W], [scalar(v) for v in b]) for W, b in weights]
    params = [p for W, b in layers for row, bias in zip(W, b) for p in (*row, bias)]

    def model(x: list[Any]) -> list[Any]:
        for i, (W, b) in enumerate(layers):
            x = [sum((w * xi for w, xi in zip(row, x)), bias) for row, bias in zip(W, b)]
            x = [v.relu() for v in x] if i < len(layers) - 1 else x
        return x

    def make(rows: list[list[float]], targets: list[Any]) -> Step:
        def step() -> None:
            scores = [model([scalar(v, False) for v in row]) for row in rows]
            if loss_name == "hinge":
                losses = [(1 + -t * s[0]).relu() for t, s in zip(targets, scores)]
                total = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
            else:
                losses = [sum((o - t) ** 2 for o, t in zip(out, target)) * (1.0 / len(out))
                          for out, target in zip(scores, targets)]
                total = sum(losses) * (1.0 / len(losses))
            total.backward()
            with torch.no_grad():
                rate = lr()
                for p in params:
                    p -= rate * p.grad
                    p.grad = None
        return step
    return [make(Xb.tolist(), yb.tolist()) for Xb, yb in batches]


def _torch_batched(weights: Weights, batches: Batches, loss_name: str, lr: Callable[[], float]) -> list[Step]:
    import torch

    Ws = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W, _ in weights]
    bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for _, b in weights]
    params = Ws + bs

    def make(X: np.ndarray, y: np.ndarray) -> Step:
        inputs, targets = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)

        def step() -> float:
            h = inputs
            for i, (W, b) in enumerate(zip(Ws, bs)):
                h = h @ W.T + b
                h = h.relu() if i < len(Ws) - 1 else h
            if loss_name == "hinge":
                total = (1 - targets * h[:, 0]).relu().mean() + 1e-4 * sum((p * p).sum() for p in params)
            else:
                total = ((h - targets) ** 2).mean()
            total.backward()
            with torch.no_grad():
                rate = lr()
                for p in params:
                    p -= rate * p.grad
                    p.grad = None
            return float(total.detach())
        return step
    return [make(Xb, yb) for Xb, yb in batches]


def _numpy(weights: Weights, batches: Batches, loss_name: str, lr: Callable[[], float]) -> list[Step]:
    """The floor: the same step as the others, by hand, float64, with the gradients written out."""
    Ws = [np.array(W, dtype=float) for W, _ in weights]
    bs = [np.array(b, dtype=float) for _, b in weights]
    last = len(Ws) - 1

    def make(X: np.ndarray, y: np.ndarray) -> Step:
        inputs, targets = X.astype(float), y.astype(float)

        def step() -> float:
            hs, zs = [inputs], []  # each layer's input, and its weighted sums
            for i, (W, b) in enumerate(zip(Ws, bs)):
                zs.append(hs[-1] @ W.T + b)
                hs.append(np.maximum(zs[-1], 0.0) if i < last else zs[-1])
            out = hs[-1]
            if loss_name == "hinge":  # mean relu(1 - y s) + 1e-4 * sum of p^2
                margin = 1.0 - targets * out[:, 0]
                loss = np.maximum(margin, 0.0).mean() + 1e-4 * sum((W * W).sum() + (b * b).sum()
                                                                  for W, b in zip(Ws, bs))
                g = (np.where(margin > 0, -targets, 0.0) / len(out))[:, None]
            else:  # mean of (out - t)^2 over examples and outputs
                diff = out - targets
                loss = (diff * diff).mean()
                g = 2.0 * diff / diff.size
            rate = lr()
            for i in range(last, -1, -1):  # g = d loss / d z_i
                dW, db = g.T @ hs[i], g.sum(axis=0)
                if i:
                    g_below = (g @ Ws[i]) * (zs[i - 1] > 0)
                if loss_name == "hinge":
                    dW += 2e-4 * Ws[i]
                    db += 2e-4 * bs[i]
                Ws[i] -= rate * dW
                bs[i] -= rate * db
                if i:
                    g = g_below
            return float(loss)
        return step
    return [make(Xb, yb) for Xb, yb in batches]


def _flat(weights: Weights) -> list[float]:
    """In the order of micrograd's (and autograd_lite's) parameters(): each neuron's w, then b."""
    return [w for W, b in weights for row, bias in zip(W, b) for w in (*row, bias)]


def _sgd(params: list[Any], lr: float) -> None:
    for p in params:
        p.data -= lr * p.grad


MAKERS: dict[str, Callable[[Weights, Batches, str, Callable[[], float]], list[Step]]] = {
    EAGER: lambda *args: _autograd_lite(EAGER, *args),
    TAPE: lambda *args: _autograd_lite(TAPE, *args),
    TAPE_VALUES: lambda *args: _autograd_lite(TAPE_VALUES, *args),
    MICROGRAD: _micrograd,
    TORCH_SCALAR: _torch_scalar,
    TORCH_BATCHED: _torch_batched,
    NUMPY: _numpy,
}


# --- (4) memory: bytes per node, measured with tracemalloc ------------------------------------

NODE_KINDS: dict[str, Callable[[Any, Any, int], Any]] = {
    "leaf": lambda x, y, i: type(x)(i + 0.5),
    "add": lambda x, y, i: x + y,
    "mul": lambda x, y, i: x * y,
    "mul-by-constant (2 nodes: x*2 and the 2)": lambda x, y, i: x * 2.0,
    "relu": lambda x, y, i: x.relu(),
}


def bytes_per_node(impl: str, n: int) -> dict[str, float] | None:
    import gc
    import tracemalloc

    if impl == EAGER:
        from autograd_lite.engine import Value
    elif impl == MICROGRAD:
        from micrograd.engine import Value  # type: ignore[no-redef]
    else:
        return None  # the tape keeps no nodes per example; PyTorch allocates in C++ (tracemalloc can't see)
    result = {}
    for kind, make in NODE_KINDS.items():
        x, y = Value(1.5), Value(2.5)
        keep: list[Any] = [None] * n  # allocated before measuring
        if n > 1000:
            gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(n):
            keep[i] = make(x, y, i)
        result[kind] = (tracemalloc.get_traced_memory()[0] - before) / n
        tracemalloc.stop()
        del keep
    return result


def digits_training(backend: str, epochs: int, examples: int | None = None) -> dict[str, float]:
    """Train MLP(64,[16,16,10]) on the 8x8 digits with cross-entropy and Adam, mini-batches of 64:
    wall seconds, and accuracy on the held-out 20%."""
    import time

    from autograd_lite.data import Dataset, digits, train_test_split
    from autograd_lite.nn import MLP
    from autograd_lite.optim import Adam
    from autograd_lite.train import evaluate, fit

    data = digits()
    if examples is not None:
        data = Dataset(data.X[:examples], data.y[:examples], data.name, data.num_classes)
    train, test = train_test_split(data, 0.2, seed=0)
    model = MLP(64, [16, 16, 10], init="fan_in", seed=0)
    start = time.perf_counter()
    fit(model, train, loss="cross_entropy", optimizer=Adam(model.parameters(), lr=0.01), epochs=epochs,
        batch_size=64, backend=backend, progress=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "accuracy": evaluate(model, test, loss="cross_entropy")[1], "epochs": epochs}
