"""Optimizers and schedules, step for step against torch.optim on the same model."""

from __future__ import annotations

import random

import numpy as np
import pytest

from autograd_lite.engine import Value
from autograd_lite.losses import mse
from autograd_lite.nn import MLP, to_torch
from autograd_lite.optim import SGD, Adam, AdamW, ExponentialLR, LinearLR, StepLR
from autograd_lite.train import batch_loss

torch = pytest.importorskip("torch")

rnd = random.Random(5)
XS = [[rnd.uniform(-1, 1) for _ in range(3)] for _ in range(6)]
YS = [[rnd.uniform(-1, 1) for _ in range(2)] for _ in range(6)]


def torch_entries(net: torch.nn.Module) -> list[float]:
    """The torch model's parameters in our named_parameters() order: per neuron, weights then bias."""
    out = []
    for linear in (m for m in net if isinstance(m, torch.nn.Linear)):
        for j in range(linear.out_features):
            out += linear.weight[j].tolist() + [linear.bias[j].item()]
    return out


CONFIGS = [
    (SGD, torch.optim.SGD, {"lr": 0.1}),
    (SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    (SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    (SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    (SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (Adam, torch.optim.Adam, {"lr": 0.01}),
    (Adam, torch.optim.Adam, {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    (AdamW, torch.optim.AdamW, {"lr": 0.01}),
    (AdamW, torch.optim.AdamW, {"lr": 0.03, "weight_decay": 0.2}),
]


@pytest.mark.parametrize(("ours_cls", "torch_cls", "hyper"), CONFIGS,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CONFIGS)])
def test_step_for_step_like_torch(ours_cls, torch_cls, hyper: dict) -> None:
    model = MLP(3, [4, 2], activation="tanh", seed=0)
    net = to_torch(model)
    opt = ours_cls(model.parameters(), **hyper)
    topt = torch_cls(net.parameters(), **hyper)
    x = torch.tensor(XS, dtype=torch.float64)
    y = torch.tensor(YS, dtype=torch.float64)
    for _ in range(8):
        opt.zero_grad()
        loss, _ = batch_loss(model, XS, YS, mse)
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = ((net(x) - y) ** 2).mean(dim=1).mean()  # mean over outputs, then over the batch
        tloss.backward()
        topt.step()
        assert loss.data == pytest.approx(tloss.item(), rel=1e-12)
        assert [p.data for p in model.parameters()] == pytest.approx(torch_entries(net), rel=1e-12, abs=1e-14)
    assert opt.steps == 8


schedulers = torch.optim.lr_scheduler
SCHEDULES = [
    (LinearLR, schedulers.LinearLR, {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 7}),
    (LinearLR, schedulers.LinearLR, {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 4}),
    (StepLR, schedulers.StepLR, {"step_size": 3, "gamma": 0.5}),
    (ExponentialLR, schedulers.ExponentialLR, {"gamma": 0.9}),
]


@pytest.mark.parametrize(("ours_cls", "torch_cls", "args"), SCHEDULES)
def test_schedules_match_torch(ours_cls, torch_cls, args: dict) -> None:
    opt = SGD([Value(1.0)], lr=0.3)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    sched, tsched = ours_cls(opt, **args), torch_cls(topt, **args)
    for _ in range(12):
        assert opt.lr == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)
        topt.step()
        sched.step()
        tsched.step()


def test_micrographs_linear_decay() -> None:
    opt = SGD([Value(1.0)], lr=1.0)
    sched = LinearLR(opt, 1.0, 0.1, 100)
    for k in range(100):  # micrograd's demo: learning_rate = 1.0 - 0.9 * k / 100
        assert opt.lr == pytest.approx(1.0 - 0.9 * k / 100, rel=1e-14)
        sched.step()


def test_plain_sgd_is_p_minus_lr_times_grad() -> None:
    a, b = Value(2.0), Value(-1.0)
    a.grad, b.grad = 0.5, -4.0
    SGD([a, b], lr=0.1).step()
    assert (a.data, b.data) == (2.0 - 0.1 * 0.5, -1.0 + 0.1 * 4.0)


def test_zero_grad() -> None:
    ps = [Value(1.0), Value(2.0)]
    for p in ps:
        p.grad = 3.0
    Adam(ps).zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]


def test_a_nan_gradient_stops_the_step_before_anything_changes() -> None:
    ps = [Value(1.0, label="w"), Value(2.0, label="b")]
    ps[0].grad, ps[1].grad = 0.5, float("nan")
    with pytest.raises(FloatingPointError, match=r"parameter 1 'b' \(= 2.0\) has grad nan"):
        SGD(ps, lr=0.1).step()
    assert [p.data for p in ps] == [1.0, 2.0]


def test_a_step_that_overflows_changes_nothing_not_even_the_momentum() -> None:
    ps = [Value(1.0, label="w"), Value(2.0, label="b")]
    ps[0].grad, ps[1].grad = 1.0, 1e10
    opt = SGD(ps, lr=1e300, momentum=0.9)  # w moves to -1e300 (finite), b to -inf
    with pytest.raises(FloatingPointError, match=r"parameter 1 'b' \(= 2.0\) would become -inf"):
        opt.step()
    assert [p.data for p in ps] == [1.0, 2.0] and opt.velocity == [0.0, 0.0] and opt.steps == 0


def test_after_a_failed_step_adam_steps_as_if_it_never_happened() -> None:
    ps, fresh = [Value(1.0), Value(-1e308)], [Value(1.0), Value(-1e308)]
    opt, reference = Adam(ps, lr=1e308), Adam(fresh, lr=0.1)
    for p in ps + fresh:
        p.grad = 0.5
    with pytest.raises(FloatingPointError, match="would become -inf"):
        opt.step()  # Adam's first step is lr * g / |g|: w is fine, b overflows
    assert opt.m == opt.v == [0.0, 0.0] and opt.steps == 0
    opt.lr = 0.1
    opt.step()
    reference.step()
    assert [p.data for p in ps] == [p.data for p in fresh]
    assert ps[0].data == pytest.approx(0.9, abs=1e-8)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: SGD([], lr=0.1), "got no parameters; pass model.parameters()"),
    (lambda: SGD([1.0], lr=0.1), "parameter 0 is a float, not a Value"),
    (lambda: SGD([v := Value(1.0), v], lr=0.1), "a parameter appears twice"),
    (lambda: SGD([Value(1.0)], lr=-0.1), "lr must be a finite number >= 0"),
    (lambda: SGD([Value(1.0)], lr=float("nan")), "lr must be a finite number >= 0"),
    (lambda: SGD([Value(1.0)], lr=0.1, nesterov=True), "nesterov needs momentum > 0"),
    (lambda: Adam([Value(1.0)], betas=(0.9, 1.0)), "betas must be a pair (b1, b2) in [0, 1)"),
    (lambda: Adam([Value(1.0)], eps=0.0), "eps must be > 0"),
    (lambda: AdamW([Value(1.0)], eps=0), "eps must be > 0"),
    (lambda: LinearLR(SGD([Value(1.0)]), total_iters=0), "total_iters must be a whole number >= 1"),
    (lambda: Adam([Value(1.0)], betas=(0.9,)), "betas must be a pair (b1, b2) in [0, 1), got (0.9,)"),
    (lambda: Adam([Value(1.0)], betas=(0.9, float("nan"))), "betas must be a pair (b1, b2) in [0, 1)"),
    (lambda: Adam([Value(1.0)], betas=0.9), "betas must be a pair (b1, b2) in [0, 1), got 0.9"),
    (lambda: LinearLR(SGD([Value(1.0)]), start_factor=-2.0), "start_factor must be a finite number > 0"),
    (lambda: LinearLR(SGD([Value(1.0)]), start_factor=0), "start_factor must be a finite number > 0"),
    (lambda: LinearLR(SGD([Value(1.0)]), end_factor=-0.1), "end_factor must be a finite number >= 0"),
    (lambda: LinearLR(SGD([Value(1.0)]), total_iters=2.5), "total_iters must be a whole number >= 1"),
    (lambda: StepLR(SGD([Value(1.0)]), 2, gamma=-1.0), "gamma must be a finite number > 0"),
    (lambda: StepLR(SGD([Value(1.0)]), 0), "step_size must be a whole number >= 1"),
    (lambda: ExponentialLR(SGD([Value(1.0)]), gamma=0.0), "gamma must be a finite number > 0"),
])
def test_bad_hyperparameters_are_refused(make, message: str) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        make()
    assert message in str(info.value)


