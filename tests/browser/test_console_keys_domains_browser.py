"""The API keys and Domains pages in a real browser: a key created in the console, copied
with its button, works against the API until it is revoked in the console; a domain's
records are shown with copy buttons."""

from __future__ import annotations

import time

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By

from support.browser import console_errors, copy, sign_in, submit
from support.console import add_user
from support.harness import Herald, Tenant


def send(base: str, tenant: Tenant, token: str) -> httpx.Response:
    body = {
        "from": f"app@{tenant.domain}",
        "to": ["user@receiver.example"],
        "subject": "With a console key",
        "text": "hello",
    }
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(f"{base}/v1/messages", json=body, headers=headers, timeout=10)


async def test_create_copy_use_and_revoke_a_key(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("keys.example")
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    page.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": server, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    sign_in(page, server, "ops@example.com")
    submit(page, page.find_element(By.LINK_TEXT, "API keys"))
    page.find_element(By.ID, "k-name").send_keys("browser app")
    submit(page, page.find_element(By.CSS_SELECTOR, "form.add button[type=submit]"))
    assert page.find_element(By.CSS_SELECTOR, "h1").text == "Key created"

    copied = copy(page, page.find_element(By.CSS_SELECTOR, "button[data-copy=new-key]"))
    shown = page.find_element(By.ID, "new-key").get_attribute("value")
    assert copied is not None and copied == shown and copied.startswith("hrld_")
    assert send(server, tenant, copied).status_code == 202

    submit(page, page.find_element(By.LINK_TEXT, "Back to the keys"))
    assert copied not in page.page_source
    row = page.find_element(By.XPATH, "//tr[td[contains(., 'browser app')]]")
    submit(page, row.find_element(By.PARTIAL_LINK_TEXT, "Revoke"))
    submit(page, page.find_element(By.CSS_SELECTOR, "button.danger"))
    assert "Key revoked" in page.find_element(By.CSS_SELECTOR, "[role=status]").text

    deadline = time.monotonic() + 10  # every API process refuses it within five seconds
    answer = send(server, tenant, copied)
    while answer.status_code != 401 and time.monotonic() < deadline:
        time.sleep(0.5)
        answer = send(server, tenant, copied)
    assert answer.status_code == 401
    assert send(server, tenant, tenant.api_key).status_code == 202  # the others still work
    assert console_errors(page) == []


async def test_open_a_domain_and_copy_a_record(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("records.example")
    await add_user(herald.settings.database_url, "v@example.com", "viewer", tenant.account_id)
    page.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": server, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    sign_in(page, server, "v@example.com")
    submit(page, page.find_element(By.LINK_TEXT, "Domains"))
    submit(page, page.find_element(By.LINK_TEXT, "records.example"))
    assert page.find_element(By.CSS_SELECTOR, "h1").text == "records.example"

    expected = httpx.get(
        f"{server}/v1/domains/{tenant.domain_id}", headers=tenant.headers, timeout=10
    ).json()["records"]
    rows = page.find_elements(By.CSS_SELECTOR, "table.records tbody tr")
    assert len(rows) == len(expected)
    for row, record in zip(rows, expected, strict=True):
        assert row.find_element(By.CSS_SELECTOR, "td[data-label=Type]").text == record["type"]
        assert row.find_element(By.CSS_SELECTOR, "td[data-label=Host] code").text == record["host"]
    dkim = next(i for i, r in enumerate(expected) if r["purpose"] == "dkim")
    button = rows[dkim].find_element(By.CSS_SELECTOR, "td[data-label=Copy] button")
    assert copy(page, button) == expected[dkim]["value"]
    assert page.find_elements(By.CSS_SELECTOR, "form[action$='/verify']") == []  # a viewer
    assert console_errors(page) == []
