"""Neural networks built from Values: Neuron, Layer, MLP (micrograd's nn.py, grown up).

A neuron computes  act(w1*x1 + w2*x2 + ... + wn*xn + b)  -- a weighted sum of its
inputs plus a bias, passed through an activation function. A layer is a list of
neurons that all read the same inputs; an MLP is a list of layers, each reading
the previous layer's outputs. Every weight and bias is a `Value`, so calling
`loss.backward()` fills in `p.grad` for every parameter `p`.

micrograd code keeps working: `Neuron(2)`, `Layer(2, 3)`, `MLP(2, [16, 16, 1])`,
`model(x)` with `x` a list of numbers or Values, a single Value out when the last
layer has one neuron, and `random.seed(...)` before building a model gives the
same weights as micrograd.
"""

from __future__ import annotations

import functools
import json
import math
import numbers
import os
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from autograd_lite.engine import Operand, Value, value_dot
from autograd_lite.model_file import (  # noqa: F401  (ModelFileError: nn's public name, as before)
    FORMAT,
    MAX_WEIGHTS,
    ModelFileError,
    read_json,
    read_model,
    write_file,
)
from autograd_lite.ops import LEAKY_SLOPE


class _Uniform(Protocol):  # random.Random, or the `random` module itself (micrograd's global seed)
    def uniform(self, a: float, b: float) -> float: ...


Seed = int | random.Random | _Uniform | None
Output = Value | list[Value]

#: Activation functions by name. Each is one engine op, so its derivative comes from ops.py.
ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "leaky_relu": Value.leaky_relu,  # slope ops.LEAKY_SLOPE
    "linear": lambda v: v,  # no activation: the weighted sum itself
}

#: Weight initialisations: weights ~ uniform(-bound, bound), biases start at 0.
#: "uniform" is micrograd's uniform(-1, 1); "fan_in" scales the bound by 1/sqrt(nin)
#: (PyTorch's nn.Linear default), which keeps wide layers' sums from blowing up.
INITS: dict[str, Callable[[int], float]] = {
    "uniform": lambda nin: 1.0,
    "fan_in": lambda nin: 1.0 / math.sqrt(nin),
}


