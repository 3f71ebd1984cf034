"""Step-through backward: the steps are backward(), the ledger's arithmetic, explain(), the HTML page."""

from __future__ import annotations

import math
import re
from dataclasses import replace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite.engine import Constant, Value, apply, topological_order, value_dot, value_sum
from autograd_lite.ops import BUILTIN_OPS, OPS
from autograd_lite.stepper import Stepper, backward_steps, explain
from autograd_lite.viz import HIGHLIGHT


def mixed(x: float = 0.7, y: float = -1.3) -> tuple[Value, list[Value]]:
    """A graph with every kind of op and nodes used more than once (so grads accumulate)."""
    a, b = Value(x, label="a"), Value(y, label="b")
    c = a * b
    d = (c + a).tanh() * a.sigmoid()
    e = value_sum([d, c.exp(), (a * a).log(), abs(b), (a - b) ** 3, b.relu(), b.leaky_relu(0.1)])
    f = e.sin() + e.cos() / (1 + a**2) + 2**b
    f.label = "f"
    return f, [a, b]


def seed003() -> tuple[Value, dict[str, Value]]:
    """Seed 003's 2-2-1 sigmoid network with binary cross-entropy, its numbers as given."""
    v = {name: Value(x, label=name) for name, x in [("x1", 0.5), ("x2", -0.5), ("w11", 0.15), ("w21", -0.2),
                                              ("w12", 0.25), ("w22", 0.2), ("b1", 0.35), ("b2", -0.35),
                                              ("v1", -0.3), ("v2", 0.5), ("b3", 0.1)]}
    h1 = (v["w11"] * v["x1"] + v["w21"] * v["x2"] + v["b1"]).sigmoid()
    h2 = (v["w12"] * v["x1"] + v["w22"] * v["x2"] + v["b2"]).sigmoid()
    p = (v["v1"] * h1 + v["v2"] * h2 + v["b3"]).sigmoid()
    loss = -p.log()  # binary cross-entropy with y = 1
    loss.label = "L"
    return loss, v


def test_running_the_steps_gives_exactly_backward() -> None:
    stepped, (a1, b1) = mixed()
    deque_of_steps = list(backward_steps(stepped))
    plain, (a2, b2) = mixed()
    plain.backward()
    assert (a1.grad, b1.grad) == (a2.grad, b2.grad)  # bit for bit: the same code did it
    assert [n.grad for n in topological_order(stepped)] == [n.grad for n in topological_order(plain)]
    assert len(deque_of_steps) == sum(1 for n in topological_order(stepped) if n._prev)


def test_each_step_records_the_chain_rule_it_applied() -> None:
    # micrograd's L = (a*b + c) * f with a=2, b=-3, c=10, f=-2, by hand
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    d = e + c
    L = d * f
    steps = [(s.node, s.upstream, s.local, s.parents, s.contributions, s.before, s.after)
             for s in backward_steps(L)]
    assert steps == [
        (L, 1.0, (-2.0, 4.0), (d, f), (-2.0, 4.0), (0.0, 0.0), (-2.0, 4.0)),  # dL/dd = f, dL/df = d
        (d, -2.0, (1.0, 1.0), (e, c), (-2.0, -2.0), (0.0, 0.0), (-2.0, -2.0)),
        (e, -2.0, (-3.0, 2.0), (a, b), (6.0, -4.0), (0.0, 0.0), (6.0, -4.0)),  # de/da = b, de/db = a
    ]
    # x used three times: y = x*x + x, dy/dx = 2x + 1 = 7 at x = 3, accumulated 1, then +3, then +3
    x = Value(3.0, label="x")
    square = x * x
    y = square + x
    steps = [(s.node, s.contributions, s.before, s.after) for s in backward_steps(y)]
    assert steps == [(y, (1.0, 1.0), (0.0, 0.0), (1.0, 1.0)), (square, (3.0, 3.0), (1.0, 4.0), (4.0, 7.0))]


