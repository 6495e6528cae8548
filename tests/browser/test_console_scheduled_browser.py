"""The Scheduled page in a real browser: an admin sees a scheduled message with its due
time and recipients and cancels it after confirming (it then is ``canceled`` in the API);
a viewer sees the list without any way to cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By

from support.browser import console_errors, sign_in, submit
from support.console import add_user
from support.harness import Herald, Tenant


def schedule(base: str, tenant: Tenant, subject: str, send_at: datetime) -> str:
    body = {
        "from": f"app@{tenant.domain}",
        "to": ["ann@receiver.example", "bob@receiver.example"],
        "subject": subject,
        "text": "hello",
        "send_at": send_at.isoformat(),
    }
    response = httpx.post(f"{base}/v1/messages", json=body, headers=tenant.headers, timeout=10)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def test_an_admin_cancels_a_scheduled_message_and_a_viewer_cannot(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("scheduled.example")
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    await add_user(herald.settings.database_url, "v@example.com", "viewer", tenant.account_id)
    due = (datetime.now(UTC) + timedelta(hours=5)).replace(microsecond=0)
    later = schedule(server, tenant, "Later reminder", due + timedelta(hours=1))
    first = schedule(server, tenant, "First reminder", due)

    sign_in(page, server, "ops@example.com")
    submit(page, page.find_element(By.LINK_TEXT, "Scheduled"))
    assert page.find_element(By.CSS_SELECTOR, "h1").text == "Scheduled"
    rows = page.find_elements(By.CSS_SELECTOR, "table.scheduled tbody tr")
    assert [r.get_attribute("data-id") for r in rows] == [first, later]
    assert due.strftime("%Y-%m-%d %H:%M:%S") in rows[0].text
    assert "bob@receiver.example" in rows[0].text
    badges = rows[0].find_elements(By.CSS_SELECTOR, ".status-scheduled")
    assert [b.text for b in badges] == ["scheduled", "scheduled"]

    # The message page says when it goes, and links to the cancel.
    submit(page, rows[0].find_element(By.LINK_TEXT, "First reminder"))
    assert page.find_element(By.ID, "message-status").text == "scheduled"
    summary = page.find_element(By.CSS_SELECTOR, "dl.summary").text
    assert f"Scheduled for\n{due.strftime('%Y-%m-%d %H:%M:%S')} UTC" in summary
    submit(page, page.find_element(By.PARTIAL_LINK_TEXT, "Cancel"))
    assert page.find_element(By.CSS_SELECTOR, "h1").text == "Cancel “First reminder”?"
    submit(page, page.find_element(By.CSS_SELECTOR, "button.danger"))
    assert "Message canceled" in page.find_element(By.CSS_SELECTOR, "[role=status]").text
    rows = page.find_elements(By.CSS_SELECTOR, "table.scheduled tbody tr")
    assert [r.get_attribute("data-id") for r in rows] == [later]
    got = httpx.get(f"{server}/v1/messages/{first}", headers=tenant.headers, timeout=10).json()
    assert got["status"] == "canceled"
    assert "message.canceled" in [e["type"] for e in got["events"]]

    # The message page shows the new status with its badge.
    page.get(f"{server}/console/messages/{first}")
    assert page.find_element(By.ID, "message-status").text == "canceled"
    assert "status-canceled" in (
        page.find_element(By.ID, "message-status").get_attribute("class") or ""
    )
    assert console_errors(page) == []

    page.delete_all_cookies()
    sign_in(page, server, "v@example.com")
    page.get(f"{server}/console/scheduled")
    rows = page.find_elements(By.CSS_SELECTOR, "table.scheduled tbody tr")
    assert [r.get_attribute("data-id") for r in rows] == [later]
    assert page.find_elements(By.PARTIAL_LINK_TEXT, "Cancel") == []
    # Posting anyway (the viewer's own session and CSRF token) is refused.
    page.get(f"{server}/console/scheduled/{later}/cancel?account={tenant.account_id}")
    refused = page.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const form = document.querySelector('form[action$="/cancel"]');
        const data = new URLSearchParams(new FormData(form));
        fetch(form.action, {method: "POST", body: data}).then((r) => done(r.status));
        """
    )
    assert refused == 403
    assert (
        httpx.get(f"{server}/v1/messages/{later}", headers=tenant.headers, timeout=10).json()[
            "status"
        ]
        == "scheduled"
    )
