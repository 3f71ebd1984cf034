"""Regenerate the README's pictures: `python docs/make_readme_picture.py`.

docs/backprop_stepper.png: seed 003's 2-2-1 sigmoid network (notebook 02) in the HTML stepper,
stopped at the backward step of h1. docs/demo_network_stepper.png: micrograd's demo network,
MLP(2, [16, 16, 1]), one moons example's hinge loss (473 drawn nodes), stepped uncollapsed, at a
neuron of the first layer. Photographed by headless Chromium (Debian's chromium and
chromium-driver, as the tests use).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from autograd_lite import MLP, Value, binary_cross_entropy, hinge, moons, value_sum
from autograd_lite.stepper import Stepper

HERE = Path(__file__).resolve().parent


def network() -> tuple[Value, list[Value]]:
    x1, x2 = Value(0.5, label="x1"), Value(-0.5, label="x2")
    w11, w21 = Value(0.15, label="w11"), Value(-0.2, label="w21")
    w12, w22 = Value(0.25, label="w12"), Value(0.2, label="w22")
    b1, b2 = Value(0.35, label="b1"), Value(-0.35, label="b2")
    v1, v2, c = Value(-0.3, label="w1⁽²⁾"), Value(0.5, label="w2⁽²⁾"), Value(0.1, label="b⁽²⁾")
    z1 = value_sum([w11 * x1, w21 * x2, b1]); z1.label = "z1"  # noqa: E702
    h1 = z1.sigmoid(); h1.label = "h1"  # noqa: E702
    z2 = value_sum([w12 * x1, w22 * x2, b2]); z2.label = "z2"  # noqa: E702
    h2 = z2.sigmoid(); h2.label = "h2"  # noqa: E702
    z = value_sum([v1 * h1, v2 * h2, c]); z.label = "z"  # noqa: E702
    y_pred = z.sigmoid(); y_pred.label = "y_pred"  # noqa: E702
    loss = binary_cross_entropy(y_pred, 1.0); loss.label = "L"  # noqa: E702
    return loss, [w11, w21, w12, w22, b1, b2, v1, v2, c]


def demo_network() -> tuple[Value, MLP]:
    data = moons(100, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    loss = hinge(model(data.X[0]), data.y[0] * 2 - 1)
    loss.label = "loss"
    return loss, model


def frame_of(stepper: Stepper, k: int) -> int:
    """The page's frame of backward step k: after the forward frames and the seed."""
    return sum(1 for n in stepper.order if n._prev) + 1 + k + 1


def main() -> None:
    loss, params = network()
    stepper = Stepper(loss, params=params)
    loss2, model = demo_network()
    demo = Stepper(loss2, params=model)
    profile = tempfile.mkdtemp(prefix="autograd-lite-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000",
                "--hide-scrollbars", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                              options=options)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            driver.get(stepper.save(Path(tmp) / "stepper.html").resolve().as_uri())
            box = driver.find_element(By.CSS_SELECTOR, ".al-stepper")
            at_h1 = next(s.index for s in stepper if s.node.label == "h1")
            show(driver, box, frame_of(stepper, at_h1))
            box.screenshot(str(HERE / "backprop_stepper.png"))
            driver.get(demo.save(Path(tmp) / "demo.html").resolve().as_uri())
            box = driver.find_element(By.CSS_SELECTOR, ".al-stepper")
            show(driver, box, frame_of(demo, len(demo) - 12))
            driver.save_screenshot(str(HERE / "demo_network_stepper.png"))
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def show(driver: webdriver.Chrome, box: object, frame: int) -> None:
    slider = box.find_element(By.CSS_SELECTOR, ".al-slider")  # type: ignore[attr-defined]
    driver.execute_script("arguments[0].value = arguments[1];"
                          "arguments[0].dispatchEvent(new Event('input'));", slider, frame)


if __name__ == "__main__":
    main()
