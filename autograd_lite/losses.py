"""Loss functions: how wrong a prediction is, as a Value you can call backward() on.

Every loss is written with engine ops only (+, *, log, exp, relu, abs, ...), so its
gradient comes from the derivative rules in ops.py and is never written here.

Each loss takes ONE example: the model's output (a Value, or a list of Values for
a model with several outputs) and the target (plain numbers, or Values: mse and the
cross-entropies of probabilities then keep them in the graph, which is how the tape
replays real-valued targets). Element-wise losses
(mse, binary_cross_entropy, bce_with_logits, hinge) average over the outputs, as
PyTorch's default reduction='mean' does; `train.batch_loss` averages over a batch.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd_lite import ops
from autograd_lite.engine import Value, apply, describe, value_sum

Output = Value | Sequence[Value]
Target = float | Value | Sequence[float | Value]
Loss = Callable[[Any, Any], Value]

#: binary_cross_entropy never takes the log of anything smaller than this.
EPS = 1e-12


def mse(prediction: Output, target: Target) -> Value:
    """Mean squared error: the mean over outputs of (prediction - target)^2."""
    pairs = _pairs(prediction, target, "mse")
    return mean([(p - t) ** 2 for p, t in pairs])


def binary_cross_entropy(probability: Output, target: Target, eps: float = EPS) -> Value:
    """-[t * log(p) + (1 - t) * log(1 - p)] for a probability p in [0, 1] and a target t in [0, 1].

    Safe at p = 0 and p = 1: the log's argument is kept at least `eps`. Below `eps`
    it is shifted up by a constant, so the slope is still 1 and the gradient still
    says which way to go -- at p = 0 with t = 1 it is -1/eps = -1e12, as PyTorch's
    BCELoss gradient (p - t) / max(p(1 - p), 1e-12). (PyTorch caps the loss at 100;
    here it is -log(eps) = 27.6.) For raw scores (logits) use `bce_with_logits`.
    """
    terms = []
    for p, t in _pairs(probability, target, "binary_cross_entropy"):
        _check_target(_data(t), "binary_cross_entropy")
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(f"binary_cross_entropy: the prediction {describe(p)} is not a probability in "
                             "[0, 1]; apply .sigmoid() to the output, or use bce_with_logits on raw scores")
        if t == 1:  # only the first term is left: -log(p) (a Value target is never == 1: both terms)
            terms.append(-_log_at_least(p, eps))
        elif t == 0:  # only the second: -log(1 - p)
            terms.append(-_log_at_least(1 - p, eps))
        else:
            terms.append(-(t * _log_at_least(p, eps) + (1 - t) * _log_at_least(1 - p, eps)))
    return mean(terms)


def bce_with_logits(logit: Output, target: Target) -> Value:
    """binary_cross_entropy(sigmoid(z), t), computed from the raw score z without overflow.

    -[t log s(z) + (1-t) log(1 - s(z))] = softplus(z) - t*z, with
    softplus(z) = log(1 + e^z) = max(z, 0) + log(1 + e^-|z|)   (e^-|z| <= 1: no overflow)
    and max(z, 0) written as (z + |z|) / 2, whose slope at z = 0 is 1/2, as softplus's.
    """
    terms = []
    for z, t in _pairs(logit, target, "bce_with_logits"):
        _check_target(_data(t), "bce_with_logits")
        magnitude = abs(z)
        softplus = (z + magnitude) * 0.5 + (1 + (-magnitude).exp()).log()
        terms.append(softplus - t * z if t != 0 else softplus)
    return mean(terms)


def hinge(score: Output, target: Target) -> Value:
    """max(0, 1 - y * score), the max-margin loss of micrograd's demo, for labels y = +1 / -1.

    A label 0 counts as the negative class (-1), so 0/1 labels work too. The loss is 0
    once the score is on the right side with a margin of at least 1.
    """
    terms = []
    for s, label in _pairs(score, target, "hinge"):
        y = _data(label)  # a class: it picks the sign (the tape passes labels as plain numbers)
        if y not in (-1, 0, 1):
            raise ValueError(f"hinge: labels must be +1 or -1 (or 0 for the negative class), got {y!r}")
        sign = 1.0 if y == 1 else -1.0
        terms.append((1 + (-sign) * s).relu())
    return mean(terms)


def softmax(logits: Sequence[Value]) -> list[Value]:
    """e^z_i / sum_j e^z_j: turns scores into probabilities that add up to 1."""
    shifted = _shifted(logits, "softmax")
    exps = [z.exp() for z in shifted]
    inverse = value_sum(exps) ** -1
    return [e * inverse for e in exps]


def log_softmax(logits: Sequence[Value]) -> list[Value]:
    """z_i - log(sum_j e^z_j), the log of softmax, computed stably (see cross_entropy)."""
    shifted = _shifted(logits, "log_softmax")
    log_total = value_sum([z.exp() for z in shifted]).log()
    return [z - log_total for z in shifted]


def cross_entropy(logits: Sequence[Value], target: int) -> Value:
    """-log(softmax(logits)[target]) = log(sum_j e^z_j) - z_target, as torch's F.cross_entropy.

    Stable: the largest logit m is subtracted first, so every e^(z - m) is at most 1 and
    never overflows (the shift cancels: m's gradient is 0 up to rounding). m is a node, an
    op (ops.MAX), not a number read from .data, so a tape replays logits of any size.
    """
    if isinstance(logits, Value) or not isinstance(logits, Sequence) or len(logits) < 2:
        raise ValueError("cross_entropy needs one logit per class (a list of at least 2 Values); for two "
                         "classes with one output, use bce_with_logits, or give the last layer 2 outputs")
    if isinstance(target, bool) or not isinstance(target, numbers.Integral) or not 0 <= target < len(logits):
        raise ValueError(f"cross_entropy: the target must be a class index 0..{len(logits) - 1}, "
                         f"got {target!r}")
    shifted = _shifted(logits, "cross_entropy")
    log_total = value_sum([z.exp() for z in shifted]).log()
    return log_total - shifted[int(target)]


#: Losses by name (the command line's --loss).
LOSSES: dict[str, Loss] = {
    "mse": mse,
    "binary_cross_entropy": binary_cross_entropy,
    "bce_with_logits": bce_with_logits,
    "hinge": hinge,
    "cross_entropy": cross_entropy,
}


#: Losses that use their targets in arithmetic only, never to pick the graph, so they take
#: Values as targets too: a tape passes them as inputs, one recording for every target.
VALUE_TARGETS: frozenset[Loss] = frozenset({mse, binary_cross_entropy, bce_with_logits})


# --- is a prediction right? (for accuracy; works on plain numbers) ------------------------

def _binary(threshold: float) -> Callable[[Any, Any], bool]:
    def correct(output: Any, target: Any) -> bool:  # the positive class: target 1 (not 0 or -1)
        return all((o > threshold) == (t > 0.5) for o, t in zip(_listed(output), _listed(target)))
    return correct


def _close_to_target(output: Any, target: Any) -> bool:
    return all(abs(o - t) < 0.5 for o, t in zip(_listed(output), _listed(target)))


def _argmax_is_target(output: Any, target: Any) -> bool:
    outputs = _listed(output)
    return max(range(len(outputs)), key=outputs.__getitem__) == target


def accuracy(correct: Callable[[Any, Any], bool], outputs: Any, targets: Sequence[Any]) -> float:
    """The share of examples whose output (a row of the array `outputs`) is a correct prediction
    of its target: for the judgements of CORRECT in one NumPy pass, the same answers."""
    rows, wanted = np.asarray(outputs, dtype=float), np.asarray(targets)
    rows = rows.reshape(len(rows), -1)
    if correct in _BY_ROWS and wanted.dtype.kind in "biuf" and len(wanted) == len(rows):
        return float(np.mean(_BY_ROWS[correct](rows, wanted)))
    listed = np.asarray(outputs).tolist()  # a number per example for a model with one output, else a list
    return sum(bool(correct(o, t)) for o, t in zip(listed, targets)) / len(rows)


def _pairs_by_rows(rows: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    wanted = wanted.reshape(len(wanted), -1)
    k = min(rows.shape[1], wanted.shape[1])  # as zip(outputs, targets): the shorter decides
    return rows[:, :k], wanted[:, :k]


#: For each loss, whether an output (numbers) counts as a correct prediction of the target:
#: a score above 0 (hinge, bce_with_logits) or a probability above 0.5 means the positive
#: class; mse counts outputs within 0.5 of the target; cross_entropy takes the largest logit.
CORRECT: dict[Callable[..., Value], Callable[[Any, Any], bool]] = {
    hinge: _binary(0.0),
    bce_with_logits: _binary(0.0),
    binary_cross_entropy: _binary(0.5),
    mse: _close_to_target,
    cross_entropy: _argmax_is_target,
}


def _above_by_rows(threshold: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def by_rows(rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        o, t = _pairs_by_rows(rows, wanted)
        return np.all((o > threshold) == (t > 0.5), axis=1)
    return by_rows


def _close_by_rows(rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    o, t = _pairs_by_rows(rows, wanted)
    return np.all(np.abs(o - t) < 0.5, axis=1)


def _argmax_by_rows(rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    if wanted.ndim != 1:  # a target that is not one class number is never the argmax
        return np.zeros(len(rows), dtype=bool)
    return np.argmax(rows, axis=1) == wanted  # (the first of equal largest, as max())


#: Each judgement of CORRECT on a whole array of outputs at once (examples, outputs), for `accuracy`.
_BY_ROWS: dict[Callable[[Any, Any], bool], Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    CORRECT[hinge]: _above_by_rows(0.0),
    CORRECT[bce_with_logits]: _above_by_rows(0.0),
    CORRECT[binary_cross_entropy]: _above_by_rows(0.5),
    _close_to_target: _close_by_rows,
    _argmax_is_target: _argmax_by_rows,
}


# --- helpers ----------------------------------------------------------------------------

def _pairs(output: Any, target: Any, loss: str) -> list[tuple[Value, float | Value]]:
    outputs, targets = _items(output), _items(target)
    if len(outputs) != len(targets):
        raise ValueError(f"{loss}: {len(outputs)} outputs but {len(targets)} targets; "
                         "give one target per output")
    if not outputs:
        raise ValueError(f"{loss}: no outputs")
    values = [o if isinstance(o, Value) else Value(o) for o in outputs]
    return [(o, _number(t, loss)) for o, t in zip(values, targets)]


def _number(t: Any, loss: str) -> float | Value:
    """A target as a float, or the Value it is (kept in the graph: the tape's targets are Values)."""
    x = t.data if isinstance(t, Value) else t
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x):
        raise ValueError(f"{loss}: the target must be a finite number, got {t!r}")
    return t if isinstance(t, Value) else float(t)


def _data(t: float | Value) -> float:
    return t.data if isinstance(t, Value) else t


def _check_target(t: float, loss: str) -> None:
    if not 0.0 <= t <= 1.0:
        hint = " (for -1/+1 labels use hinge, or map them to 0/1)" if t == -1 else ""
        raise ValueError(f"{loss}: the target must be in [0, 1], got {t!r}{hint}")


def _log_at_least(x: Value, eps: float) -> Value:
    """log(x), with x shifted up to eps when smaller (see binary_cross_entropy): an op, so the
    graph is the same for every x, and a tape replays it."""
    return apply(ops.AT_LEAST, x, param=eps).log()


def _shifted(logits: Sequence[Value], where: str) -> list[Value]:
    """z - max(z), for the log-sum-exp trick, with the max a node (ops.MAX): the same graph for
    every batch. Infinite or nan logits give nan, as in PyTorch."""
    if not logits:
        raise ValueError(f"{where}: no logits")
    zs = [z if isinstance(z, Value) else Value(z) for z in logits]
    minus_m = -apply(ops.MAX, *zs)  # one node for -m, read by every z + (-m)
    return [z + minus_m for z in zs]


def mean(terms: list[Value]) -> Value:
    """(t1 + ... + tn) / n as one sum node and a division (a single term is returned as it is)."""
    return terms[0] if len(terms) == 1 else value_sum(terms) / len(terms)


def _items(x: Any) -> list[Any]:
    """A list of outputs or targets: a list, a tuple or a 1-D NumPy array is many, anything else one."""
    if isinstance(x, (list, tuple)) or getattr(x, "ndim", 0) > 0:
        return list(x)
    return [x]


def _listed(x: Any) -> list[float]:
    items = _items(x)
    return [i.data if isinstance(i, Value) else float(i) for i in items]
