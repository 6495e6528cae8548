"""The IP pools page in a real browser: an operator finds the pools in the navigation,
starts an IP's warm-up and sees its day and today's count against its cap."""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.common.by import By

from support.browser import console_errors, sign_in, submit
from support.console import add_user
from support.harness import Herald
from support.processes import free_port, start, stop, wait_http_ok


async def test_operator_starts_a_warm_up(
    herald: Herald, settings_env: dict[str, str], browser: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("ips.example")
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    port = free_port()
    env = {
        **settings_env,
        "HERALD_OPERATOR_ACCOUNTS": tenant.account_id,
        "HERALD_SENDING_IPS": "127.0.0.10=mta1.ips.example,127.0.0.11",
        "HERALD_WARMUP_SCHEDULE": "20,40",
    }
    process = start(env, "api", "--host", "127.0.0.1", "--port", str(port))
    server = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(f"{server}/healthz", process)
        browser.get(f"{server}/console/sign-in")
        browser.delete_all_cookies()
        browser.get_log("browser")
        sign_in(browser, server, "ops@example.com")
        submit(browser, browser.find_element(By.LINK_TEXT, "IP pools"))
        assert browser.find_element(By.CSS_SELECTOR, "h1").text == "IP pools"
        row = browser.find_element(By.CSS_SELECTOR, 'tr[data-address="127.0.0.11"]')
        assert "warm" in row.text and "no cap" in row.text
        submit(browser, row.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        assert "Warm-up started" in browser.find_element(By.CSS_SELECTOR, "[role=status]").text
        row = browser.find_element(By.CSS_SELECTOR, 'tr[data-address="127.0.0.11"]')
        assert "day 1 of 2" in row.text and "0 of 20" in row.text
        assert "mta1.ips.example" in browser.page_source
        assert console_errors(browser) == []
    finally:
        stop(process)
