"""Drawings: what they show (labels, data, grads, local derivatives, kinds), determinism, big graphs."""

from __future__ import annotations

import math
import re

import graphviz
import pytest

from autograd_lite import viz
from autograd_lite.engine import Value, value_sum
from autograd_lite.viz import GraphvizNotFound, draw_dot, fmt, grad_fill, save


def expression() -> tuple[Value, dict[str, Value]]:
    """micrograd's first example, labelled: L = (a*b + c) * f."""
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return L, {"a": a, "b": b, "c": c, "f": f, "e": e, "d": d}


def node_table(source: str, label: str) -> str:
    """The DOT line of the box whose bold name is `label`."""
    lines = [line for line in source.splitlines() if f"<B>{label}</B>" in line]
    assert len(lines) == 1, (label, lines)
    return lines[0]


def edge_labels(source: str) -> list[str]:
    return re.findall(r'label="∂ ([^"]*)"', source)


def test_boxes_show_label_data_and_grad() -> None:
    L, v = expression()
    L.backward()
    source = draw_dot(L).source
    assert "data -6.0" in node_table(source, "e") and "grad -2.0" in node_table(source, "e")
    assert "data 2.0" in node_table(source, "a") and "grad 6.0" in node_table(source, "a")  # dL/da = b*f
    assert "data -8.0" in node_table(source, "L") and "grad 1.0" in node_table(source, "L")


def test_edges_carry_the_local_derivatives_of_the_rule() -> None:
    L, v = expression()
    source = draw_dot(L).source
    # e = a*b: de/da = b = -3, de/db = a = 2; d = e + c: 1, 1; L = d*f: dL/dd = f = -2, dL/df = d = 4
    assert sorted(edge_labels(source)) == sorted(["-3.0", "2.0", "1.0", "1.0", "-2.0", "4.0"])
    x = Value(0.5, label="x")
    y = x.tanh()
    assert edge_labels(draw_dot(y).source) == [fmt(1 - math.tanh(0.5) ** 2)]  # 0.7864
    assert fmt(1 - math.tanh(0.5) ** 2) == "0.7864"
    assert edge_labels(draw_dot(y, show_local=False).source) == []  # (hover still shows it)


def test_same_graph_gives_byte_identical_dot() -> None:
    first, second = expression()[0], expression()[0]
    for root in (first, second):
        root.backward()
    assert draw_dot(first).source == draw_dot(second).source
    assert "n0" in draw_dot(first).source and str(id(first)) not in draw_dot(first).source


def test_constants_are_folded_into_their_op() -> None:
    x = Value(3.0, label="x")
    y = 2 * x - 1
    y.label = "y"
    source = draw_dot(y).source
    assert 'label=<* 2.0>' in source and 'label=<+ -1.0>' in source
    assert "data 2.0" not in source  # no box for the constant 2
    shown = draw_dot(y, hide_constants=False).source
    assert 'label=<*>' in shown and "data 2.0" in shown
    z = x**3
    assert 'label=<** 3.0>' in draw_dot(z).source
    w = 2**x
    assert 'label=<2.0 **>' in draw_dot(w).source


def test_parameters_inputs_and_output_look_different() -> None:
    w, x, b = Value(0.5, label="w"), Value(2.0, label="x"), Value(0.1, label="b")
    y = (w * x + b).tanh()
    y.label = "y"
    source = draw_dot(y, params=[w, b]).source
    assert "param" in node_table(source, "w") and 'STYLE="ROUNDED"' in node_table(source, "w")
    assert "input" in node_table(source, "x") and 'STYLE="DASHED"' in node_table(source, "x")
    assert "output" in node_table(source, "y") and 'BORDER="3"' in node_table(source, "y")
    assert "parameter (learned)" in source
    unknown = draw_dot(y).source  # without params, leaves are just leaves
    assert "param</FONT>" not in unknown and "leaf" in unknown


