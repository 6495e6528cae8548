"""The Inbox page in a real browser, with capture delivery: a captured copy and a sandbox
message listed side by side and live, one opened with its sandboxed preview and its Check
tab, a search, "Delete all" with its confirmation; a viewer can neither see nor post it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from herald_queue.capture import start_capture_server
from support.browser import console_errors, row, sign_in, submit
from support.console import add_user
from support.harness import Herald, Tenant
from support.processes import free_port

HTML = '<h1 id="greeting">Hello from the inbox</h1><p><img src="https://cdn.example/logo.png"></p>'
POST_AS_PAGE = """
const done = arguments[0];
const token = document.querySelector('input[name=csrf_token]').value;
fetch('/console/inbox/delete', {method: 'POST', body: new URLSearchParams({csrf_token: token})})
  .then(r => done(r.status), () => done(null));
"""


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """Capture delivery, to a capture server on a free port."""
    port = str(free_port())
    return {**settings_env, "HERALD_DELIVERY_MODE": "capture", "HERALD_CAPTURE_PORT": port}


@pytest.fixture
def capture(herald: Herald) -> Iterator[None]:
    settings = herald.settings
    server = start_capture_server(
        herald.engine, settings.capture_host, settings.capture_port, settings.secret_key or ""
    )
    yield
    server.stop()


def fits_a_phone(driver: webdriver.Chrome) -> bool:
    """Whether the current page, reloaded 390 px wide, has nothing to scroll sideways."""
    metrics = {"width": 390, "height": 800, "deviceScaleFactor": 1, "mobile": True}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        driver.refresh()
        width: int = driver.execute_script("return document.documentElement.scrollWidth")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.refresh()
    return width <= 390


def read_row(driver: webdriver.Chrome, message_id: str) -> dict[str, str]:
    """A message's row as it is now (text, ``data-inbox``, its link), read in one script:
    htmx replaces the rows every 3 s, so an element found earlier may be gone."""
    script = """
    const tr = document.querySelector(`tr[data-message-id="${arguments[0]}"]`);
    return tr && {
      text: tr.innerText, 'data-inbox': tr.dataset.inbox, href: tr.querySelector('a').href};
    """
    found: dict[str, str] = WebDriverWait(driver, 10).until(
        lambda d: d.execute_script(script, message_id)
    )
    return found


def send(base: str, tenant: Tenant, subject: str, **fields: object) -> str:
    body = {
        "from": {"email": f"app@{tenant.domain}", "name": "Shop Robot"},
        "to": ["user@receiver.example"],
        "subject": subject,
        "text": "hello",
        "html": HTML,
        "tags": ["browser"],
    }
    response = httpx.post(
        f"{base}/v1/messages", json=body | fields, headers=tenant.headers, timeout=10
    )
    assert response.status_code == 202, response.text
    message_id: str = response.json()["id"]
    return message_id


async def test_inbox_lists_opens_checks_searches_and_deletes(
    herald: Herald, server: str, page: webdriver.Chrome, capture: None
) -> None:
    tenant = await herald.create_tenant("shop.example")
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    await add_user(herald.settings.database_url, "look@example.com", "viewer", tenant.account_id)
    delivered = send(server, tenant, "Order shipped")
    await herald.wait_queued([delivered])
    assert await herald.drain_queue() == 1
    trial = send(server, tenant, "Trial receipt", sandbox=True)

    sign_in(page, server, "ops@example.com")
    wait = WebDriverWait(page, 10)
    submit(page, page.find_element(By.LINK_TEXT, "Inbox"))
    captured = read_row(page, delivered)
    copy_path = f"/console/inbox/{captured['data-inbox'].replace('-', '/')}"
    assert "captured" in captured["text"] and "Shop Robot <app@shop.example>" in captured["text"]
    assert "browser" in captured["text"] and "Order shipped" in captured["text"]
    assert "sandbox" in read_row(page, trial)["text"]
    later = send(server, tenant, "Arrived while watching", sandbox=True)
    wait.until(expected_conditions.presence_of_element_located(row(later)))  # live, no reload
    assert fits_a_phone(page)

    assert read_row(page, delivered)["href"] == f"{server}{copy_path}"
    page.get(f"{server}{copy_path}")  # the rows are replaced every 3 s: no stale click
    assert page.find_element(By.CSS_SELECTOR, 'dd[data-header="From"]').text == (
        "Shop Robot <app@shop.example>"
    )
    frame = page.find_element(By.CSS_SELECTOR, "iframe.preview")
    assert frame.get_attribute("sandbox") == ""
    page.switch_to.frame(frame)
    try:
        greeting = wait.until(expected_conditions.presence_of_element_located((By.ID, "greeting")))
        assert greeting.text == "Hello from the inbox"
    finally:
        page.switch_to.default_content()
    assert "images=remote" not in (frame.get_attribute("src") or "")  # blocked until asked
    submit(page, page.find_element(By.ID, "load-images"))
    frame = page.find_element(By.CSS_SELECTOR, "iframe.preview")
    assert (frame.get_attribute("src") or "").endswith("/preview?images=remote")
    submit(page, page.find_element(By.ID, "tab-check"))
    alt = page.find_element(By.CSS_SELECTOR, 'tr.finding[data-check="image_alt"]')
    assert "without alt" in alt.text
    assert page.find_element(By.CSS_SELECTOR, ".signature .dkim-pass").text == "pass"
    assert fits_a_phone(page)
    submit(page, page.find_element(By.ID, "tab-source"))
    assert "Subject: Order shipped" in page.find_element(By.ID, "raw-source").text

    page.get(f"{server}/console/inbox")
    page.find_element(By.ID, "i-q").send_keys("trial")
    submit(page, page.find_element(By.CSS_SELECTOR, "form[role=search] button[type=submit]"))
    shown = page.execute_script(
        "return [...document.querySelectorAll('tr[data-inbox]')].map(r => r.dataset.messageId);"
    )
    assert shown == [trial]

    submit(page, page.find_element(By.ID, "delete-all"))
    submit(page, page.find_element(By.CSS_SELECTOR, "button.danger"))
    assert page.find_element(By.CSS_SELECTOR, ".notice").text == "The inbox is empty."
    assert page.find_elements(By.CSS_SELECTOR, "tr[data-inbox]") == []
    assert console_errors(page) == []

    page.delete_all_cookies()
    send(server, tenant, "After the purge", sandbox=True)
    sign_in(page, server, "look@example.com")
    page.get(f"{server}/console/inbox")
    assert len(page.find_elements(By.CSS_SELECTOR, "tr[data-inbox]")) == 1
    assert page.find_elements(By.ID, "delete-all") == []
    assert page.execute_async_script(POST_AS_PAGE) == 403
    assert len(page.find_elements(By.CSS_SELECTOR, "tr[data-inbox]")) == 1
