"""The HTML stepper in a real browser: headless Chromium loads the file, we click Next and Prev."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from autograd_lite.engine import Value
from autograd_lite.stepper import Stepper
from autograd_lite.viz import fmt, node_ids
from browser import chromium, needs_chromium

pytestmark = needs_chromium


def seed003() -> tuple[Value, list[Value]]:
    x1, x2 = Value(0.5, label="x1"), Value(-0.5, label="x2")
    w = {k: Value(x, label=k) for k, x in [("w11", 0.15), ("w21", -0.2), ("w12", 0.25), ("w22", 0.2),
                                     ("b1", 0.35), ("b2", -0.35), ("v1", -0.3), ("v2", 0.5), ("b3", 0.1)]}
    h1 = (w["w11"] * x1 + w["w21"] * x2 + w["b1"]).sigmoid()
    h1.label = "h1"
    h2 = (w["w12"] * x1 + w["w22"] * x2 + w["b2"]).sigmoid()
    h2.label = "h2"
    p = (w["v1"] * h1 + w["v2"] * h2 + w["b3"]).sigmoid()
    p.label = "p"
    loss = -p.log()
    loss.label = "L"
    return loss, list(w.values())


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    with chromium((1500, 950), javascript=getattr(request, "param", "") != "no-js") as driver:
        yield driver


def test_next_and_prev_walk_through_forward_and_backward(browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    loss, params = seed003()
    stepper = Stepper(loss, params=params)
    ids = node_ids(stepper.order)
    page = stepper.save(tmp_path / "stepper.html")
    browser.get(page.resolve().as_uri())
    box = browser.find_element(By.CSS_SELECTOR, ".al-stepper")
    assert box.get_attribute("data-frame") == "0"  # the script ran and showed the first frame

    def visible_ledger() -> list[str]:
        return [li.text for li in box.find_elements(By.CSS_SELECTOR, ".al-ledger li") if li.is_displayed()]

    def highlighted() -> list[str]:
        return sorted(g.find_element(By.TAG_NAME, "title").get_attribute("textContent")
                      for g in box.find_elements(By.CSS_SELECTOR, "g.node.al-cur"))

    def grad_text(node: Value) -> str:
        title = f"*[local-name()='title' and text()='{ids[node]}']"
        g = box.find_element(By.XPATH, f".//*[local-name()='g'][{title}]")
        return next(t.get_attribute("textContent") for t in g.find_elements(By.TAG_NAME, "text")
                    if t.get_attribute("textContent").startswith("grad "))

    assert box.get_attribute("data-current") is None and visible_ledger() == []
    nxt, prev = box.find_element(By.CSS_SELECTOR, ".al-next"), box.find_element(By.CSS_SELECTOR, ".al-prev")
    nxt.click()  # forward: the first computed node lights up
    first = stepper.order[[n._prev != () for n in stepper.order].index(True)]
    assert box.get_attribute("data-current") == ids[first]
    assert highlighted() == [ids[first], ids[first] + "op"]
    assert "forward 1 of" in box.find_element(By.CSS_SELECTOR, ".al-caption").text

    n_forward = sum(1 for n in stepper.order if n._prev)
    for _ in range(n_forward):  # to the seed frame: L.grad = 1
        nxt.click()
    assert box.get_attribute("data-current") == ids[loss] and visible_ledger() == []
    assert grad_text(loss) == "grad 1.0 ✓"

    nxt.click()  # backward step 1: the ledger gets its first lines
    step0 = stepper[0]
    assert box.get_attribute("data-current") == ids[step0.node]
    assert visible_ledger() == stepper.ledger(0)
    nxt.click()
    step1 = stepper[1]
    assert box.get_attribute("data-current") == ids[step1.node] != ids[step0.node]
    assert highlighted() == [ids[step1.node], ids[step1.node] + "op"]
    assert visible_ledger() == stepper.ledger(1) and len(stepper.ledger(1)) > len(stepper.ledger(0))
    current = box.find_elements(By.CSS_SELECTOR, ".al-ledger li.al-cur")
    assert [li.text for li in current] == step1.ledger(stepper.names)
    parent = step1.parents[0]
    assert grad_text(parent).startswith(f"grad {fmt(stepper.grads_at(1)[parent])}")

    prev.click()
    assert box.get_attribute("data-current") == ids[step0.node] and visible_ledger() == stepper.ledger(0)

    slider = box.find_element(By.CSS_SELECTOR, ".al-slider")
    browser.execute_script("arguments[0].value = arguments[0].max;"
                           "arguments[0].dispatchEvent(new Event('input'));", slider)
    assert visible_ledger() == stepper.ledger()  # the last frame: the whole ledger, every grad final
    for p in params:
        assert grad_text(p) == f"grad {fmt(p.grad)} ✓"
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []

    browser.execute_script("arguments[0].value = 24; arguments[0].dispatchEvent(new Event('input'));", slider)
    shot = tmp_path / "stepper.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 20_000


@pytest.mark.parametrize("browser", ["no-js"], indirect=True)
def test_without_javascript_the_finished_pass_is_still_shown(browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    loss, params = seed003()
    stepper = Stepper(loss, params=params)
    browser.get(stepper.save(tmp_path / "stepper.html").resolve().as_uri())
    box = browser.find_element(By.CSS_SELECTOR, ".al-stepper")
    assert box.get_attribute("data-frame") is None  # the script did not run
    assert "finished backward pass of L" in box.find_element(By.CSS_SELECTOR, ".al-caption").text
    ledger = [li.text for li in box.find_elements(By.CSS_SELECTOR, ".al-ledger li") if li.is_displayed()]
    assert ledger == stepper.ledger()
    texts = [t.get_attribute("textContent") for t in box.find_elements(By.TAG_NAME, "text")]
    assert f"grad {fmt(params[0].grad)} ✓" in texts


def test_an_input_used_twice_lights_up_both_edges(browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    x = Value(3.0, label="x")
    square = x * x  # two edges x -> (*) with the same title
    y = square + x
    y.label = "y"
    stepper = Stepper(y)
    ids = node_ids(stepper.order)
    browser.get(stepper.save(tmp_path / "stepper.html").resolve().as_uri())
    box = browser.find_element(By.CSS_SELECTOR, ".al-stepper")
    title = f"{ids[x]}->{ids[square]}op"

    def lit(edge_title: str) -> list[bool]:
        return ["al-edge-cur" in (g.get_attribute("class") or "")
                for g in box.find_elements(By.CSS_SELECTOR, "g.edge")
                if g.find_element(By.TAG_NAME, "title").get_attribute("textContent") == edge_title]

    nxt = box.find_element(By.CSS_SELECTOR, ".al-next")
    nxt.click()  # forward 1: x*x is computed, from both of its edges
    assert box.get_attribute("data-current") == ids[square] and lit(title) == [True, True]
    n_forward = sum(1 for n in stepper.order if n._prev)
    for _ in range(n_forward + 2):  # the seed, backward step 1 (at y), step 2 (at x*x)
        nxt.click()
    assert box.get_attribute("data-current") == ids[square] and lit(title) == [True, True]
    assert x.grad == 2 * 3.0 + 1
