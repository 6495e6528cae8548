"""The Blocklists page in a real browser: reached from the navigation, it shows a sending
IP listed by a zone the loopback DNS server serves, out of rotation, with no console error
and nothing to scroll sideways on a phone."""

from __future__ import annotations

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from herald_service.blocklists.service import check_round
from herald_service.dns import make_resolver
from herald_service.storage.types import utcnow
from support.browser import console_errors, sign_in, submit
from support.console import add_user
from support.harness import Herald
from support.processes import free_port, start, stop, wait_http_ok


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "HERALD_SENDING_IPS": "127.0.0.10", "HERALD_DNSBL_ZONES": "zen.test"}


async def test_a_listed_ip_shows_out_of_rotation(
    herald: Herald, settings_env: dict[str, str], browser: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("lists.example")
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    herald.dns.add_a("10.0.0.127.zen.test", "127.0.0.4")
    resolver = make_resolver(herald.settings, cache=False)
    await check_round(herald.runtime.sessions, herald.settings, resolver, utcnow())

    port = free_port()
    process = start(settings_env, "api", "--host", "127.0.0.1", "--port", str(port))
    server = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(f"{server}/healthz", process)
        browser.get(f"{server}/console/sign-in")
        browser.delete_all_cookies()
        browser.get_log("browser")
        sign_in(browser, server, "ops@example.com")
        submit(browser, browser.find_element(By.LINK_TEXT, "Blocklists"))
        assert browser.find_element(By.CSS_SELECTOR, "h1").text == "Blocklists"
        section = browser.find_element(By.CSS_SELECTOR, 'section[data-ip="127.0.0.10"]')
        assert section.find_element(By.CSS_SELECTOR, ".ip-out").text.lower() == "out of rotation"
        row = section.find_element(By.CSS_SELECTOR, 'tr[data-zone="zen.test"]')
        cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
        assert cells[:3] == ["zen.test", "listed", "127.0.0.4"]
        browser.set_window_size(390, 844)
        try:
            browser.refresh()
            assert browser.execute_script(
                "return document.documentElement.scrollWidth <= window.innerWidth;"
            )
        finally:
            browser.set_window_size(1280, 900)
        assert console_errors(browser) == []
    finally:
        stop(process)