class Module:
    """Base class: anything with parameters. Subclasses define `named_parameters`."""

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, parameter) pairs; names are paths like 'layers.0.neurons.3.w.1'."""
        return []

    def parameters(self) -> list[Value]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (do it before each backward: leaves accumulate)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """Every parameter's value by name, as PyTorch's `state_dict()` (plain floats here)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Set parameters from a `state_dict()`. Checks everything before changing anything.

        With `strict` (the default) the names must match exactly; otherwise names
        missing from `state` keep their values and unknown names are ignored.
        """
        params = dict(self.named_parameters())
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        if strict and (missing or unexpected):
            raise ValueError(f"load_state_dict: {type(self).__name__} has {len(params)} parameters; "
                             f"missing {_few(missing)}, unexpected {_few(unexpected)}")
        values = {k: _finite(state[k], f"load_state_dict: {k!r}") for k in params if k in state}
        for k, v in values.items():
            params[k].data = v

    def num_parameters(self) -> int:
        return len(self.named_parameters())


class Neuron(Module):
    """act(w . x + b) with `nin` weights and a bias b.

    The weights' labels (what drawings show) count from 1 as in maths, w1..wn; their
    names in `named_parameters()` are Python indexes, w.0..w.(n-1).

    `activation` is one of ACTIVATIONS ('relu' by default, as micrograd's Neuron), or
    micrograd's `nonlin` (also its second positional argument): True is 'relu', False 'linear'.
    """

    def __init__(self, nin: int, activation: str | bool | None = None, *, nonlin: bool | None = None,
                 init: str = "uniform", seed: Seed = None) -> None:
        _check_size(nin, "Neuron(nin)")
        self.activation = _activation(activation, nonlin)
        bound = _check_init(init)(nin)
        rng = _rng(seed)
        labels = _weight_labels(nin)  # one set of strings for all neurons: a wide layer holds many
        self.w = [Value(rng.uniform(-bound, bound), label=labels[i]) for i in range(nin)]
        self.b = Value(0.0, label="b")

    def __call__(self, x: Sequence[Operand] | Operand) -> Value:
        x = _inputs(x, len(self.w), self)
        act = value_dot(self.w, x, self.b)  # w1*x1 + ... + wn*xn + b, as one node
        return ACTIVATIONS[self.activation](act)

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [(f"w.{i}", w) for i, w in enumerate(self.w)] + [("b", self.b)]

    def parameters(self) -> list[Value]:  # named_parameters' order, without making the names
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """`nout` neurons that all read the same `nin` inputs (`activation` or `nonlin` as for Neuron;
    micrograd's `Layer(nin, nout, **kwargs)` passes its keywords on to the neurons the same way)."""

    def __init__(self, nin: int, nout: int, activation: str | bool | None = None, *,
                 nonlin: bool | None = None, init: str = "uniform", seed: Seed = None) -> None:
        _check_size(nin, "Layer(nin)")
        _check_size(nout, "Layer(nout)")
        activation = _activation(activation, nonlin)
        rng = _rng(seed)
        self.neurons = [Neuron(nin, activation, init=init, seed=rng) for _ in range(nout)]

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def outputs(self, x: Sequence[Operand] | Operand) -> list[Value]:
        """The layer's outputs, always as a list (even for a single neuron)."""
        x = _inputs(x, len(self.neurons[0].w), self)  # check once, not in every neuron
        return [n(x) for n in self.neurons]

    def __call__(self, x: Sequence[Operand] | Operand) -> Output:
        out = self.outputs(x)
        return out[0] if len(out) == 1 else out  # micrograd's convention

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [(f"neurons.{i}.{name}", p) for i, n in enumerate(self.neurons)
                for name, p in n.named_parameters()]

    def parameters(self) -> list[Value]:  # zero_grad() each step: making 1,000 names took 0.4 ms
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer({len(self.neurons[0].w)} -> {len(self.neurons)}, {self.activation})"


class MLP(Module):
    """A multi-layer perceptron: `MLP(2, [16, 16, 1])` is 2 inputs, two hidden layers of 16, 1 output.

    `activation` is one name for every hidden layer ('relu' by default) with the
    last layer `output_activation` ('linear', as micrograd), or a list with one
    name per layer. `init` is 'uniform' (micrograd) or 'fan_in'; `seed` an int or
    a `random.Random` (None: Python's global `random`, as micrograd).
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str | Sequence[str] = "relu",
                 output_activation: str | None = None, *, init: str = "uniform", seed: Seed = None) -> None:
        _check_size(nin, "MLP(nin)")
        if isinstance(nouts, numbers.Integral) or not nouts:
            raise ValueError(f"MLP(nin, nouts): nouts must be a non-empty list of layer sizes such as "
                             f"[16, 16, 1], got {nouts!r}")
        if isinstance(activation, str):
            activations = [activation] * (len(nouts) - 1) + [output_activation or "linear"]
        else:
            activations = list(activation)
            if output_activation is not None or len(activations) != len(nouts):
                raise ValueError(f"MLP: give one activation per layer ({len(nouts)} names) and no "
                                 f"output_activation, or a single name for the hidden layers; "
                                 f"got activation={activation!r}, output_activation={output_activation!r}")
        rng = _rng(seed)
        sizes = [nin, *nouts]
        self.layers = [Layer(sizes[i], sizes[i + 1], activations[i], init=init, seed=rng)
                       for i in range(len(nouts))]

    @property
    def sizes(self) -> list[int]:
        """[nin, width of layer 0, width of layer 1, ..., number of outputs]."""
        return [len(self.layers[0].neurons[0].w)] + [len(layer.neurons) for layer in self.layers]

    @property
    def activations(self) -> list[str]:
        return [layer.activation for layer in self.layers]

    def __call__(self, x: Sequence[Operand] | Operand) -> Output:
        out: list[Value] = self.layers[0].outputs(x)
        for layer in self.layers[1:]:
            out = layer.outputs(out)  # always a list, so a hidden layer of width 1 works
        return out[0] if len(out) == 1 else out

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [(f"layers.{i}.{name}", p) for i, layer in enumerate(self.layers)
                for name, p in layer.named_parameters()]

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        head = f"MLP({' -> '.join(map(str, self.sizes))}, {self.num_parameters()} parameters"
        return "\n".join([head, *(f"  (layers.{i}): {layer!r}" for i, layer in enumerate(self.layers)), ")"])

    # --- saving: JSON, architecture + weights, never pickle -------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Architecture and weights as plain JSON-ready data."""
        return {"format": FORMAT, "version": 1, "nin": self.sizes[0],
                "layers": [{"activation": layer.activation,
                            "weights": [[w.data for w in n.w] for n in layer.neurons],
                            "biases": [n.b.data for n in layer.neurons]} for layer in self.layers]}

    @classmethod
    def from_dict(cls, data: Any, source: str = "model", *, max_weights: int = MAX_WEIGHTS) -> MLP:
        """Rebuild a model from `to_dict()` data, checking every field (ModelFileError if wrong)."""
        nin, activations, weights, biases = read_model(data, source, ACTIVATIONS, max_weights)
        model = cls(nin, [len(b) for b in biases], activations, seed=0)
        for layer, rows, bs in zip(model.layers, weights, biases):
            for neuron, row, b in zip(layer.neurons, rows, bs):
                for w, value in zip(neuron.w, row):
                    w.data = value
                neuron.b.data = b
        return model

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to a JSON file: a new file, or over a regular file (a symlink's target,
        keeping the link). A temporary file is renamed into place, so a crash never leaves half a
        file; a directory, device or fifo at `path` raises ModelFileError and is left alone."""
        bad = [name for name, p in self.named_parameters() if not math.isfinite(p.data)]
        if bad:
            raise ValueError(f"save: {_few(bad)} {'is' if len(bad) == 1 else 'are'} nan or inf (did training "
                             "diverge?); JSON cannot hold such a model, so nothing was written")
        write_file(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, max_weights: int = MAX_WEIGHTS) -> MLP:
        """Read a model written by `save`. A malformed file raises ModelFileError saying what is wrong;
        nothing in the file is ever executed (it is parsed as JSON data only). A file declaring more
        than `max_weights` weights and biases is refused before any of them is built."""
        return cls.from_dict(read_json(path), source=str(path), max_weights=max_weights)


def to_torch(model: MLP) -> Any:
    """An equivalent `torch.nn.Sequential` (float64) with the same weights; needs PyTorch.

    Layer i becomes `nn.Linear` followed by its activation module ('linear' adds none),
    so `to_torch(model)(torch.tensor([x], dtype=torch.float64))` computes `model(x)`.
    """
    try:
        import torch
    except ImportError:
        raise ImportError("to_torch needs PyTorch: pip install torch") from None
    modules: dict[str, Callable[[], Any]] = {
        "relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
        "leaky_relu": lambda: torch.nn.LeakyReLU(LEAKY_SLOPE), "linear": lambda: None,
    }
    parts = []
    for layer in model.layers:
        nin, nout = len(layer.neurons[0].w), len(layer.neurons)
        f64 = torch.float64
        linear = torch.nn.Linear(nin, nout, dtype=f64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=f64))
            linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=f64))
        parts.append(linear)
        act = modules[layer.activation]()
        if act is not None:
            parts.append(act)
    return torch.nn.Sequential(*parts)


# --- helpers ----------------------------------------------------------------------------

def _rng(seed: Seed) -> _Uniform:
    if seed is None:
        return random  # the global generator, so random.seed(1337) works as in micrograd
    if isinstance(seed, random.Random) or hasattr(seed, "uniform"):
        return seed  # type: ignore[return-value]
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return random.Random(int(seed))
    raise TypeError(f"seed must be an int, a random.Random or None, got {type(seed).__name__} {seed!r}")


@functools.lru_cache(maxsize=64)
def _weight_labels(n: int) -> tuple[str, ...]:
    return tuple(f"w{i + 1}" for i in range(n))


def _check_size(n: Any, where: str) -> None:
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{where} must be a whole number >= 1, got {n!r}")


def _activation(activation: str | bool | None, nonlin: bool | None) -> str:
    """The activation's name from ours (a name) or micrograd's `nonlin` (True: relu, False: linear)."""
    if activation is not None and nonlin is not None:
        raise ValueError(f"give activation={activation!r} or nonlin={nonlin!r}, not both "
                         "(nonlin=True is activation='relu', nonlin=False is 'linear')")
    if nonlin is not None:
        activation = bool(nonlin)
    if isinstance(activation, bool):
        return "relu" if activation else "linear"
    return _check_activation("relu" if activation is None else activation)


def _check_activation(name: str) -> str:
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}: choose one of {', '.join(ACTIVATIONS)}")
    return name


def _check_init(name: str) -> Callable[[int], float]:
    if name not in INITS:
        raise ValueError(f"unknown init {name!r}: choose one of {', '.join(INITS)}")
    return INITS[name]


def _inputs(x: Any, n: int, who: Module) -> Sequence[Operand]:
    if isinstance(x, (Value, numbers.Real)):  # a single input, for nin = 1
        x = [x]
    if isinstance(x, (str, bytes, set, dict)) or not hasattr(x, "__len__"):
        raise TypeError(f"{who!r} expects {n} inputs (a list of numbers or Values, one per input), "
                        f"got {_type_of(x)}")
    if len(x) != n:
        raise ValueError(f"{who!r} expects {n} inputs, got {len(x)}: {_short(x)}")
    return x  # type: ignore[no-any-return]


def _short(x: Sequence[Any]) -> str:
    items = [f"{v.data:.4g}" if isinstance(v, Value) else repr(v) for v in list(x)[:5]]
    return "[" + ", ".join(items) + (", ...]" if len(x) > 5 else "]")


def _type_of(x: Any) -> str:
    if isinstance(x, list):
        return f"a list of {len(x)}"
    return "nothing" if x is None else f"{type(x).__name__} {x!r}"[:60]


def _few(names: list[str]) -> str:
    if not names:
        return "none"
    return ", ".join(repr(n) for n in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _finite(x: Any, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x):
        raise ValueError(f"{where}: expected a finite number, got {x!r}")
    return float(x)
