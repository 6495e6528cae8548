"""Screenshots of every console page at desktop (1280 px) and phone (390 px) widths, saved
to docs/console/ for the README. Opt-in: ``scripts/console-screenshots`` runs it (the
``screenshots`` marker is deselected otherwise, see conftest.py). Each shot also checks the
page does not scroll sideways."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from herald_queue.capture import start_capture_server
from support.browser import send, sign_in, submit
from support.console import add_user
from support.harness import Herald, Tenant
from support.processes import free_port
from support.webhooks import Answer, WebhookReceiver, drain_webhooks

pytestmark = pytest.mark.screenshots

DOCS = Path(__file__).resolve().parents[2] / "docs" / "console"
WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """Loopback receivers allowed; one retry, due at once; capture delivery (the inbox)."""
    return {
        **settings_env,
        "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
        "HERALD_WEBHOOK_RETRY_SCHEDULE": "0s",
        "HERALD_DELIVERY_MODE": "capture",
        "HERALD_CAPTURE_PORT": str(free_port()),
    }


@pytest.fixture
def capture(herald: Herald) -> Iterator[None]:
    settings = herald.settings
    server = start_capture_server(
        herald.engine, settings.capture_host, settings.capture_port, settings.secret_key or ""
    )
    yield
    server.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver("127.0.0.1")
    yield server
    server.stop()


def shoot(driver: webdriver.Chrome, name: str) -> None:
    """Save the whole page at each width; fail if it is wider than the viewport."""
    for label, width in WIDTHS.items():
        metrics = {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 500}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        driver.refresh()
        scroll_width = driver.execute_script("return document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name} scrolls sideways at {width} px ({scroll_width})"
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride", {**metrics, "height": min(height, 4000)}
        )
        driver.save_screenshot(str(DOCS / f"{name}-{label}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


async def seed(herald: Herald, base: str, tenant: Tenant, receiver: WebhookReceiver) -> str:
    """Messages, suppressions and webhook endpoints, one with a delivery that succeeded and
    one that failed; returns that endpoint's id."""
    for subject in ("Your receipt", "Password reset", "Welcome aboard", "Weekly digest"):
        send(base, tenant, subject)
    client = httpx.Client(base_url=base, headers=tenant.headers, timeout=10)
    for email, reason in (("gone@example.org", "hard_bounce"), ("stop@example.org", "manual")):
        client.post("/v1/suppressions", json={"email": email, "reason": reason})
    template = {
        "name": "Receipt",
        "alias": "receipt",
        "subject": "Receipt for {{ first_name }}",
        "html": "<p>Thanks {{ first_name }}</p>{% if vip|default(false) %}<p>VIP</p>{% endif %}",
        "text": "Thanks {{ first_name }}",
    }
    assert client.post("/v1/templates", json=template).status_code == 201
    template_id = client.get("/v1/templates").json()["data"][0]["id"]
    client.patch(f"/v1/templates/{template_id}", json={"subject": "Your receipt, {{ first_name }}"})
    hook = client.post(
        "/v1/webhooks",
        json={"url": receiver.url(), "description": "orders app", "event_types": []},
    )
    assert hook.status_code == 201, hook.text
    client.post("/v1/webhooks", json={"url": receiver.url("/audit"), "enabled": False})
    hook_id: str = hook.json()["id"]
    for answer in (Answer(200, body=b'{"ok": true}'), Answer(500, body=b"upstream timeout")):
        receiver.default = answer
        assert client.post(f"/v1/webhooks/{hook_id}/test").status_code == 202
        assert await drain_webhooks(herald, rounds=3) >= 1
    return hook_id


def send_html(base: str, tenant: Tenant, sandbox: bool = False) -> str:
    """A message with an HTML part, a text part and an attachment, for the Message page."""
    body = {
        "from": {"email": f"app@{tenant.domain}", "name": "Acme"},
        "to": ["user@receiver.example"],
        "subject": "Your receipt #1042",
        "html": '<h1>Thanks for your order</h1><p>Total: <b>42.00 EUR</b></p><img src="https://acme.example/logo.png">',
        "text": "Thanks for your order. Total: 42.00 EUR",
        "tags": ["receipt"],
        "attachments": [
            {
                "filename": "receipt.txt",
                "content": "VG90YWw6IDQyLjAwIEVVUgo=",
                "content_type": "text/plain",
            }
        ],
        "sandbox": sandbox,
    }
    response = httpx.post(f"{base}/v1/messages", json=body, headers=tenant.headers, timeout=10)
    assert response.status_code == 202, response.text
    message_id: str = response.json()["id"]
    return message_id


def schedule_reminder(base: str, tenant: Tenant) -> None:
    """A message scheduled for tomorrow, for the Scheduled page."""
    send_at = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    body = {
        "from": {"email": f"app@{tenant.domain}", "name": "Acme"},
        "to": ["user@receiver.example", "billing@receiver.example"],
        "subject": "Your trial ends tomorrow",
        "text": "Your trial ends tomorrow.",
        "send_at": (send_at + timedelta(days=1)).isoformat(),
    }
    response = httpx.post(f"{base}/v1/messages", json=body, headers=tenant.headers, timeout=10)
    assert response.status_code == 202, response.text


async def test_console_pages(
    herald: Herald,
    server: str,
    page: webdriver.Chrome,
    receiver: WebhookReceiver,
    capture: None,
) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    tenant = await herald.create_tenant("acme.example")
    await add_user(herald.settings.database_url, "ops@acme.example", "admin", tenant.account_id)
    hook_id = await seed(herald, server, tenant, receiver)
    message_id = send_html(server, tenant)
    schedule_reminder(server, tenant)
    domains = httpx.get(f"{server}/v1/domains", headers=tenant.headers, timeout=10).json()
    domain_id: str = domains["data"][0]["id"]

    page.get(f"{server}/console/sign-in")
    shoot(page, "sign-in")
    sign_in(page, server, "ops@acme.example")
    shoot(page, "activity")
    submit(page, page.find_element(By.LINK_TEXT, "Scheduled"))
    shoot(page, "scheduled")
    submit(page, page.find_element(By.LINK_TEXT, "Suppressions"))
    shoot(page, "suppressions")
    submit(page, page.find_element(By.LINK_TEXT, "Templates"))
    shoot(page, "templates")
    submit(page, page.find_element(By.LINK_TEXT, "Receipt"))
    WebDriverWait(page, 10).until(lambda d: d.find_elements(By.ID, "preview-subject"))
    shoot(page, "template")
    submit(page, page.find_element(By.LINK_TEXT, "Webhooks"))
    shoot(page, "webhooks")
    page.get(f"{server}/console/webhooks/{hook_id}")
    shoot(page, "webhook")
    submit(page, page.find_element(By.LINK_TEXT, "API keys"))
    shoot(page, "keys")
    submit(page, page.find_element(By.LINK_TEXT, "Domains"))
    shoot(page, "domains")
    page.get(f"{server}/console/domains/{domain_id}")
    shoot(page, "domain")
    page.get(f"{server}/console/messages/{message_id}")
    shoot(page, "message")
    await herald.wait_queued([message_id])
    await herald.drain_queue()
    send_html(server, tenant, sandbox=True)
    submit(page, page.find_element(By.LINK_TEXT, "Inbox"))
    shoot(page, "inbox")
    submit(page, page.find_element(By.LINK_TEXT, "Your receipt #1042"))
    submit(page, page.find_element(By.ID, "tab-check"))
    shoot(page, "inbox-check")
    submit(page, page.find_element(By.LINK_TEXT, "Overview"))
    shoot(page, "overview")
