"""autograd_lite: a scalar autodiff engine for learning how neural networks learn."""

from autograd_lite.engine import (
    Value,
    backpropagate,
    detect_anomaly,
    local_grads,
    no_grad,
    topological_order,
    value_sum,
    zero_grad,
)
from autograd_lite.gradcheck import GradcheckError, gradcheck

__all__ = [
    "GradcheckError",
    "Value",
    "backpropagate",
    "detect_anomaly",
    "gradcheck",
    "local_grads",
    "no_grad",
    "topological_order",
    "value_sum",
    "zero_grad",
]
__version__ = "0.1.0"