def test_fill_colour_follows_the_grad() -> None:
    assert grad_fill(1.0, 1.0) == "#4393c3"  # full blue
    assert grad_fill(-1.0, 1.0) == "#d6604d"  # full red
    assert grad_fill(0.0, 1.0) == "#ffffff"
    assert grad_fill(float("nan"), 1.0) == "#bbbbbb"
    assert grad_fill(0.01, 1.0) != grad_fill(0.5, 1.0)
    L, v = expression()
    L.backward()
    source = draw_dot(L).source
    assert 'BGCOLOR="#4393c3"' in node_table(source, "a")  # grad 6: the largest below the root
    assert 'BGCOLOR="#d6604d"' not in node_table(source, "a")
    blue, red = node_table(source, "c"), node_table(source, "f")  # grads -2 and 4
    assert re.search(r'BGCOLOR="#([0-9a-f]{6})"', red).group(1) != "ffffff"
    r, g, b_ = (int(re.search(r'BGCOLOR="#([0-9a-f]{6})"', blue).group(1)[i:i + 2], 16) for i in (0, 2, 4))
    assert r > b_  # c.grad = f = -2 < 0: reddish
    assert "key:" in source and "grad &gt; 0" in source
    by_kind = draw_dot(L, color="kind").source
    assert 'BGCOLOR="#fff2cc"' in node_table(by_kind, "L") and "grad &gt; 0" not in by_kind