def test_a_scheduler_sets_lr_from_base_lr_so_a_change_by_hand_lasts_one_step() -> None:
    opt = SGD([Value(1.0)], lr=1.0)
    schedule = LinearLR(opt, 1.0, 0.1, 10)
    opt.lr = 0.01  # by hand: overwritten at the next scheduler step (as the docstring says)
    schedule.step()
    assert opt.lr == pytest.approx(0.91)
    schedule.base_lr = 0.1  # the way to change it for good
    schedule.step()
    assert opt.lr == pytest.approx(0.082)


def test_repr_shows_the_hyperparameters() -> None:
    assert repr(SGD([Value(1.0)], lr=0.1, momentum=0.9)) == (
        "SGD(1 parameters, lr=0.1, momentum=0.9, weight_decay=0.0, dampening=0.0, nesterov=False)")


@pytest.mark.parametrize(("ours_cls", "hyper"), [(c[0], c[2]) for c in CONFIGS],
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CONFIGS)])
def test_the_built_in_optimizers_step_all_parameters_at_once_exactly_as_one_at_a_time(ours_cls,
                                                                                       hyper: dict) -> None:
    class OneAtATime(ours_cls):  # writes its own update: stepped one parameter at a time
        def update(self, i: int, grad: float, data: float) -> float:
            return super().update(i, grad, data)

    rng = np.random.default_rng(3)
    start = rng.standard_normal(50) * 10.0 ** rng.integers(-8, 8, 50)
    ps, qs = [Value(x) for x in start], [Value(x) for x in start]
    fast, slow = ours_cls(ps, **hyper), OneAtATime(qs, **hyper)
    assert fast._vectorized() and not slow._vectorized()
    for _ in range(5):
        grads = (rng.standard_normal(50) * 10.0 ** rng.integers(-300, 100, 50)).tolist()
        grads[0] = -0.0
        for p, q, g in zip(ps, qs, grads):
            p.grad = q.grad = g
        fast.step()
        slow.step()
        assert [p.data for p in ps] == [q.data for q in qs]  # bit for bit, not approximately
        assert all(getattr(fast, key) == getattr(slow, key) for key in fast.state)