def test_leaves_accumulate_as_in_backward() -> None:
    root, (a, b) = mixed()
    root.backward()
    once = a.grad
    steps = [s for s in backward_steps(root) if a in s.parents]
    assert a.grad == pytest.approx(2 * once, rel=1e-15)
    assert steps[0].before[steps[0].parents.index(a)] == once  # starts from the grad it had
    last = steps[-1].parents
    assert steps[-1].after[len(last) - 1 - last[::-1].index(a)] == a.grad


def test_ledger_lines_show_the_arithmetic() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    (step,) = list(backward_steps(c))
    assert step.ledger() == ["a.grad += b.data × c.grad = -3.0 × 1.0 = -3.0",
                             "b.grad += a.data × c.grad = 2.0 × 1.0 = 2.0"]  # the example
    x = Value(3.0, label="x")
    y = x * x
    y.label = "y"
    (square,) = list(backward_steps(y))  # the second path into x adds on: the grads add up
    assert square.ledger() == ["x.grad += x.data × y.grad = 3.0 × 1.0 = 3.0",
                               "x.grad += x.data × y.grad = 3.0 × 1.0 = 3.0 → x.grad = 6.0"]
    x = Value(3.0, label="x")
    z = 2 * x
    z.label = "z"
    assert list(backward_steps(z))[0].ledger() == ["x.grad += 2.0 × z.grad = 2.0 × 1.0 = 2.0"]
    x = Value(3.0, label="x")
    y = -x  # x * -1: a negative constant is bracketed, also when drawings name it by its value
    y.label = "y"
    (step,) = list(backward_steps(y))
    assert step.ledger({step.parents[1]: "-1.0"}) == ["x.grad += (-1.0) × y.grad = -1.0 × 1.0 = -1.0"]
    assert len(list(backward_steps(z))[0].ledger(hide_constants=False)) == 2


def test_ledger_formulas_come_from_the_rules_and_fall_back_to_partials() -> None:
    x = Value(0.5, label="x")
    y = x.tanh()
    y.label = "y"
    (step,) = list(backward_steps(y))
    assert step.ledger() == [f"x.grad += (1 - y.data²) × y.grad = {1 - math.tanh(0.5) ** 2:.4g} × 1.0 = "
                             f"{1 - math.tanh(0.5) ** 2:.4g}"]
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    c._rule = replace(OPS["mul"], local_text="")  # an op that gives no formula
    (step,) = list(backward_steps(c))
    assert step.ledger()[1] == "b.grad += ∂c/∂b × c.grad = 2.0 × 1.0 = 2.0"


def test_a_dot_node_ledger_names_the_matching_input() -> None:
    w1, w2, x1, x2, b = (Value(v, label=name) for v, name in [(0.5, "w1"), (-1.0, "w2"), (2.0, "x1"),
                                                         (3.0, "x2"), (0.1, "b")])
    z = value_dot([w1, w2], [x1, x2], b)
    z.label = "z"
    (step,) = list(backward_steps(z))
    assert step.ledger()[0] == "w1.grad += x1.data × z.grad = 2.0 × 1.0 = 2.0"
    assert step.ledger()[3] == "x2.grad += w2.data × z.grad = -1.0 × 1.0 = -1.0"
    assert step.ledger()[4] == "b.grad += 1 × z.grad = 1.0 × 1.0 = 1.0"


def test_every_op_has_a_formula_for_each_input() -> None:
    for op in (OPS[name] for name in sorted(BUILTIN_OPS)):  # (define_op ops of other tests: no formula)
        texts = op.local_text
        assert texts, op.name
        if callable(texts):
            assert len(texts(7)) == 7, op.name
        elif not isinstance(texts, str):
            n_inputs = op.local_grads.__code__.co_argcount - 2
            assert len(texts) == n_inputs - op.has_param, op.name


