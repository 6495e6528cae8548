"""A domain's tracking settings in a real browser: an admin switches opens, clicks and
one-click unsubscribe on in the Tracking form, the next message from the domain is tracked,
and its open, click and unsubscribe (made over HTTP as a recipient's mail client would)
appear in the message page's timeline with their details; a viewer sees the settings
without a form."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By

from support.browser import console_errors, sign_in, submit
from support.console import add_user
from support.harness import Herald, Tenant

LINK = "https://home.example/orders/7?ref=mail#top"
HTML = f'<html><body><p><a href="{LINK.replace("&", "&amp;")}">Your order</a></p></body></html>'
PERSON = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"


def open_domain(driver: webdriver.Chrome, name: str) -> None:
    submit(driver, driver.find_element(By.LINK_TEXT, "Domains"))
    submit(driver, driver.find_element(By.LINK_TEXT, name))


def ticked(driver: webdriver.Chrome) -> dict[str, bool]:
    return {
        name: driver.find_element(By.ID, f"tracking-{name}").is_selected()
        for name in ("opens", "clicks", "unsubscribe")
    }


def send_tracked(server: str, tenant: Tenant) -> tuple[str, dict[str, str]]:
    """Send through the API without tracking options; return the message id and the
    paths of its tracked link, pixel and unsubscribe URL (whatever host they name)."""
    body = {
        "from": f"shop@{tenant.domain}",
        "to": "ann@receiver.example",
        "subject": "Your order",
        "html": HTML,
    }
    sent = httpx.post(f"{server}/v1/messages", json=body, headers=tenant.headers, timeout=10)
    assert sent.status_code == 202, sent.text
    message_id: str = sent.json()["id"]
    raw = httpx.get(f"{server}/v1/messages/{message_id}/raw", headers=tenant.headers, timeout=10)
    parsed = message_from_bytes(raw.content, policy=policy.default)
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    (click,) = re.findall(r'href="https?://[^/"]+(/t/c/[^"]+)"', html)
    (pixel,) = re.findall(r'src="https?://[^/"]+(/t/o/[^"]+)"', html)
    (unsubscribe,) = re.findall(r"<https?://[^/>]+(/u/[^>]+)>", str(parsed["List-Unsubscribe"]))
    return message_id, {"click": click, "pixel": pixel, "unsubscribe": unsubscribe}


def page_errors(driver: webdriver.Chrome) -> list[str]:
    """The page's errors, but Chromium's own request for a favicon (the console has none)."""
    return [e for e in console_errors(driver) if "/favicon.ico " not in e]


def timeline_entry(driver: webdriver.Chrome, event: str) -> dict[str, str]:
    """The details one timeline entry shows, by name, and its ``machine`` badge."""
    (item,) = driver.find_elements(By.CSS_SELECTOR, f'ol.timeline li[data-event="{event}"]')
    shown = {
        code.get_attribute("data-detail") or "": code.text
        for code in item.find_elements(By.CSS_SELECTOR, "code.detail")
    }
    badges = item.find_elements(By.CSS_SELECTOR, ".badge-machine")
    shown["badge"] = badges[0].text if badges else ""
    return shown


async def test_an_admin_turns_tracking_on_and_the_timeline_shows_what_followed(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("home.example")
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    sign_in(page, server, "ops@example.com")
    open_domain(page, "home.example")
    assert ticked(page) == {"opens": False, "clicks": False, "unsubscribe": False}
    for name in ("opens", "clicks", "unsubscribe"):
        page.find_element(By.ID, f"tracking-{name}").click()
    submit(
        page, page.find_element(By.XPATH, "//button[normalize-space()='Save tracking settings']")
    )
    assert "Tracking settings saved" in page.find_element(By.ID, "domain-notice").text
    assert ticked(page) == {"opens": True, "clicks": True, "unsubscribe": True}
    shown = httpx.get(f"{server}/v1/domains/{tenant.domain_id}", headers=tenant.headers).json()
    assert (shown["tracking"], shown["unsubscribe"]) == (
        {"opens": True, "clicks": True, "host": None},
        True,
    )

    message_id, paths = send_tracked(server, tenant)
    with httpx.Client(base_url=server, follow_redirects=False, timeout=10) as web:
        followed = web.get(paths["click"], headers={"User-Agent": PERSON})
        assert followed.status_code == 302 and followed.headers["location"] == LINK
        assert web.get(paths["pixel"], headers={"User-Agent": "curl/8.5.0"}).status_code == 200
        done = web.post(paths["unsubscribe"], data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200
    wanted = {"message.clicked", "message.opened", "message.unsubscribed"}
    deadline = time.monotonic() + 10
    while True:  # the endpoints write their events in batches, a moment after answering
        message = httpx.get(f"{server}/v1/messages/{message_id}", headers=tenant.headers).json()
        if wanted <= {e["type"] for e in message["events"]} or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    page.get(f"{server}/console/messages/{message_id}")
    clicked = timeline_entry(page, "message.clicked")
    assert clicked["url"] == f"url={LINK}"
    assert clicked["ip"] == "ip=127.0.0.0/24" and clicked["user_agent"] == f"user_agent={PERSON}"
    assert clicked["badge"] == "" and "link" not in clicked, "a person; the index is not shown"
    opened = timeline_entry(page, "message.opened")
    assert opened["badge"] == "machine" and opened["user_agent"] == "user_agent=curl/8.5.0"
    unsubscribed = timeline_entry(page, "message.unsubscribed")
    assert unsubscribed["method"] == "method=one-click"
    item = page.find_element(By.CSS_SELECTOR, 'li[data-event="message.clicked"]')
    assert "ann@receiver.example" in item.text and "True" not in item.text
    assert page_errors(page) == []

    open_domain(page, "home.example")
    page.find_element(By.ID, "tracking-clicks").click()  # clicks off, the rest kept
    submit(
        page, page.find_element(By.XPATH, "//button[normalize-space()='Save tracking settings']")
    )
    assert ticked(page) == {"opens": True, "clicks": False, "unsubscribe": True}
    after = httpx.post(
        f"{server}/v1/messages",
        json={
            "from": f"shop@{tenant.domain}",
            "to": "bob@receiver.example",
            "subject": "Hi",
            "html": HTML,
        },
        headers=tenant.headers,
    )
    raw = httpx.get(f"{server}/v1/messages/{after.json()['id']}/raw", headers=tenant.headers)
    assert b"/t/c/" not in raw.content and b"/t/o/" in raw.content, "this process forgot it"


async def test_a_viewer_sees_the_settings_without_a_form(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("home.example")
    patched = httpx.patch(
        f"{server}/v1/domains/{tenant.domain_id}",
        json={"tracking": {"clicks": True}},
        headers=tenant.headers,
    )
    assert patched.status_code == 200, patched.text
    await add_user(herald.settings.database_url, "v@example.com", "viewer", tenant.account_id)
    sign_in(page, server, "v@example.com")
    open_domain(page, "home.example")
    assert page.find_elements(By.CSS_SELECTOR, "form[action$='/tracking']") == []
    assert page.find_elements(By.CSS_SELECTOR, "#tracking input") == []
    values = {
        name: page.find_element(By.ID, f"tracking-{name}").text
        for name in ("opens", "clicks", "unsubscribe")
    }
    assert values == {"opens": "off", "clicks": "on", "unsubscribe": "off"}
    assert page_errors(page) == []
