"""The SMTP page in a real browser: an operator copies the settings, sees which keys may
serve as the password, and lifts a lock-out made by the real lock-out in Redis."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis
from selenium import webdriver
from selenium.webdriver.common.by import By

from herald_service.submission.lockout import Lockout
from support.browser import console_errors, copy, sign_in, submit
from support.console import add_user
from support.harness import Herald
from support.processes import free_port, start, stop, wait_http_ok


async def test_operator_copies_settings_and_unlocks_an_address(
    herald: Herald, settings_env: dict[str, str], browser: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("smtp.example")
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    redis = Redis.from_url(herald.settings.redis_url)
    lockout = Lockout.from_settings(redis, herald.settings)
    for _ in range(herald.settings.submission_lockout_failures):
        await lockout.record_failure("203.0.113.9")
    assert await lockout.is_locked("203.0.113.9")

    port = free_port()
    env = {**settings_env, "HERALD_OPERATOR_ACCOUNTS": tenant.account_id}
    process = start(env, "api", "--host", "127.0.0.1", "--port", str(port))
    server = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(f"{server}/healthz", process)
        reader = httpx.post(
            f"{server}/v1/api-keys",
            headers=tenant.headers,
            json={"scopes": ["read"], "name": "reporting"},
            timeout=10,
        ).json()
        browser.get(f"{server}/console/sign-in")
        browser.delete_all_cookies()
        browser.get_log("browser")
        browser.execute_cdp_cmd(
            "Browser.grantPermissions",
            {"origin": server, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
        )
        sign_in(browser, server, "ops@example.com")
        submit(browser, browser.find_element(By.LINK_TEXT, "SMTP"))
        assert browser.find_element(By.CSS_SELECTOR, "h1").text == "SMTP"

        host = browser.find_element(By.ID, "smtp-host").text
        assert host == "mta.herald.example"
        assert copy(browser, browser.find_element(By.CSS_SELECTOR, "[data-copy=smtp-host]")) == host
        assert browser.find_element(By.ID, "smtp-port").text == "587"
        assert browser.find_element(By.ID, "smtp-username").text == "apikey"

        keys = browser.find_elements(By.CSS_SELECTOR, "table.smtp-keys tbody tr[data-key-id]")
        assert [k.get_attribute("data-key-id") for k in keys] == [tenant.key_id]
        assert tenant.api_key.startswith(keys[0].find_element(By.TAG_NAME, "code").text[:-1])
        assert reader["id"] not in browser.page_source  # a read-only key cannot send

        row = browser.find_element(By.CSS_SELECTOR, 'tr[data-address="203.0.113.9"]')
        submit(browser, row.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        assert "Address unlocked" in browser.find_element(By.CSS_SELECTOR, "[role=status]").text
        assert browser.find_elements(By.CSS_SELECTOR, 'tr[data-address="203.0.113.9"]') == []
        assert "No address is locked out" in browser.page_source
        assert not await lockout.is_locked("203.0.113.9")
        assert console_errors(browser) == []
    finally:
        stop(process)
        await redis.aclose()
