"""Signing in to the console with an admin API key in a real browser (the setting is on,
as under ``herald dev``): the key opens the account's pages as an admin, and revoking it
sends the browser back to the sign-in page at its next click."""

from __future__ import annotations

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from support.browser import console_errors, submit
from support.harness import Herald


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """The suite's settings with key sign-in on."""
    return {**settings_env, "HERALD_CONSOLE_KEY_SIGN_IN": "1"}


async def test_sign_in_with_the_key_until_it_is_revoked(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("keyed.example")
    page.get(f"{server}/console/sign-in")
    page.find_element(By.ID, "api-key").send_keys(tenant.api_key)
    submit(page, page.find_element(By.XPATH, "//button[normalize-space()='Sign in with the key']"))
    assert page.find_element(By.CSS_SELECTOR, ".who").text == f"API key {tenant.key_id} · admin"

    submit(page, page.find_element(By.LINK_TEXT, "Domains"))
    assert page.find_elements(By.LINK_TEXT, "keyed.example")
    revoked = httpx.delete(
        f"{server}/v1/api-keys/{tenant.key_id}", headers=tenant.headers, timeout=10
    )
    assert revoked.status_code == 204, revoked.text

    submit(page, page.find_element(By.LINK_TEXT, "API keys"))
    assert page.current_url.startswith(f"{server}/console/sign-in?next=")
    assert page.find_element(By.CSS_SELECTOR, "h1").text == "Sign in"
    assert console_errors(page) == []
