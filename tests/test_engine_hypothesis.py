"""Random expression graphs: backward() against central differences and against PyTorch.

A graph is a small program: inputs, then steps that each apply an op to earlier
nodes (so nodes are reused and graphs are DAGs, not trees). Inputs are kept away
from kinks (relu, abs at 0) and from overflow, where derivatives are not smooth.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autograd_lite import Value, gradcheck, value_sum

torch = pytest.importorskip("torch")

KINKY = {"relu", "abs"}


def make_ops(lib: str) -> dict:
    """The same step in two worlds: our Values, or PyTorch float64 tensors."""
    if lib == "value":
        tanh, sig, sin, cos, exp, log = (lambda x: x.tanh(), lambda x: x.sigmoid(), lambda x: x.sin(),
                                         lambda x: x.cos(), lambda x: x.exp(), lambda x: x.log())
        relu, absf = (lambda x: x.relu(), abs)
    else:
        tanh, sig, sin, cos, exp, log, relu, absf = (torch.tanh, torch.sigmoid, torch.sin, torch.cos,
                                                     torch.exp, torch.log, torch.relu, torch.abs)
    return {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / (1 + b * b),
        "rdiv": lambda a, b: 2 / (1.5 + tanh(b)),
        "tanh": lambda a, b: tanh(a),
        "sigmoid": lambda a, b: sig(a),
        "sin": lambda a, b: sin(a),
        "cos": lambda a, b: cos(a),
        "exp": lambda a, b: exp(tanh(a)),
        "log": lambda a, b: log(a * a + 0.5),
        "square": lambda a, b: a**2,
        "cube": lambda a, b: a**3,
        "sqrt": lambda a, b: (a * a + 1) ** 0.5,
        "pow": lambda a, b: (a * a + 0.5) ** tanh(b),
        "rpow": lambda a, b: 1.5 ** tanh(a),
        "relu": lambda a, b: relu(a),
        "abs": lambda a, b: absf(a),
        "neg": lambda a, b: -a,
    }


OPS_BY_LIB = {"value": make_ops("value"), "torch": make_ops("torch")}

programs = st.tuples(
    st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from(sorted(OPS_BY_LIB["value"])), st.integers(0, 99), st.integers(0, 99)),
             min_size=1, max_size=10),
)


def number(x) -> float:
    return x.data if isinstance(x, Value) else x.detach().item()


def run(program, inputs, lib: str):
    """Evaluate the program; the output mixes in every node so all of them matter."""
    _, steps = program
    ops = OPS_BY_LIB[lib]
    nodes = list(inputs)
    for name, i, j in steps:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        if name in KINKY:
            assume(abs(number(a)) > 1e-3)
        out = ops[name](a, b)
        assume(abs(number(out)) < 1e4)
        nodes.append(out)
    if lib == "value":
        return nodes[-1] * nodes[0] + value_sum(nodes)
    return nodes[-1] * nodes[0] + sum(nodes[1:], nodes[0])


SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


@SETTINGS
@given(programs)
def test_random_graphs_match_pytorch(program) -> None:
    xs, _ = program
    vs = [Value(x) for x in xs]
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = run(program, vs, "value")
    tout = run(program, ts, "torch")
    out.backward()
    tout.backward()
    assert math.isclose(out.data, tout.item(), rel_tol=1e-12, abs_tol=1e-12)
    for v, t in zip(vs, ts):
        expected = t.grad.item() if t.grad is not None else 0.0
        assert math.isclose(v.grad, expected, rel_tol=1e-9, abs_tol=1e-12), (v.grad, expected)


@SETTINGS
@given(programs)
def test_random_graphs_match_central_differences(program) -> None:
    xs, _ = program
    # reject programs where a kink (relu, abs at 0) lies within reach of the finite differences
    for shift in (-1e-5, 1e-5):
        for k in range(len(xs)):
            moved = [Value(x + shift if i == k else x) for i, x in enumerate(xs)]
            run(program, moved, "value")
    assert gradcheck(lambda *v: run(program, v, "value"), xs, eps=1e-6, atol=1e-5, rtol=1e-4)
