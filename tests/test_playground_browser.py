"""The playground as a user meets it: a Jupyter server (Voilà) runs a notebook, headless Chromium
shows it, we press Train and Pause and watch the readout and the decision boundary."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import chromium, needs_chromium

pytestmark = needs_chromium
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def server(tmp_path):
    """Voilà on 127.0.0.1, a free port and a token, serving a notebook that shows a Playground."""
    pytest.importorskip("voila")
    nbformat = pytest.importorskip("nbformat")
    cell = nbformat.v4.new_code_cell("from autograd_lite.playground import Playground\n"
                                     "playground = Playground()\nplayground")
    notebook = nbformat.v4.new_notebook(cells=[cell], metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(notebook, tmp_path / "playground.ipynb")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_DATA_DIR": str(tmp_path / "data"),
           "MPLBACKEND": "Agg"}  # nothing written to the home directory
    log = (tmp_path / "voila.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "voila", "playground.ipynb", "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1", f"--token={token}"], cwd=tmp_path, env=env, stdout=log,
        stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/?token={token}"
        deadline = time.monotonic() + 60
        while "is running at" not in (tmp_path / "voila.log").read_text():
            assert process.poll() is None, (tmp_path / "voila.log").read_text()
            assert time.monotonic() < deadline, "Voilà did not start within a minute"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium((1500, 950)) as driver:
        yield driver


def test_train_moves_the_readout_and_the_boundary_and_pause_answers(server, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server)
    WebDriverWait(browser, 90).until(lambda d: d.find_elements(By.CSS_SELECTOR, "button.al-train"))

    def find(css: str):
        return browser.find_element(By.CSS_SELECTOR, css)

    def readout() -> str:
        return find(".al-readout").text

    def step() -> int:
        return int(re.search(r"step (\d+)", readout()).group(1))

    def train_loss() -> str:
        return re.search(r"train loss ([\d.]+)", readout()).group(1)

    assert readout().startswith("epoch 0, step 0: train loss")
    boundary, loss = find("img.al-boundary").get_attribute("src"), train_loss()
    find("button.al-train").click()
    WebDriverWait(browser, 30).until(lambda d: "(training)" in readout() and step() > 0
                                     and train_loss() != loss
                                     and find("img.al-boundary").get_attribute("src") != boundary)
    assert find("button.al-train").get_attribute("disabled")  # Train is greyed out while it runs
    seen = step()
    WebDriverWait(browser, 30).until(lambda d: step() > seen)  # the page stays live: it keeps moving

    find("button.al-pause").click()
    clicked = time.monotonic()
    WebDriverWait(browser, 10, poll_frequency=0.05).until(lambda d: "(training)" not in readout())
    answered = time.monotonic() - clicked
    paused_at = step()
    time.sleep(0.5)
    assert step() == paused_at and find("button.al-train").get_attribute("disabled") is None
    browser.save_screenshot(str(tmp_path / "playground.png"))
    assert answered < 1.0, f"Pause took {answered:.2f} s to answer"
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and e["source"] != "network"]
    assert severe == []  # (the page's web-font links are network errors: the test machine is offline)
