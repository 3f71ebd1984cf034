"""The HTML stepper's view in headless Chromium: zoom and pan, keys, pinned controls, autoplay,
colours in light and dark themes, any label, and micrograd's demo network (473 drawn nodes)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autograd_lite.data import moons
from autograd_lite.engine import Value
from autograd_lite.losses import hinge
from autograd_lite.nn import MLP
from autograd_lite.stepper import Stepper
from autograd_lite.stepper_html import visible
from autograd_lite.viz import count_drawn, fmt, node_ids
from browser import chromium, needs_chromium

pytestmark = needs_chromium

# The contrast ratio (WCAG 2) of every rendered text against what is behind it, from computed styles.
CONTRAST_JS = """
function rgba(s) { var m = (s || '').match(/[\\d.]+/g); if (!m) return null; m = m.map(Number);
  return m.length === 3 ? m.concat([1]) : m; }
function lum(c) { return [0, 1, 2].map(function (i) { var v = c[i] / 255;
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
  .reduce(function (a, v, i) { return a + v * [0.2126, 0.7152, 0.0722][i]; }, 0); }
function ratio(a, b) { var x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); }
function htmlBg(el) { for (; el; el = el.parentElement) { var c = rgba(getComputedStyle(el).backgroundColor);
  if (c && c[3] > 0.5) return c; } return [255, 255, 255, 1]; }
function svgBg(t) {  // the last filled shape of the node (or the graph) under the text's centre
  var r = t.getBBox(), x = r.x + r.width / 2, y = r.y + r.height / 2, found = null;
  var group = t.closest('g.node') || t.closest('g.graph');
  group.querySelectorAll('polygon, path, ellipse').forEach(function (s) {
    if (s.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING) {
      var f = rgba(getComputedStyle(s).fill), b = s.getBBox();
      if (f && f[3] > 0.5 && x >= b.x && x <= b.x + b.width && y >= b.y && y <= b.y + b.height) found = f;
    }
  });
  return found || rgba(getComputedStyle(t.closest('g.graph').querySelector('polygon')).fill);
}
var box = arguments[0], out = [];
box.querySelectorAll('*').forEach(function (el) {
  if (el.closest('style, script') || !el.getClientRects().length) return;
  if (el instanceof SVGTextElement) {
    if (!el.textContent.trim()) return;
    var bg = svgBg(el);
    out.push([el.textContent, ratio(rgba(getComputedStyle(el).fill), bg)]);
  } else if (!(el instanceof SVGElement)) {
    var own = Array.prototype.some.call(el.childNodes,
                                        function (n) { return n.nodeType === 3 && n.textContent.trim(); });
    if (own || el.tagName === 'SELECT') out.push([el.tagName + ' ' + (el.innerText || '').slice(0, 40),
      ratio(rgba(getComputedStyle(el).color), htmlBg(el))]);
  }
});
return out;
"""
VISIBLE_LEDGER_JS = ("return Array.from(arguments[0].querySelectorAll('.al-ledger li'))"
                     ".filter(li => li.getClientRects().length).map(li => li.textContent);")


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    """One Chromium for the module: starting it costs more than most of these tests."""
    with chromium((1400, 900)) as chrome:
        yield chrome


@pytest.fixture
def browser(driver: Any) -> Iterator[Any]:
    """The module's Chromium, put back as it was after each test: window size, colour scheme, log."""
    driver.set_window_size(1400, 900)
    driver.get_log("browser")
    yield driver
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe


def small() -> tuple[Value, list[Value]]:
    """The 2-2-1 sigmoid network of notebook 02 (test_stepper_browser's seed003), weights as params."""
    x1, x2 = Value(0.5, label="x1"), Value(-0.5, label="x2")
    w = {k: Value(x, label=k) for k, x in [("w11", 0.15), ("w21", -0.2), ("w12", 0.25), ("w22", 0.2),
                                     ("b1", 0.35), ("b2", -0.35), ("v1", -0.3), ("v2", 0.5), ("b3", 0.1)]}
    h1 = (w["w11"] * x1 + w["w21"] * x2 + w["b1"]).sigmoid()
    h2 = (w["w12"] * x1 + w["w22"] * x2 + w["b2"]).sigmoid()
    loss = -(w["v1"] * h1 + w["v2"] * h2 + w["b3"]).sigmoid().log()
    loss.label = "L"
    return loss, list(w.values())


def demo_network() -> tuple[Value, MLP]:
    """micrograd's demo network, MLP(2, [16, 16, 1]), and the hinge loss of one moons example."""
    data = moons(100, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    loss = hinge(model(data.X[0]), data.y[0] * 2 - 1)
    loss.label = "loss"
    return loss, model


def open_page(browser: Any, stepper: Stepper, tmp_path: Path, page: str | None = None) -> Any:
    from selenium.webdriver.common.by import By

    path = tmp_path / "stepper.html"
    if page is None:
        stepper.save(path)
    else:
        path.write_text(page.replace("FRAGMENT", stepper.html(full_page=False)), encoding="utf-8")
    browser.get(path.resolve().as_uri())
    return browser.find_element(By.CSS_SELECTOR, ".al-stepper")


def frame(box: Any) -> int:
    return int(box.get_attribute("data-frame"))


def last_frame(stepper: Stepper) -> int:
    return sum(1 for n in stepper.order if n._prev) + 1 + len(stepper)  # forward frames, the seed, steps


def svg_scale(browser: Any, box: Any) -> float:
    """Screen pixels per SVG unit, as the browser draws it."""
    return browser.execute_script("return arguments[0].querySelector('svg g.graph').getScreenCTM().a", box)


def press(browser: Any, *keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys(*keys).perform()


def test_buttons_wheel_and_drag_zoom_and_pan_the_graph(browser, tmp_path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains, ScrollOrigin
    from selenium.webdriver.common.by import By

    box = open_page(browser, Stepper(small()[0]), tmp_path)
    view = box.find_element(By.CSS_SELECTOR, ".al-view")
    box.find_element(By.CSS_SELECTOR, ".al-actual").click()
    assert svg_scale(browser, box) == pytest.approx(4 / 3, rel=1e-3)  # 100%: 1 pt is 4/3 px
    assert box.find_element(By.CSS_SELECTOR, ".al-zoom-level").text == "100%"
    box.find_element(By.CSS_SELECTOR, ".al-in").click()
    assert svg_scale(browser, box) == pytest.approx(4 / 3 * 1.25, rel=1e-3)
    box.find_element(By.CSS_SELECTOR, ".al-out").click()
    box.find_element(By.CSS_SELECTOR, ".al-out").click()
    assert svg_scale(browser, box) == pytest.approx(4 / 3 / 1.25, rel=1e-3)

    box.find_element(By.CSS_SELECTOR, ".al-fit").click()  # the whole graph inside the view
    inside = browser.execute_script("""
        var v = arguments[0].getBoundingClientRect(), g = arguments[0].querySelector('g.graph polygon')
          .getBoundingClientRect();
        return g.left >= v.left - 1 && g.right <= v.right + 1
          && g.top >= v.top - 1 && g.bottom <= v.bottom + 1
          && (g.width > 0.9 * v.width || g.height > 0.9 * v.height);""", view)
    assert inside

    before = svg_scale(browser, box)
    ActionChains(browser).scroll_from_origin(ScrollOrigin.from_element(view), 0, -300).perform()
    assert svg_scale(browser, box) > 1.5 * before  # wheel up: zoom in, around the pointer
    zoomed = svg_scale(browser, box)
    ActionChains(browser).scroll_from_origin(ScrollOrigin.from_element(view), 0, 150).perform()
    assert before < svg_scale(browser, box) < zoomed

    def origin() -> tuple[float, float]:
        m = browser.execute_script("var m = arguments[0].querySelector('svg g.graph').getScreenCTM();"
                                   "return [m.e, m.f];", box)
        return m[0], m[1]

    x0, y0 = origin()
    ActionChains(browser).move_to_element(view).click_and_hold().move_by_offset(-120, 40).release().perform()
    x1, y1 = origin()
    assert (x1 - x0, y1 - y0) == (pytest.approx(-120, abs=2), pytest.approx(40, abs=2))


def test_keys_work_as_soon_as_the_page_is_shown(browser, tmp_path) -> None:
    from selenium.webdriver.common.keys import Keys

    stepper = Stepper(small()[0])
    box = open_page(browser, stepper, tmp_path)
    assert frame(box) == 0
    press(browser, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)  # no click first
    assert frame(box) == 2
    press(browser, Keys.ARROW_LEFT)
    assert frame(box) == 1
    press(browser, Keys.END)
    assert frame(box) == last_frame(stepper) and box.get_attribute("data-current") == node_ids(
        stepper.order)[stepper[-1].node]
    press(browser, Keys.HOME)
    assert frame(box) == 0
    press(browser, Keys.ARROW_LEFT)
    assert frame(box) == 0
    press(browser, Keys.SPACE)  # play
    assert box.get_attribute("data-playing") is not None
    press(browser, Keys.SPACE)  # pause
    assert box.get_attribute("data-playing") is None
    assert browser.execute_script("return window.scrollY") == 0  # space did not scroll the page


NOTEBOOK = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<textarea id="cell" rows="3" cols="40">x = 1</textarea>
<div class="jp-OutputArea-output">FRAGMENT</div>
<script>window.notebookKeys = [];
document.addEventListener('keydown', function (e) { window.notebookKeys.push(e.key); }, true);</script>
</body></html>"""


def test_in_a_notebook_keys_go_to_the_stepper_only_while_the_pointer_or_focus_is_on_it(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = open_page(browser, Stepper(small()[0]), tmp_path, NOTEBOOK)
    cell = browser.find_element(By.ID, "cell")
    ActionChains(browser).move_to_element(cell).perform()
    press(browser, Keys.ARROW_RIGHT)  # the pointer is elsewhere: the notebook's key
    assert frame(box) == 0 and browser.execute_script("return window.notebookKeys") == ["ArrowRight"]
    ActionChains(browser).move_to_element(box.find_element(By.CSS_SELECTOR, ".al-view")).perform()
    press(browser, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)  # over the output: the stepper's, and only its
    assert frame(box) == 2 and browser.execute_script("return window.notebookKeys") == ["ArrowRight"]
    cell.click()
    ActionChains(browser).move_to_element(box).perform()
    press(browser, Keys.END, "2")  # typing in a cell: the keys stay the cell's, pointer or not
    assert frame(box) == 2 and cell.get_attribute("value") == "x = 12"
    box.find_element(By.CSS_SELECTOR, ".al-next").click()  # focus inside the output: its keys again
    ActionChains(browser).move_to_element(cell).perform()
    press(browser, Keys.ARROW_RIGHT)
    assert frame(box) == 4


def test_controls_and_caption_stay_in_sight_and_the_current_node_is_scrolled_into_view(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    loss, model = demo_network()
    stepper = Stepper(loss, params=model)
    browser.set_window_size(820, 620)  # narrow: the ledger goes below the graph and the page scrolls
    box = open_page(browser, stepper, tmp_path)
    n_forward = last_frame(stepper) - len(stepper) - 1
    press(browser, Keys.ARROW_RIGHT * 3, Keys.END)
    for k in range(len(stepper) - 2, len(stepper) - 12, -1):
        browser.execute_script("window.scrollTo(0, 150)")  # the top of the graph scrolled out of sight
        press(browser, Keys.ARROW_LEFT)
        assert frame(box) == n_forward + 2 + k
        state = browser.execute_script("""
            var box = arguments[0], r = function (s) { return box.querySelector(s).getBoundingClientRect(); };
            return {scrolled: window.scrollY, height: innerHeight, bar: r('.al-bar'),
                    caption: r('.al-caption'),
                    prev: r('.al-prev'), current: box.querySelector('g.node.al-cur').getBoundingClientRect(),
                    view: r('.al-view')};""", box)
        assert state["scrolled"] > 100 and state["view"]["top"] < 0  # the page stays scrolled; the bar:
        for part in ("bar", "caption", "prev"):
            assert state[part]["top"] >= 0 and state[part]["bottom"] <= state["height"], part
        cur, view = state["current"], state["view"]  # the current node: in the graph's view, and in sight
        assert view["left"] <= cur["left"] and cur["right"] <= view["right"]
        assert max(view["top"], state["bar"]["bottom"]) <= cur["top"] + 1
        assert cur["bottom"] <= min(view["bottom"], state["height"]) + 1
        assert box.find_element(By.CSS_SELECTOR, ".al-caption").text.startswith(stepper.caption(k))


def contrast_failures(browser: Any, box: Any) -> list[tuple[str, float]]:
    pairs = browser.execute_script(CONTRAST_JS, box)
    assert len(pairs) > 50  # buttons, caption, ledger lines and the graph's texts were all measured
    return [(text, round(ratio, 2)) for text, ratio in pairs if ratio < 4.5]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_text_reads_on_its_background(browser, tmp_path, scheme) -> None:
    from selenium.webdriver.common.keys import Keys

    browser.execute_cdp_cmd("Emulation.setEmulatedMedia",
                            {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
    loss, params = small()
    stepper = Stepper(loss, params=params)
    box = open_page(browser, stepper, tmp_path)
    press(browser, Keys.END, Keys.ARROW_LEFT * 3)  # a backward step: highlighted ledger lines, current node
    background = browser.execute_script("return getComputedStyle(arguments[0]).backgroundColor", box)
    assert background == ("rgb(30, 30, 30)" if scheme == "dark" else "rgb(255, 255, 255)")
    assert contrast_failures(browser, box) == []


JUPYTERLAB_DARK = """<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body data-jp-theme-light="false" style="background: #111111; color: #d4d4d4">
<div class="jp-OutputArea-output">FRAGMENT</div></body></html>"""
LIGHT_NOTEBOOK = """<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body style="background: #ffffff; color: #000000"><div>FRAGMENT</div></body></html>"""


@pytest.mark.parametrize("host, os_scheme, dark", [(JUPYTERLAB_DARK, "light", True),
                                                   (LIGHT_NOTEBOOK, "dark", False)])
def test_in_a_notebook_the_colours_follow_the_notebooks_theme(browser, tmp_path, host, os_scheme, dark):
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd("Emulation.setEmulatedMedia",
                            {"features": [{"name": "prefers-color-scheme", "value": os_scheme}]})
    box = open_page(browser, Stepper(small()[0]), tmp_path, host)
    for _ in range(30):
        box.find_element(By.CSS_SELECTOR, ".al-next").click()
    background = browser.execute_script("return getComputedStyle(arguments[0]).backgroundColor", box)
    assert background == ("rgb(30, 30, 30)" if dark else "rgb(255, 255, 255)")
    assert box.find_elements(By.CSS_SELECTOR, ".al-ledger li.al-cur")  # highlighted lines were measured
    assert contrast_failures(browser, box) == []


def test_autoplay_plays_to_the_end_at_the_chosen_speed_and_pauses(browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.wait import WebDriverWait

    stepper = Stepper(small()[0])
    box = open_page(browser, stepper, tmp_path)
    play = box.find_element(By.CSS_SELECTOR, ".al-play")
    play.click()
    WebDriverWait(browser, 10).until(lambda _: frame(box) >= 1)
    play.click()  # pause
    paused = frame(box)
    time.sleep(0.6)  # at the default 4 frames a second, two more frames would have come
    assert frame(box) == paused and box.get_attribute("data-playing") is None
    Select(box.find_element(By.CSS_SELECTOR, ".al-speed")).select_by_value("32")
    play.click()
    WebDriverWait(browser, 20).until(lambda _: box.get_attribute("data-playing") is None)
    assert frame(box) == last_frame(stepper)
    assert browser.execute_script(VISIBLE_LEDGER_JS, box) == stepper.ledger()
    play.click()  # at the end, Play starts again from the first frame
    WebDriverWait(browser, 10).until(lambda _: frame(box) < last_frame(stepper))
    play.click()


LABELS = ["<!--<script", "</script><script>alert(1)</script>", "]]>", "a\u2028b\u2029", "&amp;", "x\x00y\x01",
          "s\ud800", "t\x85\x7f", "line\nbreak"]


@pytest.mark.parametrize("label", LABELS)
def test_any_label_is_shown_as_written(browser, tmp_path, label) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    a = Value(2.0, label=label)
    loss = a * a + a
    loss.label = "L"
    stepper = Stepper(loss)
    box = open_page(browser, stepper, tmp_path)
    press(browser, Keys.END)
    assert frame(box) == last_frame(stepper)  # the script ran to the end
    assert browser.execute_script(VISIBLE_LEDGER_JS, box) == [visible(line) for line in stepper.ledger()]
    press(browser, Keys.HOME, Keys.ARROW_RIGHT)
    caption = box.find_element(By.CSS_SELECTOR, ".al-caption").get_attribute("textContent")
    name = visible(stepper.names[a])  # control characters and lone surrogates: escaped or shown as �
    assert caption.startswith(f"forward 1 of 2: n1 = {name} * {name}")


def test_micrograds_demo_network_steps_to_the_end_uncollapsed(browser, tmp_path) -> None:
    from selenium.webdriver.common.keys import Keys

    loss, model = demo_network()
    stepper = Stepper(loss, params=model)
    assert count_drawn(stepper.order, hide_constants=True) == 473
    box = open_page(browser, stepper, tmp_path)
    ids = node_ids(stepper.order)
    n_forward = last_frame(stepper) - len(stepper) - 1
    press(browser, Keys.ARROW_RIGHT * (n_forward + 1))  # through the forward pass, to the seed
    assert box.get_attribute("data-current") == ids[loss]
    assert browser.execute_script(VISIBLE_LEDGER_JS, box) == []
    for k in range(len(stepper)):
        press(browser, Keys.ARROW_RIGHT)
        assert box.get_attribute("data-current") == ids[stepper[k].node]
        if k % 17 == 0:
            assert browser.execute_script(VISIBLE_LEDGER_JS, box) == stepper.ledger(k)
    assert frame(box) == last_frame(stepper)
    assert browser.execute_script(VISIBLE_LEDGER_JS, box) == stepper.ledger()
    grads = browser.execute_script("""
        var out = {};
        arguments[0].querySelectorAll('g.node').forEach(function (g) {
          var t = Array.from(g.querySelectorAll('text')).find(t => t.textContent.startsWith('grad '));
          if (t) out[g.querySelector('title').textContent] = t.textContent; });
        return out;""", box)
    for p in model.parameters():
        assert grads[ids[p]] == f"grad {fmt(p.grad)} ✓"
