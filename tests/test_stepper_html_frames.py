"""The HTML stepper's frames in headless Chromium: micrograd's demo network stepped one neuron (or
layer) box at a time, checked against the Stepper's own pictures and numbers; and any way through
the frames (Next, Prev, Home, End, slider clicks) shows what arriving there directly shows."""

from __future__ import annotations

import html
import random
import re

import pytest

from autograd_lite.engine import Value
from autograd_lite.nn import MLP
from autograd_lite.stepper import Stepper
from autograd_lite.stepper_frames import labels
from autograd_lite.viz import HIGHLIGHT, fmt, node_ids
from browser import needs_chromium
from test_stepper_html_browser import (  # one Chromium for this module, as there
    browser,
    contrast_failures,
    demo_network,
    driver,
    open_page,
    press,
)

pytestmark = needs_chromium
__all__ = ["browser", "driver"]  # the fixtures, imported to share their Chromium set-up

# Everything a frame shows, but not where the view is panned (that depends on the way there).
SNAPSHOT_JS = """
var box = arguments[0], text = function (s) { return box.querySelector(s).textContent; };
var out = {frame: box.getAttribute('data-frame'), current: box.getAttribute('data-current'),
  caption: text('.al-caption'), count: text('.al-count'), nodes: {}, edges: [], lit: [], ledger: [],
  fresh: []};
box.querySelectorAll('g.node').forEach(function (g) {
  var texts = Array.from(g.querySelectorAll('text')).map(function (t) {
    return t.textContent + (t.getAttribute('font-weight') === 'bold' ? ' [bold]' : ''); });
  var shape = g.querySelector('path, polygon, ellipse');
  out.nodes[g.querySelector('title').textContent] = [texts, shape.getAttribute('fill'),
    g.classList.contains('al-dim'), g.classList.contains('al-cur')];
});
box.querySelectorAll('g.edge').forEach(function (g) {
  out.edges.push(g.classList.contains('al-dim'));
  var title = g.querySelector('title').textContent.replace(/:[a-z]+/g, '');  // no ports
  if (g.classList.contains('al-edge-cur')) out.lit.push(title);
});
box.querySelectorAll('.al-ledger li').forEach(function (li) {
  if (li.getClientRects().length) out.ledger.push(li.textContent);
  if (li.classList.contains('al-cur')) out.fresh.push(li.textContent);
});
return out;
"""


def lit_edges(source: str) -> list[str]:
    """The edges a drawing highlights (the stepper's current box or node), as 'tail->head'."""
    return sorted(f"{t}->{h}" for t, h, attrs in re.findall(r"^\t(\S+) -> (\S+) \[(.*)\]$", source, re.M)
                  if f'color="{HIGHLIGHT}"' in attrs)


def drawn_id(stepper: Stepper, k: int) -> str:
    step = stepper[k]
    box = getattr(step, "box", None)
    return box.id if box is not None else node_ids(stepper.order)[step.node]


@pytest.mark.parametrize("collapse", ["neuron", "layer"])
def test_demo_network_steps_box_by_box_as_the_steppers_pictures(browser, tmp_path, collapse) -> None:
    from selenium.webdriver.common.keys import Keys

    loss, model = demo_network()
    stepper = Stepper(loss, params=model, collapse=collapse)
    box = open_page(browser, stepper, tmp_path)
    state = browser.execute_script(SNAPSHOT_JS, box)
    boxes = [b for b in stepper.plan.boxes if b.what == collapse]
    assert len(boxes) == (33 if collapse == "neuron" else 3)
    assert all(state["nodes"][b.id][2] for b in boxes)  # before the forward pass: dimmed, values unknown
    values = [t for b in boxes for t in state["nodes"][b.id][0] if t.startswith(("out ", "data "))]
    assert values and set(values) <= {"out ?", "data ?"}
    last = int(box.find_element("css selector", ".al-slider").get_attribute("max"))
    press(browser, Keys.ARROW_RIGHT * (last - len(stepper)))  # through the forward pass, to the seed
    assert box.get_attribute("data-current") == node_ids(stepper.order)[loss]
    for k in range(len(stepper)):
        press(browser, Keys.ARROW_RIGHT)
        state = browser.execute_script(SNAPSHOT_JS, box)
        picture = stepper.draw(k).source
        at = drawn_id(stepper, k)
        assert state["current"] == at  # lit: the box (or the node and its op), and its edges
        lit = {at} if at.startswith("g") else {at, at + "op"}
        assert {t for t, n in state["nodes"].items() if n[3]} == lit
        assert sorted(state["lit"]) == lit_edges(picture)
        assert state["ledger"] == stepper.ledger(k)
        assert state["fresh"] == stepper[k].ledger(stepper.names)
        assert state["caption"].startswith(stepper.caption(k))
        if k == 10:  # hovering the box: what Graphviz writes for the Stepper's picture of this step
            svg = stepper.draw(k).pipe(format="svg", encoding="utf-8")
            title = re.search(rf"<title>{at}</title>\s*<g[^>]*><a xlink:title=\"([^\"]*)\"", svg)
            hover = browser.execute_script("return arguments[0].querySelector('g.node.al-cur a')"
                                           ".getAttribute('xlink:title')", box)
            assert title and hover == html.unescape(title.group(1))
            assert "grad" in hover
        for node_id, (fill, rows) in labels(picture).items():  # every box as the Stepper draws step k
            texts = state["nodes"][node_id][0]
            assert texts[len(texts) - len(rows):] == [text + " [bold]" * bold for text, bold in rows]
            assert state["nodes"][node_id][1] == fill
    assert state["caption"].endswith("every grad is final, as after loss.backward().")
    if collapse == "neuron":  # the numbers themselves: each neuron's output grad, as backward left it
        out = {b.id: b.members[-1] for b in boxes}
        for b in boxes:
            assert f"grad {fmt(out[b.id].grad, 3)} ✓ [bold]" in state["nodes"][b.id][0]  # and final
    else:  # each layer's largest parameter grad
        for b in boxes:
            biggest = fmt(max(abs(p.grad) for p in b.params), 4)
            assert f"{len(b.params)} params, max |grad| {biggest}" in state["nodes"][b.id][0]


