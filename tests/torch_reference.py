"""How PyTorch computes each built-in op of `ops.OPS`: the float64 reference the tests compare with.

`TORCH_OPS[name](*tensors, *param)` takes an op's inputs in `apply`'s order, its parameter last.
A test module that imports this is skipped where torch is not installed.
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")


class AtLeast(torch.autograd.Function):
    """ops.AT_LEAST in torch: max(x, lo), whose shift up to lo is a constant, so d/dx = 1."""

    @staticmethod
    def forward(ctx, x, lo):  # noqa: ANN001, ANN205
        return torch.where(x < lo, torch.full_like(x, lo), x)

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        return grad, None


def dot(*wxb: Any) -> Any:
    """ops.DOT: n weights, n inputs, then the bias."""
    n = len(wxb) // 2
    return torch.dot(torch.stack(wxb[:n]), torch.stack(wxb[n:-1])) + wxb[-1]


TORCH_OPS: dict[str, Any] = {
    "add": torch.add, "mul": torch.mul, "div": torch.div, "pow": torch.pow, "powc": torch.pow,
    "exp": torch.exp, "log": torch.log, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
    "abs": torch.abs, "sin": torch.sin, "cos": torch.cos, "leaky_relu": torch.nn.functional.leaky_relu,
    "sum": lambda *xs: torch.stack(xs).sum(), "at_least": AtLeast.apply, "dot": dot,
}
