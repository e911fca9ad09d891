"""Headless Chromium for the browser tests: Debian's `chromium` and `chromium-driver`,
driven by selenium through the driver's explicit path (Selenium Manager never runs,
nothing is downloaded), with every address but loopback unreachable.

Without the two packages the tests are skipped, saying how to install them; with
`CI=true` (`.ci/run`, which installs them) they fail instead, so CI never passes
without having driven a browser.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path(os.environ.get("SUPPORTBOT_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("SUPPORTBOT_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"))
ARTIFACTS_ENV = "SUPPORTBOT_TEST_ARTIFACTS"
DEFAULT_ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WINDOW = "1280,900"


def _missing() -> str | None:
    """Why the browser cannot run here, or None."""
    for binary, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            return f"{binary} not found: apt-get install chromium chromium-driver ({package})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    return None


@pytest.fixture(scope="session")
def browser_ready() -> None:
    """Skip (or, in CI, fail) when chromium, its driver or selenium is missing."""
    why = _missing()
    if why is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run in CI: {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go: $SUPPORTBOT_TEST_ARTIFACTS, else tests/browser/artifacts/."""
    folder = Path(os.environ.get(ARTIFACTS_ENV) or DEFAULT_ARTIFACTS)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def chromium(browser_ready: None, tmp_path: Path) -> Iterator[WebDriver]:
    """A fresh headless Chromium (its own profile) for one test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: never reach out
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI containers run as root, where the sandbox cannot start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW}",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        # Anything but loopback (which Chromium never proxies) goes to a closed port.
        "--proxy-server=http://127.0.0.1:9",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=os.devnull)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)
