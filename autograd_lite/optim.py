"""Optimizers: turn gradients into parameter updates (the names and maths of torch.optim).

After `loss.backward()` every parameter p has p.grad = dLoss/dp. Gradient descent
moves p a small step against it:  p <- p - lr * p.grad. Momentum and Adam change
the step using what earlier steps saw. The usual loop:

    for xs, ys in batches(X, y, 32):
        opt.zero_grad()
        loss = batch_loss(model, xs, ys, hinge)[0]
        loss.backward()
        opt.step()
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autograd_lite.engine import Value, describe


class Optimizer:
    """Holds the parameters and the learning rate `lr`.

    Set `lr` by hand between steps, or let a scheduler set it. A scheduler sets
    lr = base_lr * factor at every one of its steps, so with a scheduler a change by
    hand lasts only until its next step: change `scheduler.base_lr` instead.
    """

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got no parameters; pass model.parameters()")
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, not a Value")
        if len(set(map(id, self.params))) != len(self.params):
            raise ValueError(f"{type(self).__name__}: a parameter appears twice; it would be updated twice")
        self.lr = _hyper(lr, "lr", type(self).__name__)
        self.steps = 0  # how many times step() has run

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (leaves accumulate gradients across backward calls)."""
        for p in self.params:
            p.grad = 0.0

    #: Names of the per-parameter lists that update() changes (restored when a step fails).
    state: tuple[str, ...] = ()

    def step(self) -> None:
        """Update every parameter from its .grad. A failed step changes nothing: every new value
        (and the optimizer's state) is computed before any parameter is assigned."""
        self.step_from(None)

    def step_from(self, arrays: tuple[np.ndarray, np.ndarray] | None) -> None:
        """step(), given every parameter's .data and .grad as two arrays in self.params' order
        (Tape.run_for returns them): the same numbers, without reading them from each Value.
        They must be what the parameters hold now; None reads them (that is step())."""
        if self._vectorized():
            if arrays is None:
                arrays = (np.array([p.data for p in self.params], dtype=float),
                          np.array([p.grad for p in self.params], dtype=float))
            self._assign(self.next_values(*arrays).tolist())
            return
        self._check_grads()  # a subclass's own update(i, grad, data): before it sees them
        new = self._guarded(lambda: [p.data - self.update(i, p.grad, p.data)
                                     for i, p in enumerate(self.params)], in_place=True)
        self.steps += 1
        self._assign(new)

    def _assign(self, new: list[float]) -> None:
        for p, x in zip(self.params, new):
            p.data = x

    def next_values(self, data: np.ndarray, grads: np.ndarray) -> np.ndarray:
        """The parameters' values after one step from `data` and `grads` (arrays in self.params'
        order), as an array: what step() would assign, bit for bit, without touching any Value
        (tape_training.HeldSteps keeps the parameters in arrays between steps). Advances the
        optimizer's state and `steps` as step() does; raises FloatingPointError, changing
        nothing, if a value would not be finite. For the built-in optimizers (see _vectorized)."""
        def new_values() -> np.ndarray:
            with np.errstate(all="ignore"):  # overflow is found by _guarded, as for Python floats
                return data - self._updates(grads, data)
        new = self._guarded(new_values, grads)
        self.steps += 1
        return new

    def _guarded(self, step: Callable[[], Any], grads: Any = None, in_place: bool = False) -> Any:
        """step()'s new values, or FloatingPointError with the state as it was if one is nan or inf.
        (_updates gives the state lists anew; update(i, ...) changes them in place: copy them first.)"""
        saved = {key: list(getattr(self, key)) if in_place else getattr(self, key) for key in self.state}
        try:
            new = step()
            total = float(new.sum()) if isinstance(new, np.ndarray) else sum(new)
            if not math.isfinite(total):  # a nan or inf grad makes its new value nan or inf too
                self._check_grads(grads)
                for i, x in enumerate(new):
                    if not math.isfinite(x):
                        raise FloatingPointError(f"{type(self).__name__}.step: parameter {i} "
                                                 f"{describe(self.params[i])} would become {x}; nothing "
                                                 f"was changed (try a smaller lr)")
        except BaseException:
            for key, values in saved.items():
                setattr(self, key, values)
            raise
        return new

    def _check_grads(self, grads: Any = None) -> None:
        """FloatingPointError naming the first parameter whose grad (or grads[i]) is nan or inf."""
        found = [p.grad for p in self.params] if grads is None else [float(g) for g in grads]
        for i, (p, grad) in enumerate(zip(self.params, found)):
            if not math.isfinite(grad):
                raise FloatingPointError(f"{type(self).__name__}.step: parameter {i} {describe(p)} has grad "
                                         f"{grad}; the loss or the model overflowed (try a smaller lr)")

    def update(self, i: int, grad: float, data: float) -> float:
        """How much to subtract from parameter i; subclasses keep their per-parameter state by i."""
        raise NotImplementedError

    def _updates(self, grads: np.ndarray, data: np.ndarray) -> np.ndarray:
        """update() for every parameter at once (the built-in optimizers; state lists in, lists out)."""
        raise NotImplementedError

    def _vectorized(self) -> bool:
        """Whether _updates stands for update: the class that defines update defines _updates too (a
        subclass that writes its own update is stepped by it, one parameter at a time)."""
        owner = next(c for c in type(self).__mro__ if "update" in vars(c))
        return "_updates" in vars(owner)

    def __repr__(self) -> str:
        hypers = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if isinstance(v, (int, float, tuple))
                           and k != "steps")
        return f"{type(self).__name__}({len(self.params)} parameters, {hypers})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum and weight decay (as torch.optim.SGD).

    g = grad + weight_decay * p            (weight decay: the gradient of (wd/2) * p^2)
    v = momentum * v + (1 - dampening) * g (v = g on the first step)
    p = p - lr * v                         (nesterov: p - lr * (g + momentum * v))
    """

    state = ("velocity",)

    def __init__(self, params: Iterable[Value], lr: float = 0.01, momentum: float = 0.0,
                 weight_decay: float = 0.0, dampening: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, lr)
        name = "SGD"
        self.momentum = _hyper(momentum, "momentum", name)
        self.weight_decay = _hyper(weight_decay, "weight_decay", name)
        self.dampening = _hyper(dampening, "dampening", name)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening 0")
        self.nesterov = nesterov
        self.velocity = [0.0] * len(self.params)

    def update(self, i: int, grad: float, data: float) -> float:
        g = grad + self.weight_decay * data if self.weight_decay else grad
        if self.momentum:
            v = g if self.steps == 0 else self.momentum * self.velocity[i] + (1 - self.dampening) * g
            self.velocity[i] = v
            g = g + self.momentum * v if self.nesterov else v
        return self.lr * g

    def step_from(self, arrays: tuple[np.ndarray, np.ndarray] | None) -> None:
        if arrays is None and not (self.momentum or self.weight_decay) and self._vectorized():
            lr = self.lr  # plain SGD: one Python pass is faster than NumPy's four conversions
            new = self._guarded(lambda: [p.data - lr * p.grad for p in self.params])
            self.steps += 1
            self._assign(new)
            return
        super().step_from(arrays)

    def _updates(self, grads: np.ndarray, data: np.ndarray) -> np.ndarray:  # update(), every i at once
        g = grads + self.weight_decay * data if self.weight_decay else grads
        if self.momentum:
            v = g if self.steps == 0 else self.momentum * np.array(self.velocity) + (1 - self.dampening) * g
            self.velocity = v.tolist()
            g = g + self.momentum * v if self.nesterov else v
        return self.lr * g


class Adam(Optimizer):
    """Adam: a step from running averages of the gradient and of its square (as torch.optim.Adam).

    m = b1 * m + (1 - b1) * g            v = b2 * v + (1 - b2) * g^2
    m_hat = m / (1 - b1^t)               v_hat = v / (1 - b2^t)     (undo the start at 0)
    p = p - lr * m_hat / (sqrt(v_hat) + eps)
    weight_decay adds wd * p to g (L2, as torch's Adam); AdamW decays p itself instead.
    """

    state = ("m", "v")

    def __init__(self, params: Iterable[Value], lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        name = type(self).__name__
        pair = isinstance(betas, (tuple, list)) and len(betas) == 2
        if not (pair and all(_number(b) and 0 <= b < 1 for b in betas)):
            raise ValueError(f"{name}: betas must be a pair (b1, b2) in [0, 1), got {betas!r}; "
                             f"the default is (0.9, 0.999)")
        b1, b2 = betas
        self.betas = (float(b1), float(b2))
        self.eps = _hyper(eps, "eps", name)
        if self.eps == 0:  # a parameter whose gradient is 0 would step 0 / 0
            raise ValueError(f"{name}: eps must be > 0 (it keeps m / (sqrt(v) + eps) finite when a "
                             f"gradient is 0), got {eps!r}; the default is 1e-8")
        self.weight_decay = _hyper(weight_decay, "weight_decay", name)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def update(self, i: int, grad: float, data: float) -> float:
        g = grad + self.weight_decay * data if self.weight_decay else grad
        return self.adam_step(i, g)

    def adam_step(self, i: int, g: float) -> float:
        b1, b2 = self.betas
        t = self.steps + 1
        self.m[i] = b1 * self.m[i] + (1 - b1) * g
        self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
        m_hat = self.m[i] / (1 - b1**t)
        v_hat = self.v[i] / (1 - b2**t)
        return self.lr * m_hat / (math.sqrt(v_hat) + self.eps)

    def _updates(self, grads: np.ndarray, data: np.ndarray) -> np.ndarray:  # update(), every i at once
        return self._adam_steps(grads + self.weight_decay * data if self.weight_decay else grads)

    def _adam_steps(self, g: np.ndarray) -> np.ndarray:  # adam_step(), every i at once
        b1, b2 = self.betas
        t = self.steps + 1
        m = b1 * np.array(self.m) + (1 - b1) * g
        v = b2 * np.array(self.v) + (1 - b2) * g * g
        self.m, self.v = m.tolist(), v.tolist()
        return self.lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (as torch.optim.AdamW): p = p * (1 - lr * wd), then Adam's step."""

    def __init__(self, params: Iterable[Value], lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)

    def update(self, i: int, grad: float, data: float) -> float:
        decay = self.lr * self.weight_decay * data  # shrinks the weight itself, not through the gradient
        return decay + self.adam_step(i, grad)

    def _updates(self, grads: np.ndarray, data: np.ndarray) -> np.ndarray:  # update(), every i at once
        return self.lr * self.weight_decay * data + self._adam_steps(grads)


# --- learning-rate schedules (call .step() once per epoch, as torch.optim.lr_scheduler) -----

class LRScheduler:
    """Sets `optimizer.lr` from the number of scheduler steps so far: lr = base_lr * factor(t).

    Unlike torch.optim.lr_scheduler, it does not multiply whatever lr holds: a change
    to optimizer.lr by hand is overwritten at the next step (change base_lr instead),
    and two schedulers on one optimizer do not combine (the last to step wins).
    """

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0
        optimizer.lr = self.base_lr * self.factor(0)

    def factor(self, t: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        self.last_epoch += 1
        self.optimizer.lr = self.base_lr * self.factor(self.last_epoch)

    def get_last_lr(self) -> float:
        return self.optimizer.lr


class LinearLR(LRScheduler):
    """Linear decay from base_lr * start_factor to base_lr * end_factor over total_iters steps, then flat.

    The defaults are micrograd's demo, lr = 1.0 - 0.9 * k / 100, which is
    LinearLR(SGD(params, lr=1.0)): 1.0 -> 0.1 over 100 steps. torch.optim's LinearLR
    defaults differ (start_factor=1/3, end_factor=1.0, total_iters=5: a warm-up).
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0, end_factor: float = 0.1,
                 total_iters: int = 100) -> None:
        self.start_factor = _factor(start_factor, "start_factor", "LinearLR")
        self.end_factor = _factor(end_factor, "end_factor", "LinearLR", zero=True)
        self.total_iters = _count(total_iters, "total_iters", "LinearLR")
        super().__init__(optimizer)

    def factor(self, t: int) -> float:
        progress = min(t, self.total_iters) / self.total_iters  # 0 -> 1, then stays at 1
        return self.start_factor + (self.end_factor - self.start_factor) * progress


class StepLR(LRScheduler):
    """Multiply the learning rate by gamma every step_size steps."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _count(step_size, "step_size", "StepLR")
        self.gamma = _factor(gamma, "gamma", "StepLR")
        super().__init__(optimizer)

    def factor(self, t: int) -> float:
        return self.gamma ** (t // self.step_size)


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by gamma every step."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = _factor(gamma, "gamma", "ExponentialLR")
        super().__init__(optimizer)

    def factor(self, t: int) -> float:
        return self.gamma**t


#: Optimizers by name (the command line's --optimizer).
OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {"sgd": SGD, "adam": Adam, "adamw": AdamW}


def _number(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, numbers.Real) and math.isfinite(x)


def _hyper(x: Any, name: str, where: str) -> float:
    if not _number(x) or x < 0:
        raise ValueError(f"{where}: {name} must be a finite number >= 0, got {x!r}")
    return float(x)


def _factor(x: Any, name: str, where: str, zero: bool = False) -> float:
    if not _number(x) or x < 0 or (x == 0 and not zero):
        raise ValueError(f"{where}: {name} must be a finite number {'>=' if zero else '>'} 0, got {x!r}")
    return float(x)


def _count(x: Any, name: str, where: str) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < 1:
        raise ValueError(f"{where}: {name} must be a whole number >= 1, got {x!r}")
    return int(x)
