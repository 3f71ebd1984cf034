"""Headless Chromium for the browser tests: one start-up with the flags this machine needs.

A test module marks itself with `pytestmark = needs_chromium` (skipped where there is no Chromium)
and opens a driver in a fixture with `with chromium((1400, 900)) as driver: yield driver`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = "no Chromium binary: install it to run this test (`.ci/system-deps.sh test`)"
needs_chromium = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]


@contextmanager
def chromium(window_size: tuple[int, int] = (1500, 950), *, javascript: bool = True) -> Iterator[Any]:
    """A headless Chromium that keeps the page's console log (`driver.get_log("browser")`), in a
    throwaway profile (nothing written to the home directory), quit and cleaned up on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # a Chromium without its driver is a broken install, not a missing optional tool: fail, don't skip
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not Path(driver_path).exists():
        pytest.fail("Chromium is installed but chromedriver is not: `sudo apt-get install chromium-driver`")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="autograd-lite-chromium-")
    width, height = window_size
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:  # like a static export whose viewer strips scripts
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
