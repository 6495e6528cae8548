"""The Message page in a real browser: opened from Activity, attempts shown, the HTML part
rendered in a sandboxed frame where no script runs."""

from __future__ import annotations

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from simnet.fixtures import SMTPServerFactory
from support.browser import console_errors, row, sign_in, submit
from support.console import add_user
from support.harness import Herald

HTML = (
    '<h1 id="greeting" style="color: rgb(0, 128, 0)">Hello from the preview</h1>'
    "<script>document.getElementById('greeting').textContent = 'scripted';</script>"
)


async def test_open_a_delivered_message_from_activity(
    herald: Herald,
    server: str,
    page: webdriver.Chrome,
    smtp_server_factory: SMTPServerFactory,
) -> None:
    tenant = await herald.create_tenant("shop.example")
    herald.add_mx("receiver.example", (10, "mx1.receiver.example", "127.0.0.2"))
    smtp_server_factory("127.0.0.2")
    await add_user(herald.settings.database_url, "ops@example.com", "viewer", tenant.account_id)
    body = {
        "from": f"shop@{tenant.domain}",
        "to": ["user@receiver.example"],
        "subject": "Order shipped",
        "text": "Your order is on its way.",
        "html": HTML,
    }
    response = httpx.post(f"{server}/v1/messages", json=body, headers=tenant.headers, timeout=10)
    assert response.status_code == 202, response.text
    message_id = response.json()["id"]
    await herald.wait_queued([message_id])
    assert await herald.drain_queue() == 1

    sign_in(page, server, "ops@example.com")
    wait = WebDriverWait(page, 10)
    listed = wait.until(expected_conditions.presence_of_element_located(row(message_id)))
    submit(page, listed.find_element(By.LINK_TEXT, "Order shipped"))
    assert page.current_url == f"{server}/console/messages/{message_id}"
    assert page.find_element(By.ID, "message-status").text == "delivered"
    attempt = page.find_element(By.CSS_SELECTOR, "tr.attempt")
    assert "mx1.receiver.example" in attempt.text and "250" in attempt.text

    frame = page.find_element(By.CSS_SELECTOR, "iframe.preview")
    assert frame.get_attribute("sandbox") == ""  # present, allowing nothing
    page.switch_to.frame(frame)
    try:
        greeting = wait.until(expected_conditions.presence_of_element_located((By.ID, "greeting")))
        assert greeting.text == "Hello from the preview"  # the script never ran
        assert greeting.value_of_css_property("color") == "rgba(0, 128, 0, 1)"  # inline style
    finally:
        page.switch_to.default_content()
    errors = console_errors(page)
    assert errors == []
