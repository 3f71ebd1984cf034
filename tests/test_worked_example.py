"""Seed 003's numeric example: a 2-2-1 sigmoid network, binary cross-entropy, one SGD step.

Inputs x1 = 0.5, x2 = -0.5, target y = 1. The seed lists the hidden weights as
w11 = 0.15, w21 = -0.2, w12 = 0.25, w22 = 0.2. We read w_ij as the weight FROM
input i TO hidden neuron j (the usual textbook notation; the seed lists them
grouped by hidden neuron), so

    h1 = sigmoid(w11*x1 + w21*x2 + b1) = sigmoid(0.15*0.5 + (-0.2)*(-0.5) + 0.35) = sigmoid(0.525)
    h2 = sigmoid(w12*x1 + w22*x2 + b2) = sigmoid(0.25*0.5 + 0.2*(-0.5) - 0.35)  = sigmoid(-0.325)
    p  = sigmoid(-0.3*h1 + 0.5*h2 + 0.1),   loss = -log(p)

The seed gives no learning rate; the update uses eta = 0.5. Every forward value
and every gradient is checked against hand-derived formulas and against PyTorch
in float64.
"""

from __future__ import annotations

import math

import pytest

from autograd_lite.engine import Value
from autograd_lite.losses import binary_cross_entropy
from autograd_lite.nn import MLP
from autograd_lite.optim import SGD

torch = pytest.importorskip("torch")

X = [0.5, -0.5]
W_HIDDEN = [[0.15, -0.2], [0.25, 0.2]]  # neuron j's weights [w1j, w2j]: h1 reads (w11, w21), h2 (w12, w22)
B_HIDDEN = [0.35, -0.35]
W_OUT = [-0.3, 0.5]
B_OUT = 0.1
ETA = 0.5


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def seed_network() -> MLP:
    model = MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    for neuron, ws, b in zip(model.layers[0].neurons, W_HIDDEN, B_HIDDEN):
        for w, value in zip(neuron.w, ws):
            w.data = value
        neuron.b.data = b
    out = model.layers[1].neurons[0]
    out.w[0].data, out.w[1].data = W_OUT
    out.b.data = B_OUT
    return model


def forward_by_hand() -> dict[str, float]:
    a1 = 0.15 * 0.5 + (-0.2) * (-0.5) + 0.35
    a2 = 0.25 * 0.5 + 0.2 * (-0.5) - 0.35
    h1, h2 = sigmoid(a1), sigmoid(a2)
    z = -0.3 * h1 + 0.5 * h2 + 0.1
    p = sigmoid(z)
    return {"a1": a1, "a2": a2, "h1": h1, "h2": h2, "z": z, "p": p, "loss": -math.log(p)}


def grads_by_hand() -> dict[str, float]:
    """The chain rule written out, as in the seed's backward pass."""
    f = forward_by_hand()
    dz = f["p"] - 1  # dL/dz for sigmoid + BCE with target 1: p - y
    dh = [dz * W_OUT[0], dz * W_OUT[1]]  # dL/dh_j = dL/dz * w_j
    da = [dh[0] * f["h1"] * (1 - f["h1"]), dh[1] * f["h2"] * (1 - f["h2"])]  # times sigmoid'
    return {
        "layers.1.neurons.0.w.0": dz * f["h1"], "layers.1.neurons.0.w.1": dz * f["h2"],
        "layers.1.neurons.0.b": dz,
        "layers.0.neurons.0.w.0": da[0] * X[0], "layers.0.neurons.0.w.1": da[0] * X[1],
        "layers.0.neurons.0.b": da[0],
        "layers.0.neurons.1.w.0": da[1] * X[0], "layers.0.neurons.1.w.1": da[1] * X[1],
        "layers.0.neurons.1.b": da[1],
    }