def test_save_by_extension(tmp_path) -> None:
    L, _ = expression()
    dot = draw_dot(L)
    assert save(dot, tmp_path / "g.dot").read_text(encoding="utf-8") == dot.source
    assert save(dot, tmp_path / "g.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert save(dot, tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert save(dot, tmp_path / "g.pdf").read_bytes()[:4] == b"%PDF"
    with pytest.raises(ValueError, match=r"unknown extension '\.bmp'.*\.svg"):
        save(dot, tmp_path / "g.bmp")


def test_missing_graphviz_says_how_to_install(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on the PATH
    L, _ = expression()
    dot = draw_dot(L)  # building still works
    assert isinstance(dot, graphviz.Digraph) and "data -8.0" in dot.source
    for render in (lambda: dot.pipe(format="svg"), lambda: save(dot, tmp_path / "x.png"),
                   lambda: dot._repr_mimebundle_(), lambda: dot.render(tmp_path / "x", format="png")):
        with pytest.raises(GraphvizNotFound, match=r"apt-get install graphviz.*brew install graphviz"):
            render()
    assert issubclass(GraphvizNotFound, graphviz.ExecutableNotFound)


def test_bad_options_are_named() -> None:
    L, _ = expression()
    with pytest.raises(ValueError, match="rankdir='XY'"):
        draw_dot(L, rankdir="XY")
    with pytest.raises(ValueError, match="color='rainbow'"):
        draw_dot(L, color="rainbow")
    with pytest.raises(ValueError, match="collapse="):
        draw_dot(L, step=0, collapse="neuron")


def test_too_big_a_graph_is_refused_quickly_and_clearly() -> None:
    total = value_sum(Value(float(i)) * Value(1.0) for i in range(300))
    # 300 Values, 300 ones, 300 products with their * ops, the sum and its op
    with pytest.raises(ValueError, match=r"\(= 44850.0\) has 1202 drawn boxes \(Values and ops\), "
                                         r"more than max_nodes=400.*'layer'"):
        draw_dot(total)
    assert draw_dot(total, max_nodes=1300).source.count("->") == 1201
    with pytest.raises(ValueError, match="1202 drawn boxes") as info:  # step= says how to step it collapsed
        draw_dot(total, step=0)
    assert "collapse='neuron'" in str(info.value) and "raise max_nodes" in str(info.value)


# --- collapsing an MLP ------------------------------------------------------------------------

class Neuron:
    """micrograd's structure: w, b, parameters(); value_sum then an activation."""

    def __init__(self, weights: list[float], act: str) -> None:
        self.w = [Value(w, label=f"w{i + 1}") for i, w in enumerate(weights)]
        self.b = Value(0.1, label="b")
        self.act = act

    def __call__(self, x: list[Value]) -> Value:
        s = value_sum([wi * xi for wi, xi in zip(self.w, x)] + [self.b])
        return getattr(s, self.act)() if self.act != "linear" else s

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]


class Layer:
    def __init__(self, nin: int, nout: int, act: str) -> None:
        self.neurons = [Neuron([0.1 * (i + 1) * (-1) ** (i + j) for i in range(nin)], act)
                        for j in range(nout)]

    def __call__(self, x: list[Value]) -> list[Value]:
        return [n(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, sizes: list[int]) -> None:
        acts = ["tanh"] * (len(sizes) - 2) + ["linear"]
        self.layers = [Layer(sizes[i], sizes[i + 1], acts[i]) for i in range(len(sizes) - 1)]

    def __call__(self, x: list[Value]) -> Value:
        for layer in self.layers:
            x = layer(x)
        return x[0]

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]


def batch_loss(model: MLP, n_examples: int, nin: int) -> Value:
    losses = []
    for k in range(n_examples):
        x = [Value(0.1 * (i + k), label=f"x{i + 1}") for i in range(nin)]
        losses.append((model(x) - 1.0) ** 2)
    loss = value_sum(losses)
    loss.label = "loss"
    return loss


def test_collapse_per_neuron_and_per_layer() -> None:
    model = MLP([2, 3, 3, 1])
    loss = batch_loss(model, 1, 2)
    loss.backward()
    source = draw_dot(loss, params=model, collapse="neuron").source
    assert [source.count(f"<B>L{i}N") for i in (1, 2, 3)] == [3, 3, 1]  # one box per neuron: L1N1, ...
    assert "<B>w1</B>" not in source  # parameters are inside their boxes
    out = model.layers[2].neurons[0](model.layers[1]([n for n in model.layers[0]([Value(0.0), Value(0.1)])]))
    box = f"out {fmt(out.data, 3)}</TD></TR><TR><TD>grad {fmt(loss.grad * 2 * (out.data - 1.0), 3)}"
    assert box in source  # the output neuron's box
    assert "<B>x1</B>" in source and "<B>loss</B>" in source  # inputs and the loss stay visible
    by_layer = draw_dot(loss, params=model, collapse="layer").source
    assert by_layer.count("<B>layer ") == 3 and "3 neurons: tanh(w·x + b)" in by_layer
    again = MLP([2, 3, 3, 1])  # deterministic: a second model and loss, built the same way
    second = batch_loss(again, 1, 2)
    second.backward()
    assert draw_dot(second, params=again, collapse="layer").source == by_layer
    assert draw_dot(second, params=again, collapse="neuron").source == source


def test_each_example_gets_its_own_boxes_and_many_inputs_one_box() -> None:
    model = MLP([2, 3, 1])
    loss = batch_loss(model, 4, 2)
    assert len(re.findall(r"<B>L\dN\d</B>", draw_dot(loss, params=model, collapse="neuron").source)) == 4 * 4
    assert draw_dot(loss, params=model, collapse="layer").source.count("<B>layer ") == 2 * 4
    wide = MLP([10, 2, 1])
    source = draw_dot(batch_loss(wide, 1, 10), params=wide, collapse="layer").source
    assert "<B>inputs</B> <I>(10 values)</I>" in source and "<B>x1</B>" not in source


def test_collapse_needs_the_model() -> None:
    loss = batch_loss(MLP([2, 2, 1]), 1, 2)
    with pytest.raises(ValueError, match=r"pass the model as params"):
        draw_dot(loss, params=[Value(1.0)], collapse="neuron")


def test_big_graph_with_a_model_collapses_automatically() -> None:
    model = MLP([8, 8, 8, 1])
    loss = batch_loss(model, 3, 8)
    with pytest.warns(UserWarning, match=r"drawn with collapse='neuron'"):
        source = draw_dot(loss, params=model, max_nodes=200).source
    assert "<B>L2N8</B>" in source
    with pytest.raises(ValueError, match=r"one box per neuron or per layer would leave \d+ or \d+ nodes"):
        draw_dot(loss, params=model, max_nodes=5)


def test_collapse_works_with_autograd_lite_nn() -> None:
    nn = pytest.importorskip("autograd_lite.nn")
    model = nn.MLP(3, [4, 4, 1], seed=0)
    y = model([1.0, -2.0, 0.5])
    source = draw_dot(y, params=model, collapse="neuron").source
    assert len(re.findall(r"<B>L\dN\d</B>", source)) == 9
    # the plain numbers it was called on: one box, not one constant per weight that reads them
    assert "<B>inputs</B> <I>(3 numbers)</I>" in source and "data 1.0, -2.0, 0.5" in source
    assert source.count("inputs</B>") == 1 and source.count("-> g") - source.count("invis") == 4 + 16 + 4
    assert draw_dot(y, params=model, collapse="layer").source.count("<B>layer ") == 3
    losses = pytest.importorskip("autograd_lite.losses")
    three = nn.MLP(3, [4, 3], seed=0)
    many = draw_dot(losses.cross_entropy(three([1.0, 2.0, 3.0]), 0), params=three, collapse="layer").source
    assert re.search(r"<B>\d+ more ops</B>", many) and "on the outputs: " in many  # the loss, folded
    few = draw_dot(losses.hinge(y, 1), params=model, collapse="layer").source
    assert "more ops" not in few and "ReLU" in few
    full = draw_dot(y, params=model, max_nodes=1000).source  # every neuron has a 'w1': named by place
    assert "<B>L1N2.w1</B>" in full and "<B>L3N1.b</B>" in full and "<B>w1</B>" not in full


def test_step_drawing_leaves_the_graph_alone() -> None:
    L, v = expression()
    L.backward()
    before = {name: node.grad for name, node in v.items()}
    source = draw_dot(L, step=1).source  # L.backward() steps: at L, then d, then e
    assert {name: node.grad for name, node in v.items()} == before
    assert f'COLOR="{viz.HIGHLIGHT}"' in node_table(source, "d")  # the node being processed
    assert "e.grad += 1 × d.grad = 1.0 × -2.0 = -2.0" in source  # its ledger lines
    assert "f.grad += d.data × L.grad = 4.0 × 1.0 = 4.0" in source  # and the earlier ones
    assert "✓" in node_table(source, "f") and "✓" not in node_table(source, "a")


def micrograd_demo_loss(model: object, xs: list[list[float]], ys: list[int]) -> Value:
    """micrograd's demo.ipynb loss: mean SVM hinge plus an L2 term on every parameter."""
    scores = [model(x) for x in xs]  # type: ignore[operator]
    data_loss = sum((1 + -y * s).relu() for y, s in zip(ys, scores)) * (1.0 / len(ys))
    reg = 1e-4 * sum(p * p for p in model.parameters())  # type: ignore[attr-defined]
    loss = data_loss + reg
    loss.label = "loss"
    loss.backward()
    return loss


@pytest.mark.parametrize("n_examples", [1, 3])
def test_collapse_folds_a_regularizer_on_the_parameters(n_examples: int) -> None:
    nn = pytest.importorskip("autograd_lite.nn")
    model = nn.MLP(2, [16, 16, 1], seed=1337)
    xs = [[0.5 * k, -0.2 + 0.1 * k] for k in range(n_examples)]
    loss = micrograd_demo_loss(model, xs, [1, -1, 1][:n_examples])
    n_params = len(model.parameters())
    for mode, boxes in (("neuron", 33 * n_examples), ("layer", 3 * n_examples)):
        source = draw_dot(loss, params=model, collapse=mode).source
        assert len(re.findall(r"<B>(layer \d|L\dN\d+)</B>", source)) == boxes
        # sum(p*p for p in params): a mul and an add per parameter, then 1e-4 * ...
        assert f"<B>{2 * n_params + 1} ops on the parameters</B>" in source
        assert ".w1</B>" not in source and "<B>w1</B>" not in source  # the parameters are in boxes
        assert f"data {fmt(1e-4 * sum(p.data ** 2 for p in model.parameters()))}" in source


def test_collapse_too_big_advice_names_only_what_is_not_done() -> None:
    model = MLP([2, 3, 3, 1])
    one = batch_loss(model, 1, 2)
    with pytest.raises(ValueError, match="collapse='layer'") as info:
        draw_dot(one, params=model, collapse="neuron", max_nodes=3)
    assert "fewer examples" not in str(info.value)
    many = batch_loss(model, 5, 2)
    with pytest.raises(ValueError, match=r"fewer examples \(this one has 5\)") as info:
        draw_dot(many, params=model, collapse="layer", max_nodes=3)
    assert "collapse='layer'" not in str(info.value) and "raise max_nodes" in str(info.value)


def test_fmt_switches_to_fixed_point_after_rounding() -> None:
    assert [fmt(x) for x in (9999.7, 10000.3, -99995.0, 9999.97, 44850.0)] == \
        ["9999.7", "10000.3", "-99995.0", "10000.0", "44850.0"]  # never '1e+04' next to '10000.3'
    assert [fmt(x) for x in (1234.5678, 0.00012345, 2.0, 1e8, 9999999.7)] == \
        ["1235", "0.0001234", "2.0", "1e+08", "1e+07"]


def test_draw_dot_takes_micrographs_format(tmp_path) -> None:
    o = (Value(2.0, label="a") * 3).tanh()
    drawing = draw_dot(o, format="png", rankdir="TB")  # micrograd's draw_dot(root, format, rankdir)
    written = drawing.render(tmp_path / "graph")
    assert written.endswith("graph.png") and (tmp_path / "graph.png").read_bytes()[:4] == b"\x89PNG"
    assert draw_dot(o).format == "svg"
    with pytest.raises(ValueError, match="format"):
        draw_dot(o, format="nope")
