"""Losses: values and gradients against PyTorch in float64, stability, and clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite.engine import Value
from autograd_lite.gradcheck import gradcheck
from autograd_lite.losses import (
    CORRECT,
    EPS,
    bce_with_logits,
    binary_cross_entropy,
    cross_entropy,
    hinge,
    log_softmax,
    mse,
    softmax,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional


def values(xs: list[float]) -> list[Value]:
    return [Value(x, label=f"z{i}") for i, x in enumerate(xs)]


def tensor(xs: list[float]) -> torch.Tensor:
    return torch.tensor(xs, dtype=torch.float64, requires_grad=True)


def assert_same(ours: Value, inputs: list[Value], theirs: torch.Tensor, t: torch.Tensor,
                rel: float = 1e-13) -> None:
    ours.backward()
    theirs.backward()
    assert ours.data == pytest.approx(theirs.item(), rel=rel, abs=1e-15)
    assert [v.grad for v in inputs] == pytest.approx(t.grad.tolist(), rel=rel, abs=1e-15)


@pytest.mark.parametrize(("pred", "target"), [([0.3], [1.0]), ([2.5, -1.0, 0.0], [1.0, 0.5, -2.0])])
def test_mse_matches_torch(pred: list[float], target: list[float]) -> None:
    vs, t = values(pred), tensor(pred)
    ours = mse(vs[0], target[0]) if len(pred) == 1 else mse(vs, target)
    assert_same(ours, vs, F.mse_loss(t, torch.tensor(target, dtype=torch.float64)), t)


@pytest.mark.parametrize("p", [1e-9, 0.05, 0.3, 0.5, 0.8, 0.999999])
@pytest.mark.parametrize("target", [0.0, 1.0, 0.25])
def test_binary_cross_entropy_matches_torch(p: float, target: float) -> None:
    vs, t = values([p]), tensor([p])
    theirs = F.binary_cross_entropy(t, torch.tensor([target], dtype=torch.float64))
    assert_same(binary_cross_entropy(vs[0], target), vs, theirs, t, rel=1e-12)


def test_binary_cross_entropy_over_several_outputs_is_the_mean() -> None:
    vs, t = values([0.2, 0.9]), tensor([0.2, 0.9])
    theirs = F.binary_cross_entropy(t, torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert_same(binary_cross_entropy(vs, [0.0, 1.0]), vs, theirs, t)


@pytest.mark.parametrize(("p", "target", "loss", "grad"), [
    (0.0, 1.0, -math.log(EPS), -1 / EPS),  # torch: the same gradient, (p - t) / max(p(1-p), 1e-12)
    (1.0, 0.0, -math.log(EPS), 1 / EPS),   # the same, mirrored
    (1.0, 1.0, 0.0, -1.0),                 # d/dp -log(p) = -1/p (torch's clamp gives 0 here)
    (0.0, 0.0, 0.0, 1.0),
])
def test_binary_cross_entropy_is_safe_at_0_and_1(p: float, target: float, loss: float, grad: float) -> None:
    v = Value(p)
    out = binary_cross_entropy(v, target)
    out.backward()
    assert out.data == pytest.approx(loss, abs=1e-12)
    assert v.grad == pytest.approx(grad, rel=1e-9)
    if abs(grad) > 1:  # the blow-up is PyTorch's gradient (whose 1e-12 is a float32 constant: 4e-9 off)
        t = tensor([p])
        F.binary_cross_entropy(t, torch.tensor([target], dtype=torch.float64)).backward()
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-8)


@pytest.mark.parametrize("z", [-800.0, -40.0, -3.0, -0.5, 0.0, 1e-8, 0.7, 5.0, 40.0, 800.0])
@pytest.mark.parametrize("target", [0.0, 1.0, 0.3])
def test_bce_with_logits_matches_torch_without_overflow(z: float, target: float) -> None:
    vs, t = values([z]), tensor([z])
    theirs = F.binary_cross_entropy_with_logits(t, torch.tensor([target], dtype=torch.float64))
    assert_same(bce_with_logits(vs[0], target), vs, theirs, t)


def test_bce_with_logits_slope_at_zero_is_sigmoid_minus_target() -> None:
    # the reason for writing max(z, 0) as (z + |z|) / 2: relu and abs both have slope 0 at 0
    for target in (0.0, 1.0):
        z = Value(0.0)
        bce_with_logits(z, target).backward()
        assert z.grad == 0.5 - target


@pytest.mark.parametrize(("score", "y"), [(0.3, 1), (-2.0, 1), (1.7, -1), (-0.4, -1), (0.2, 0), (3.0, 1)])
def test_hinge_matches_torch(score: float, y: int) -> None:
    vs, t = values([score]), tensor([score])
    sign = 1.0 if y == 1 else -1.0  # a 0 label is the negative class
    assert_same(hinge(vs[0], y), vs, torch.clamp(1 - sign * t, min=0).sum(), t)


def test_hinge_is_micrographs_max_margin_loss() -> None:
    assert hinge(Value(0.25), 1).data == 0.75
    assert hinge(Value(0.25), -1).data == 1.25
    assert hinge(Value(1.5), 1).data == 0.0  # right side with margin: nothing to learn


LOGITS = [[0.5, -1.0, 2.0], [1000.0, 0.0, -1000.0], [-750.0, -752.0], [3.0, 3.0, 3.0, 3.0]]


@pytest.mark.parametrize("logits", LOGITS)
def test_softmax_and_log_softmax_match_torch(logits: list[float]) -> None:
    for ours_fn, theirs_fn in ((softmax, F.softmax), (log_softmax, F.log_softmax)):
        weights = [0.3, -1.1, 0.7, 2.0][:len(logits)]  # a weighted sum, so every output gets a gradient
        vs, t = values(logits), tensor(logits)
        outs = ours_fn(vs)
        assert_same(sum(w * o for w, o in zip(weights, outs)), vs,
                    (theirs_fn(t, dim=0) * torch.tensor(weights, dtype=torch.float64)).sum(), t)
    assert sum(p.data for p in softmax(values(logits))) == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize("logits", LOGITS)
def test_cross_entropy_matches_torch_even_for_huge_logits(logits: list[float]) -> None:
    for target in range(len(logits)):
        vs, t = values(logits), tensor(logits)
        theirs = F.cross_entropy(t.unsqueeze(0), torch.tensor([target]))
        assert_same(cross_entropy(vs, target), vs, theirs, t)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-30, 30), min_size=2, max_size=6), st.data())
def test_cross_entropy_matches_torch_on_random_logits(logits: list[float], data: st.DataObject) -> None:
    target = data.draw(st.integers(0, len(logits) - 1))
    vs, t = values(logits), tensor(logits)
    assert_same(cross_entropy(vs, target), vs, F.cross_entropy(t.unsqueeze(0), torch.tensor([target])), t,
                rel=1e-11)


@pytest.mark.parametrize("logits", [[math.inf, 0.0, 1.0], [-math.inf, 0.0], [math.nan, 2.0], [1e308, 1e308]])
def test_cross_entropy_of_non_finite_logits_is_torchs(logits: list[float]) -> None:
    vs, t = values(logits), tensor(logits)
    ours = cross_entropy(vs, 1)
    theirs = F.cross_entropy(t.unsqueeze(0), torch.tensor([1]))
    ours.backward()
    theirs.backward()
    same = lambda a, b: math.isclose(a, b, rel_tol=1e-13, abs_tol=1e-15) or (math.isnan(a) and math.isnan(b))  # noqa: E731
    assert same(ours.data, theirs.item())
    assert all(same(v.grad, g) for v, g in zip(vs, t.grad.tolist()))


def test_losses_pass_gradcheck() -> None:  # central differences, independent of torch
    assert gradcheck(lambda a, b, c: cross_entropy([a, b, c], 1), [0.3, -0.2, 1.1])
    assert gradcheck(lambda z: bce_with_logits(z, 0.3), [0.8])
    assert gradcheck(lambda p: binary_cross_entropy(p, 0.3), [0.35])
    assert gradcheck(lambda a, b: mse([a, b], [1.0, -1.0]), [0.2, 0.4])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: binary_cross_entropy(Value(1.5), 1.0), "not a probability in [0, 1]; apply .sigmoid()"),
    (lambda: binary_cross_entropy(Value(0.5), -1), "must be in [0, 1], got -1.0 (for -1/+1 labels use hinge"),
    (lambda: bce_with_logits(Value(0.5), 2.0), "the target must be in [0, 1]"),
    (lambda: hinge(Value(0.5), 2), "labels must be +1 or -1"),
    (lambda: cross_entropy(Value(0.5), 0), "needs one logit per class"),
    (lambda: cross_entropy(values([1.0, 2.0]), 2), "a class index 0..1, got 2"),
    (lambda: cross_entropy(values([1.0, 2.0]), 1.0), "a class index 0..1, got 1.0"),
    (lambda: mse(values([1.0, 2.0]), [1.0]), "2 outputs but 1 targets"),
    (lambda: mse(Value(1.0), float("nan")), "the target must be a finite number"),
])
def test_errors_say_what_is_wrong(call, message: str) -> None:
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


def test_what_counts_as_correct() -> None:
    assert CORRECT[hinge](0.3, 1) and CORRECT[hinge](-0.3, -1) and CORRECT[hinge](-0.3, 0)
    assert not CORRECT[hinge](0.3, 0) and not CORRECT[hinge](-0.1, 1)
    assert CORRECT[bce_with_logits](0.1, 1) and not CORRECT[bce_with_logits](0.1, 0)
    assert CORRECT[binary_cross_entropy](0.6, 1) and not CORRECT[binary_cross_entropy](0.4, 1)
    assert CORRECT[cross_entropy]([0.1, 2.0, -1.0], 1) and not CORRECT[cross_entropy]([0.1, 2.0, -1.0], 0)
    assert CORRECT[mse](0.7, 1.0) and not CORRECT[mse]([0.7, 0.2], [1.0, 1.0])


def test_numpy_targets_work_like_lists() -> None:
    np = pytest.importorskip("numpy")
    outs = values([0.5, -1.0])
    assert mse(outs, np.array([1.0, 0.0])).data == mse(outs, [1.0, 0.0]).data == (0.25 + 1.0) / 2
    assert cross_entropy(outs, np.int64(1)).data == cross_entropy(outs, 1).data
    assert CORRECT[mse](np.array([0.9, 0.1]), np.array([1.0, 0.0]))


@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("targets", ["class", "list", "list of one"])
def test_accuracy_on_arrays_judges_every_example_as_correct_does(outputs: int, targets: str) -> None:
    from autograd_lite.losses import CORRECT, accuracy
    rng = np.random.default_rng(outputs)
    for loss, correct in CORRECT.items():
        out = rng.normal(size=(60, outputs))
        out[:5] = 0.5  # ties and values on the thresholds
        if targets == "class":
            t = rng.integers(0, max(outputs, 2), 60)
        else:
            t = rng.integers(0, 2, (60, outputs if targets == "list" else 1)).astype(float)
        if loss.__name__ == "hinge":
            t = np.where(t > 0, 1, -1)
        one_by_one = sum(bool(correct(o, y)) for o, y in zip(out.tolist(), t.tolist())) / 60
        assert accuracy(correct, out, t.tolist()) == one_by_one
        assert 0 < one_by_one < 1 or loss.__name__ == "cross_entropy"