def test_stepper_states_match_the_live_backward_pass() -> None:
    live_root, _ = seed003()
    live = []
    order = topological_order(live_root)
    for _step in backward_steps(live_root):
        live.append({n: n.grad for n in order})
    root, _ = seed003()
    stepper = Stepper(root)
    assert len(stepper) == len(live)
    order = topological_order(root)
    for k in range(len(stepper)):
        assert [stepper.grads_at(k)[n] for n in order] == list(live[k].values())
        for node in stepper.final_at(k):
            assert stepper.grads_at(k)[node] == node.grad  # a grad marked final never changes again
    assert root in stepper.final_at(0) and len(stepper.final_at(-1)) == len(order)


def test_stepper_starts_clean_and_can_leave_the_graph_alone() -> None:
    root, v = seed003()
    root.backward()
    clean = {k: x.grad for k, x in v.items()}
    Stepper(root)  # zeroes first: one clean backward, not an accumulated second one
    assert {k: x.grad for k, x in v.items()} == clean
    for x in v.values():
        x.grad = 5.0
    Stepper(root, keep_grads=False)
    assert all(x.grad == 5.0 for x in v.values())
    Stepper(root, zero_grad=False)
    assert v["w11"].grad == pytest.approx(5.0 + clean["w11"], rel=1e-15)


def test_seed_003_numbers() -> None:
    """The worked example's forward values and gradients, by hand (sigmoid' = s(1 - s))."""
    root, v = seed003()
    Stepper(root)
    s = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    h1, h2 = s(0.5 * 0.15 + -0.5 * -0.2 + 0.35), s(0.5 * 0.25 + -0.5 * 0.2 - 0.35)
    p = s(-0.3 * h1 + 0.5 * h2 + 0.1)
    assert root.data == pytest.approx(-math.log(p), rel=1e-14)
    dz3 = p - 1  # d(-log p)/dz3 for a sigmoid output
    assert v["b3"].grad == pytest.approx(dz3, rel=1e-13)
    assert v["v1"].grad == pytest.approx(dz3 * h1, rel=1e-13)
    assert v["w11"].grad == pytest.approx(dz3 * -0.3 * h1 * (1 - h1) * 0.5, rel=1e-13)
    assert v["w22"].grad == pytest.approx(dz3 * 0.5 * h2 * (1 - h2) * -0.5, rel=1e-13)


def test_draw_a_step() -> None:
    root, v = seed003()
    stepper = Stepper(root, params=[x for k, x in v.items() if not k.startswith("x")])
    source = stepper.draw(2).source
    current = [line for line in source.splitlines() if f'COLOR="{HIGHLIGHT}"' in line and "TABLE" in line]
    assert len(current) == 1 and "data" in current[0]
    assert source.count("✓") == len([n for n in stepper.final_at(2) if not isinstance(n, Constant)])
    assert all(line in source for line in stepper.ledger(2))
    assert "backward step 3 of" in source


def test_explain_sums_paths_to_the_gradient() -> None:
    x = Value(3.0, label="x")
    f = x * x + x
    f.label = "f"
    e = explain(f, x)
    assert len(e.paths) == 3 and e.total == 7.0  # 2x + 1: x·1, x·1 (the two edges of x*x), and 1
    assert sorted(p.product for p in e.paths) == [1.0, 3.0, 3.0]
    assert "3 paths from x to f" in str(e) and "total = 7.0" in str(e)
    assert "x → n1 (as input 2) → f:  3.0 × 1.0 = 3.0" in str(e)  # which edge of x*x
    root, (a, b) = mixed()
    root.backward()
    for leaf in (a, b):
        assert explain(root, leaf).total == pytest.approx(leaf.grad, rel=1e-12)
    assert explain(root, root).total == 1.0


