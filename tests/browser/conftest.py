"""Browser tests: the real ``herald api`` on a loopback port, driven by Debian's headless
Chromium through Selenium (``scripts/test`` installs chromium and chromium-driver).

One browser serves a whole module; each test gets its own server and database. The
browser tests run on SQLite only: the pages' queries are the same on PostgreSQL, which the
integration tests of the console cover.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from support.databases import migrated_sqlite
from support.processes import free_port, start, stop, wait_http_ok

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS_ENV = "HERALD_SCREENSHOTS"
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``screenshots`` rewrite docs/console/, so they run only when
    ``scripts/console-screenshots`` asks (``HERALD_SCREENSHOTS=1``); otherwise deselected."""
    if os.environ.get(SCREENSHOTS_ENV) == "1":
        return
    shots = [item for item in items if item.get_closest_marker("screenshots")]
    if shots:
        config.hook.pytest_deselected(items=shots)
        items[:] = [item for item in items if item not in shots]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A migrated SQLite file (overrides the suite's SQLite/PostgreSQL parametrization)."""
    return migrated_sqlite(str(tmp_path / "herald.db"))


@pytest.fixture
def server(settings_env: dict[str, str]) -> Iterator[str]:
    """``herald api`` on a free loopback port; yields its base URL."""
    port = free_port()
    process = start(settings_env, "api", "--host", "127.0.0.1", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(f"{base}/healthz", process)
        yield base
    finally:
        stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """A headless Chromium for the module, logging the page's console."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("chromium and chromium-driver are missing: run scripts/test to install them")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--disable-gpu",
        "--no-first-run",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser: webdriver.Chrome, server: str) -> webdriver.Chrome:
    """The module's browser with no cookies and an empty console log, on this test's server."""
    browser.get(f"{server}/console/sign-in")
    browser.delete_all_cookies()
    browser.get_log("browser")
    return browser
