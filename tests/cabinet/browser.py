"""A real headless Chromium (Debian's ``chromium`` and ``chromium-driver``) driven by Selenium.

Selenium is told where both programs are, so its manager never looks for (or downloads) a
driver or a browser; the profile is a fresh folder, and every background feature that would
reach the network (sync, component updates, field trials) is off. Without Chromium the test
fails under CI and is skipped, with the reason printed, on a laptop (like Dovecot's tests).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def _is_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_chromium() -> tuple[str, str]:
    """Paths of chromium and chromedriver; fail under CI when missing, else skip."""
    browser = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    driver = CHROMEDRIVER if os.access(CHROMEDRIVER, os.X_OK) else shutil.which("chromedriver")
    missing = []
    try:
        import selenium  # noqa: F401  (only whether it is installed)
    except ImportError:
        missing.append("the selenium package (pip install -e '.[dev]')")
    if not browser or not driver:
        missing.append(
            "chromium/chromedriver (Debian packages chromium and chromium-driver; scripts/test "
            "installs them when run as root)"
        )
    if not missing:
        assert browser and driver
        return browser, driver
    reason = "not installed: " + "; ".join(missing)
    if _is_ci():
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    print(f"SKIP: {reason}")
    pytest.skip(reason)
    raise AssertionError("unreachable")  # pragma: no cover


def start_chromium(profile: Path) -> Any:
    """A headless Chromium with a fresh profile in ``profile``; the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--metrics-recording-only",
        "--disable-features=OptimizationHints,MediaRouter,Translate",
        f"--user-data-dir={profile}",
        "--window-size=1200,900",
    ):
        options.add_argument(flag)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(15)
    return chrome