def test_explain_agrees_with_pytorch() -> None:
    root, v = seed003()
    t = {k: torch.tensor(x.data, dtype=torch.float64, requires_grad=True) for k, x in v.items()}
    h1 = torch.sigmoid(t["w11"] * t["x1"] + t["w21"] * t["x2"] + t["b1"])
    h2 = torch.sigmoid(t["w12"] * t["x1"] + t["w22"] * t["x2"] + t["b2"])
    loss = -torch.log(torch.sigmoid(t["v1"] * h1 + t["v2"] * h2 + t["b3"]))
    loss.backward()
    for k in ("x1", "w11", "b2", "v2"):
        assert explain(root, v[k]).total == pytest.approx(t[k].grad.item(), rel=1e-12)
    assert len(explain(root, v["x1"]).paths) == 2  # through h1 and through h2


def test_explain_refuses_exponentially_many_paths() -> None:
    x = Value(1.0001, label="x")
    y = x
    for _ in range(10):
        y = y * y  # each level doubles the paths: 2**10 of them
    with pytest.raises(ValueError, match=r"1024 paths from x to n\d+, more than max_paths=200"):
        explain(y, x)
    assert len(explain(y, x, max_paths=2000).paths) == 1024
    with pytest.raises(ValueError, match="not part of the graph"):
        explain(y, Value(2.0))


def test_html_page_is_self_contained_and_complete() -> None:
    root, v = seed003()
    stepper = Stepper(root, params=[x for k, x in v.items() if not k.startswith("x")])
    page = stepper.html()
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 1
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing from the network
    assert "<link" not in page and "import(" not in page
    assert len(page) < 150_000
    assert page.count("<li data-step=") == len(stepper.ledger())  # the ledger, readable without JS
    root2, v2 = seed003()  # deterministic: the same page from a second graph built the same way
    assert Stepper(root2, params=[x for k, x in v2.items() if not k.startswith("x")]).html() == page
    fragment = stepper._repr_html_()
    assert "<html" not in fragment and "al-stepper" in fragment and "<script>" in fragment


def test_html_refuses_a_graph_too_big_to_lay_out() -> None:
    big = value_sum(Value(float(i)) * Value(2.0) for i in range(400))  # 1,602 boxes and ops
    with pytest.raises(ValueError, match="max_nodes=1500"):
        Stepper(big).html()


def test_notebook_display_explains_instead_of_failing() -> None:
    big = value_sum(Value(float(i)) * Value(2.0) for i in range(400))
    shown = Stepper(big)._repr_html_()
    assert shown.startswith("<pre>&lt;Stepper") and "max_nodes=1500" in shown
    with pytest.raises(IndexError, match="0 steps .its root is a leaf"):
        Stepper(Value(1.0)).draw(0)