def torch_network() -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor]:
    f64 = torch.float64
    w1 = torch.tensor(W_HIDDEN, dtype=f64, requires_grad=True)  # row j: neuron j
    b1 = torch.tensor(B_HIDDEN, dtype=f64, requires_grad=True)
    w2 = torch.tensor([W_OUT], dtype=f64, requires_grad=True)
    b2 = torch.tensor([B_OUT], dtype=f64, requires_grad=True)
    x = torch.tensor(X, dtype=f64)
    h = torch.sigmoid(w1 @ x + b1)
    p = torch.sigmoid(w2 @ h + b2)
    loss = torch.nn.functional.binary_cross_entropy(p, torch.tensor([1.0], dtype=f64))
    loss.backward()
    return {"w1": w1, "b1": b1, "w2": w2, "b2": b2}, h, p, loss


def by_name(w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor) -> dict[str, float]:
    """Torch's tensors, entry by entry, under our parameter names."""
    out = {"layers.1.neurons.0.w.0": w2[0, 0], "layers.1.neurons.0.w.1": w2[0, 1],
           "layers.1.neurons.0.b": b2[0]}
    for j in range(2):
        out[f"layers.0.neurons.{j}.w.0"] = w1[j, 0]
        out[f"layers.0.neurons.{j}.w.1"] = w1[j, 1]
        out[f"layers.0.neurons.{j}.b"] = b1[j]
    return {k: float(v.detach()) for k, v in out.items()}


def torch_grads(params: dict[str, torch.Tensor]) -> dict[str, float]:
    return by_name(*(params[k].grad for k in ("w1", "b1", "w2", "b2")))


def run_ours() -> tuple[MLP, list[Value], Value, Value]:
    model = seed_network()
    hidden = model.layers[0].outputs(X)
    p = model.layers[1].outputs(hidden)[0]
    loss = binary_cross_entropy(p, 1.0)
    loss.backward()
    return model, hidden, p, loss


def test_forward_values_match_the_hand_computation_and_torch() -> None:
    _, hidden, p, loss = run_ours()
    hand = forward_by_hand()
    _, th, tp, tloss = torch_network()
    assert hand["a1"] == pytest.approx(0.525, abs=1e-15) and hand["a2"] == pytest.approx(-0.325, abs=1e-15)
    for ours, by_hand, theirs in [(hidden[0].data, hand["h1"], th[0]), (hidden[1].data, hand["h2"], th[1]),
                                  (p.data, hand["p"], tp[0]), (loss.data, hand["loss"], tloss)]:
        assert ours == pytest.approx(by_hand, rel=1e-14)
        assert ours == pytest.approx(float(theirs.detach()), rel=1e-14)
    # the numbers a reader can check with a calculator
    assert hidden[0].data == pytest.approx(0.628316, abs=1e-6)
    assert hidden[1].data == pytest.approx(0.419458, abs=1e-6)
    assert p.data == pytest.approx(0.530271, abs=1e-6)
    assert loss.data == pytest.approx(0.634366, abs=1e-6)


def test_every_gradient_matches_the_chain_rule_by_hand_and_torch() -> None:
    model, _, p, _ = run_ours()
    grads = {name: param.grad for name, param in model.named_parameters()}
    hand = grads_by_hand()
    params, *_ = torch_network()
    theirs = torch_grads(params)
    assert set(grads) == set(hand) == set(theirs)
    for name in grads:
        assert grads[name] == pytest.approx(hand[name], rel=1e-13, abs=1e-16), name
        assert grads[name] == pytest.approx(theirs[name], rel=1e-13, abs=1e-16), name
    assert grads["layers.1.neurons.0.b"] == pytest.approx(p.data - 1, rel=1e-14)  # dL/dz = p - y
    assert grads["layers.1.neurons.0.b"] < 0  # raising the output's bias lowers the loss


def test_one_sgd_update_matches_torch_and_lowers_the_loss() -> None:
    model, _, _, loss = run_ours()
    before = model.state_dict()
    hand = grads_by_hand()
    SGD(model.parameters(), lr=ETA).step()
    after = model.state_dict()

    params, *_ = torch_network()
    torch.optim.SGD(list(params.values()), lr=ETA).step()
    updated = by_name(*(params[k] for k in ("w1", "b1", "w2", "b2")))
    for name in after:
        assert after[name] == pytest.approx(before[name] - ETA * hand[name], rel=1e-14), name
        assert after[name] == pytest.approx(updated[name], rel=1e-14), name
    new_loss = binary_cross_entropy(model(X), 1.0)
    assert new_loss.data < loss.data
