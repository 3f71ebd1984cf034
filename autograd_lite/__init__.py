"""autograd_lite: a scalar autodiff engine for learning how neural networks learn.

    from autograd_lite import Value, MLP, SGD, fit, draw_dot

The engine, networks, losses, optimizers, data and training load at once and need
nothing heavy; drawing (graphviz), stepping and the tape (NumPy) load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from autograd_lite import functional
from autograd_lite.custom_ops import define_op
from autograd_lite.data import Dataset, batches, circles, digits, moons, spirals, train_test_split, xor
from autograd_lite.engine import (
    Constant,
    Value,
    backpropagate,
    local_grads,
    topological_order,
    value_sum,
    zero_grad,
)
from autograd_lite.gradcheck import GradcheckError, gradcheck, gradgradcheck
from autograd_lite.higher_order import NotDifferentiableError, UnusedInputError, grad
from autograd_lite.losses import (
    bce_with_logits,
    binary_cross_entropy,
    cross_entropy,
    hinge,
    log_softmax,
    mse,
    softmax,
)
from autograd_lite.modes import detect_anomaly, no_grad
from autograd_lite.nn import MLP, Layer, ModelFileError, Module, Neuron, to_torch
from autograd_lite.optim import SGD, Adam, AdamW, ExponentialLR, LinearLR, StepLR
from autograd_lite.plots import plot_decision_boundary, plot_history, plot_images, plot_network
from autograd_lite.train import DivergenceError, History, evaluate, fit, predict

# name -> module, imported the first time the name is used (PEP 562)
_LAZY = {
    "draw_dot": "autograd_lite.viz",
    "save_drawing": "autograd_lite.viz",
    "Playground": "autograd_lite.playground",
    "Stepper": "autograd_lite.stepper",
    "backward_steps": "autograd_lite.stepper",
    "explain": "autograd_lite.stepper",
    "Tape": "autograd_lite.tape",
    "TapeError": "autograd_lite.tape",
}
_RENAMED = {"save_drawing": "save"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'autograd_lite' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), _RENAMED.get(name, name))
    globals()[name] = value
    return value


__all__ = [
    "MLP", "SGD", "Adam", "AdamW", "Constant", "Dataset", "DivergenceError", "ExponentialLR",
    "GradcheckError", "History", "Layer", "LinearLR", "ModelFileError", "Module", "Neuron",
    "NotDifferentiableError", "StepLR", "UnusedInputError", "Value", "backpropagate", "batches",
    "bce_with_logits", "binary_cross_entropy", "circles", "cross_entropy", "define_op", "detect_anomaly",
    "digits", "evaluate", "fit", "functional", "grad", "gradcheck", "gradgradcheck", "hinge", "local_grads",
    "log_softmax", "moons", "mse", "no_grad", "plot_decision_boundary", "plot_history", "plot_images",
    "plot_network", "predict", "softmax", "spirals", "to_torch", "topological_order", "train_test_split",
    "value_sum", "xor", "zero_grad", *_LAZY,
]
__version__ = "0.1.0"
