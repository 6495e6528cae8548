"""The Webhooks pages in a real browser: add an endpoint for a loopback receiver, send it a
test event, and read the delivery with the receiver's answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from standardwebhooks import Webhook

from support.browser import console_errors, sign_in, submit
from support.console import add_user
from support.harness import Herald
from support.webhooks import Answer, WebhookReceiver, drain_webhooks


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """The server may deliver to loopback receivers."""
    return {**settings_env, "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver("127.0.0.1")
    server.default = Answer(200, body=b"received by the test receiver")
    yield server
    server.stop()


async def test_add_endpoint_send_test_event_and_see_the_response(
    herald: Herald, server: str, page: webdriver.Chrome, receiver: WebhookReceiver
) -> None:
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    sign_in(page, server, "ops@example.com")
    submit(page, page.find_element(By.LINK_TEXT, "Webhooks"))
    assert "No webhook endpoints yet." in page.page_source

    page.find_element(By.ID, "n-url").send_keys(receiver.url())
    page.find_element(By.CSS_SELECTOR, 'input[value="message.bounced"]').click()
    submit(page, page.find_element(By.XPATH, "//button[text()='Add endpoint']"))
    secret = page.find_element(By.ID, "secret").text
    assert secret.startswith("whsec_")
    assert page.find_element(By.ID, "state").text == "enabled"

    submit(page, page.find_element(By.XPATH, "//button[text()='Send test event']"))
    assert "Test event queued" in page.find_element(By.CSS_SELECTOR, ".notice").text
    assert await drain_webhooks(herald) == 1
    (request,) = receiver.requests
    assert Webhook(secret).verify(request.body, request.headers)["type"] == "webhook.test"

    page.refresh()
    row = page.find_element(By.CSS_SELECTOR, "tr[data-delivery-id]")
    assert row.find_element(By.CSS_SELECTOR, "td[data-label=Status]").text == "succeeded"
    assert row.find_element(By.CSS_SELECTOR, "td[data-label=Attempts]").text == "1"
    response = row.find_element(By.CSS_SELECTOR, "td[data-label=Response]")
    assert response.find_element(By.CSS_SELECTOR, ".code").text == "200"
    assert response.find_element(By.CSS_SELECTOR, ".excerpt").text == (
        "received by the test receiver"
    )
    response.find_element(By.TAG_NAME, "summary").click()
    assert '"type": "webhook.test"' in response.find_element(By.CSS_SELECTOR, "details pre").text
    assert secret not in page.page_source  # shown once only
    assert console_errors(page) == []
