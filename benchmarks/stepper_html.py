"""How fast the HTML stepper page is: building it, its size, loading it, and a frame in Chromium.

    python benchmarks/stepper_html.py                  # the four pages below
    python benchmarks/stepper_html.py --quick          # a short chain only: checks the script
    python benchmarks/stepper_html.py --source DIR     # measure the autograd_lite in DIR (an old checkout)
    python benchmarks/stepper_html.py --only chain     # the pages whose name contains "chain"

Pages: a chain of 250 tanh layers (500 backward steps, 1,000 frames), and micrograd's demo network
MLP(2, [16, 16, 1]) on one example's hinge loss, whole and one box per neuron or layer. In headless
Chromium: "step ms" is one Next click with the layout it forces (the mean over a walk through
every frame, one at a time); "painted fps" is how many frames a second the browser paints when
Next is pressed on each of its own frames (60 at most, the display's rate); "play fps" is the
frames autoplay shows per second at its fastest setting (32/s) during the backward pass. Needs
Chromium, chromedriver and selenium (the test extra). The machine may be loaded: compare runs
made one after the other.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

WALK_JS = """
var box = arguments[0], next = box.querySelector('.al-next'), n = +box.querySelector('.al-slider').max;
box.querySelector('.al-first').click();
var t = performance.now();
for (var f = 0; f < n; f++) { next.click(); box.getBoundingClientRect(); }
return (performance.now() - t) / n;
"""
PAINTED_JS = """
var done = arguments[arguments.length - 1], box = arguments[0], next = box.querySelector('.al-next');
var times = [], n = Math.min(60, +box.querySelector('.al-slider').max);
box.querySelector('.al-first').click();
function frame(t) {  // Next on each of the browser's frames (up to 60): how often it can paint one
  times.push(t);
  if (times.length > n) { done(1000 * n / (t - times[0])); return; }
  next.click(); requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
"""


def pages(quick: bool) -> dict[str, Any]:
    from autograd_lite.data import moons
    from autograd_lite.engine import Value
    from autograd_lite.losses import hinge
    from autograd_lite.nn import MLP
    from autograd_lite.stepper import Stepper

    x = Value(0.5, label="x")
    for i in range(20 if quick else 250):
        x = (x * Value(1.01, label=f"w{i}")).tanh()
    x.label = "L"
    found: dict[str, Any] = {f"chain of {20 if quick else 250} tanh": Stepper(x)}
    if quick:
        return found
    data = moons(100, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    loss = hinge(model(data.X[0]), data.y[0] * 2 - 1)
    loss.label = "loss"
    for collapse in (None, "neuron", "layer"):
        with contextlib.suppress(TypeError):  # an old checkout without collapsed stepping
            found[f"demo net, {collapse or 'whole'}"] = Stepper(loss, params=model, collapse=collapse)
    return found


def browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,900",
                f"--user-data-dir={tempfile.mkdtemp(prefix='autograd-lite-bench-')}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                              options=options)
    driver.set_script_timeout(600)
    return driver


def measure(driver: Any, stepper: Any, folder: Path, play_seconds: float) -> dict[str, Any]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    start = time.perf_counter()
    path = stepper.save(folder / "page.html")
    row: dict[str, Any] = {"steps": len(stepper), "build s": time.perf_counter() - start,
                           "MB": path.stat().st_size / 1e6}
    start = time.perf_counter()
    driver.get(path.resolve().as_uri())
    box = driver.find_element(By.CSS_SELECTOR, ".al-stepper")
    row["load s"] = time.perf_counter() - start
    row["step ms"] = driver.execute_script(WALK_JS, box)
    slider = box.find_element(By.CSS_SELECTOR, ".al-slider")
    last = int(slider.get_attribute("max"))
    seed = last - len(stepper)  # the backward pass: from the seed on
    row["painted fps"] = driver.execute_async_script(PAINTED_JS, box)
    driver.execute_script("arguments[0].value = arguments[1];"
                          "arguments[0].dispatchEvent(new Event('input'))", slider, seed)
    Select(box.find_element(By.CSS_SELECTOR, ".al-speed")).select_by_value("32")
    box.find_element(By.CSS_SELECTOR, ".al-play").click()
    begin, t0 = int(box.get_attribute("data-frame")), time.perf_counter()
    time.sleep(min(play_seconds, len(stepper) / 32 * 0.8))
    row["play fps"] = (int(box.get_attribute("data-frame")) - begin) / (time.perf_counter() - t0)
    box.find_element(By.CSS_SELECTOR, ".al-play").click()
    return row


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short chain only")
    parser.add_argument("--only", default="", help="the pages whose name contains this (e.g. chain)")
    parser.add_argument("--source", type=Path, default=HERE.parent, help="the checkout to measure")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.source.resolve()))
    import autograd_lite

    print(f"autograd_lite from {Path(autograd_lite.__file__).parent}", flush=True)
    driver, rows = browser(), []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for name, stepper in pages(args.quick).items():
                if args.only not in name:
                    continue
                row = {"page": name, **measure(driver, stepper, Path(folder), 3.0 if args.quick else 5.0)}
                rows.append(row)
                print("  ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                for k, v in row.items()), flush=True)
    finally:
        driver.quit()
    return rows


if __name__ == "__main__":
    main()