def test_save(tmp_path) -> None:
    root, _ = seed003()
    path = Stepper(root).save(tmp_path / "steps.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_step_drawings_colour_grads_on_draw_dots_scale() -> None:
    from autograd_lite.stepper_frames import labels
    from autograd_lite.stepper_html import page_options, stepper_data
    from autograd_lite.viz import draw_dot

    a = Value(50.0, label="a")
    L = a * 3  # the hidden constant 3 gets grad 50: it must not set the scale of what is drawn
    L.label = "L"
    L.backward()
    darkest = re.compile(r"darkest ([^)<]*)")
    assert darkest.findall(draw_dot(L).source) == ["3.0"]
    stepper = Stepper(L)
    assert darkest.findall(stepper.draw(-1).source) == ["3.0"]
    assert darkest.findall(stepper.draw(-1, hide_constants=False).source) == ["50.0"]
    for hide in (True, False):  # the page's last frame has the colours of the last step's picture
        data = stepper_data(stepper, page_options(stepper, hide_constants=hide))
        state = [s[1] for s in data["start"]]
        for changes in data["changes"]:
            for item, slot, value in changes:
                if slot == 1:
                    state[item] = value
        drawn = labels(stepper.draw(-1, hide_constants=hide).source)
        assert state == [drawn[item][0] for item, _ in data["items"]]


def test_html_seed_caption_shows_the_seed_given() -> None:
    from autograd_lite.stepper_html import stepper_data

    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    L = a * b
    L.label = "L"
    seed = 2  # the frames: the leaves, the forward pass's one node, then the seed
    assert stepper_data(Stepper(L))["captions"][seed] == "backward starts: L.grad = 1.0 (dL/dL = 1)"
    doubled = Stepper(L, grad=2.0)
    caption = "backward starts: L.grad = 2.0 (the seed given: Stepper(L, grad=2.0))"
    assert stepper_data(doubled)["captions"][seed] == caption
    assert "dL/dL = 1" not in doubled.html() and caption in doubled.html()
    assert doubled.ledger()[0] == "a.grad += b.data × L.grad = 3.0 × 2.0 = 6.0"


def formula_value(text: str, inputs: list[float], out: float, param: float | None) -> float:
    """Evaluate a ledger formula (Op.local_text) with numbers in place of {0}, {1}, {out}, {param}."""
    filled = text.format(*(f"({x!r})" for x in inputs), out=f"({out!r})", param=f"({param!r})")
    python = re.sub(r"\b(sin|cos)\(", r"math.\1(", filled.replace("×", "*").replace("²", "**2"))
    python = python.replace("^", "**").replace("ln(", "math.log(")
    return eval(python, {"math": math, "nan": math.nan, "sign": lambda v: (v > 0) - (v < 0)})  # noqa: S307


POSITIVE_ONLY = {"log", "pow", "powc"}  # (the base of a power: x ** 2.5 needs x > 0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.2, 2.0), min_size=5, max_size=5), st.lists(st.booleans(), min_size=5, max_size=5),
       st.floats(-2.5, 2.5))
def test_ledger_formulas_give_the_rules_local_derivatives(sizes: list[float], negative: list[bool],
                                                          param: float) -> None:
    for op in (OPS[name] for name in sorted(BUILTIN_OPS)):  # (define_op ops of other tests: no formula)
        n_inputs = {"sum": 3, "dot": 5}.get(op.name, op.local_grads.__code__.co_argcount - 2 - op.has_param)
        # kept away from kinks (relu, abs at 0) and out of domains (log of a negative)
        xs = [x if not neg or (op.name in POSITIVE_ONLY and i == 0) else -x
              for i, (x, neg) in enumerate(zip(sizes[:n_inputs], negative))]
        node = apply(op, *xs, param=param if op.has_param else None)
        texts = op.local_text(n_inputs) if callable(op.local_text) else op.local_text
        texts = (texts,) * n_inputs if isinstance(texts, str) else texts
        assert len(texts) == n_inputs == len(node._local), op.name
        for i, text in enumerate(texts):
            got = formula_value(text, xs, node.data, node._param)
            assert got == pytest.approx(node._local[i], rel=1e-12, abs=1e-300), (op.name, i, text)


def test_the_relu_formula_says_1_at_nan_as_its_rule() -> None:
    node = apply(OPS["relu"], math.nan)
    (text,) = OPS["relu"].local_text
    assert node._local == (1.0,)  # as PyTorch's threshold_backward
    assert formula_value(text, [math.nan], node.data, None) == 1.0  # "(1 if nan > 0 else 0)" said 0


def test_page_json_leaves_nothing_for_the_html_parser() -> None:
    import json

    from autograd_lite.stepper_html import script_json, visible

    nasty = "<!--<script></script>]]>&\u2028\u2029\ud800"
    text = script_json({"label": nasty})
    assert not re.search("[<>&\u2028\u2029\ud800]", text) and text.encode("utf-8")
    assert json.loads(text) == {"label": nasty}  # what JSON.parse gives back, too
    assert visible("a\x00b\nc\x7f\x85\udc00") == "a␀b␊c␡\ufffd\ufffd"