@pytest.mark.parametrize("collapse", ["neuron", "layer"])
def test_collapsed_boxes_read_in_the_dark(browser, tmp_path, collapse) -> None:
    from selenium.webdriver.common.keys import Keys

    browser.execute_cdp_cmd("Emulation.setEmulatedMedia",
                            {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    loss, model = demo_network()
    box = open_page(browser, Stepper(loss, params=model, collapse=collapse), tmp_path)
    press(browser, Keys.END, Keys.ARROW_LEFT)  # a box lit, its ledger lines highlighted
    background = browser.execute_script("return getComputedStyle(arguments[0]).backgroundColor", box)
    assert background == "rgb(30, 30, 30)"
    assert contrast_failures(browser, box) == []


def reused() -> Stepper:
    """Nodes read twice or more (grads that add up), a leaf with a grad of its own, a seed of 2."""
    a, b = Value(-1.5, label="a"), Value(0.8, label="b")
    a.grad = 0.25  # kept and added to: zero_grad=False
    x = a * b
    y = x * x + a
    total = y.tanh() * b + x
    total.label = "T"
    return Stepper(total, grad=2.0, params=[a, b], zero_grad=False)


def small_net() -> Stepper:
    model = MLP(2, [4, 4, 1], seed=1)
    loss = (model([Value(0.5, label="x1"), Value(-1.0, label="x2")]) - 1.0) ** 2
    loss.label = "loss"
    return Stepper(loss, params=model, collapse="neuron")


@pytest.mark.parametrize("make", [reused, small_net], ids=["reused nodes", "neuron boxes"])
def test_any_way_to_a_frame_shows_what_arriving_there_directly_shows(browser, tmp_path, make) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    stepper = make()
    box = open_page(browser, stepper, tmp_path)
    slider = box.find_element(By.CSS_SELECTOR, ".al-slider")
    last = int(slider.get_attribute("max"))
    direct = []
    for f in range(last + 1):  # a fresh page, and one jump to frame f
        browser.refresh()
        box = browser.find_element(By.CSS_SELECTOR, ".al-stepper")
        browser.execute_script("var s = arguments[0].querySelector('.al-slider'); s.value = arguments[1];"
                               "s.dispatchEvent(new Event('input'));", box, f)
        direct.append(browser.execute_script(SNAPSHOT_JS, box))
        assert direct[-1]["frame"] == str(f)
    assert len({str(d) for d in direct}) == last + 1  # every frame shows something new
    slider = box.find_element(By.CSS_SELECTOR, ".al-slider")
    width = slider.size["width"]
    actions = {
        "next": lambda: box.find_element(By.CSS_SELECTOR, ".al-next").click(),
        "prev": lambda: box.find_element(By.CSS_SELECTOR, ".al-prev").click(),
        "home": lambda: box.find_element(By.CSS_SELECTOR, ".al-first").click(),
        "end": lambda: press(browser, Keys.END),
        "right": lambda: press(browser, Keys.ARROW_RIGHT * 3),
        "left": lambda: press(browser, Keys.ARROW_LEFT * 2),
        "slider": lambda: ActionChains(browser).move_to_element_with_offset(
            slider, rng.randint(-width // 2 + 4, width // 2 - 4), 0).click().perform(),
    }
    rng = random.Random(10)
    names = sorted(actions)
    seen = set()
    for _ in range(70):
        name = rng.choice(names)
        actions[name]()
        state = browser.execute_script(SNAPSHOT_JS, box)
        f = int(state["frame"])
        seen.add(f)
        assert state == direct[f], f"after {name}, frame {f}"
    assert len(seen) > last // 4  # the walk went through much of the pass, both ways


def test_the_page_benchmark_measures_a_page(driver, tmp_path) -> None:
    """benchmarks/stepper_html.py runs (on this module's Chromium); no timing is checked."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "stepper_html.py"
    spec = importlib.util.spec_from_file_location("bench_stepper_html", path)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    (name, stepper), = bench.pages(quick=True).items()
    row = bench.measure(driver, stepper, tmp_path, 0.3)
    assert name == "chain of 20 tanh" and row["steps"] == 40
    assert set(row) == {"steps", "build s", "MB", "load s", "step ms", "painted fps", "play fps"}
    assert all(row[k] > 0 for k in row)
