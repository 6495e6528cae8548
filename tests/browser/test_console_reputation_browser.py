"""A paused domain in a real browser: the Domains list marks it, its page shows why it was
paused, and an admin's "Resume sending" brings it back to verified."""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.common.by import By

from support.browser import console_errors, sign_in, submit
from support.console import add_user
from support.harness import Herald
from support.paused import REASON, pause_domain


async def test_resume_a_paused_domain(herald: Herald, server: str, page: webdriver.Chrome) -> None:
    tenant = await herald.create_tenant("paused.example")
    url = herald.settings.database_url
    await add_user(url, "ops@example.com", "admin", tenant.account_id)
    await pause_domain(url, tenant.account_id, tenant.domain_id)

    sign_in(page, server, "ops@example.com")
    submit(page, page.find_element(By.LINK_TEXT, "Domains"))
    badge = page.find_element(By.CSS_SELECTOR, f"tr[data-domain-id='{tenant.domain_id}'] .status")
    assert badge.text.lower() == "paused"
    assert badge.value_of_css_property("background-color") not in ("", "rgba(0, 0, 0, 0)")
    submit(page, page.find_element(By.LINK_TEXT, "paused.example"))

    banner = page.find_element(By.ID, "paused-banner")
    assert banner.is_displayed() and REASON in banner.text
    assert "releases 0 held recipients" in page.find_element(By.ID, "resume-explained").text
    assert page.find_element(By.ID, "domain-status").text.lower() == "paused"
    assert "reputation guard" in page.find_element(By.ID, "domain-events").text

    submit(page, page.find_element(By.ID, "resume-button"))
    notice = page.find_element(By.ID, "domain-notice").text
    assert notice.startswith("Sending resumed: sends are accepted again")
    assert page.find_element(By.ID, "domain-status").text == "verified"
    assert page.find_elements(By.ID, "paused-banner") == []
    events = page.find_element(By.ID, "domain-events").text
    assert "domain.resumed" in events and "console user ops@example.com" in events
    assert console_errors(page) == []
