"""Verifying a domain in a real browser: the records the page shows, published in the test
DNS server (which the ``herald api`` process resolves through), turn verified in place
when an admin clicks "Verify now", and on a viewer's open page by themselves when the
domain is verified elsewhere; the page is never reloaded, and a viewer has no button."""

from __future__ import annotations

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from simnet.dns import DNSServer
from support.browser import console_errors, settle, sign_in, submit
from support.console import add_user
from support.harness import Herald, Tenant

NO_RELOAD = "window.heraldSamePage = true;"
SAME_PAGE = "return window.heraldSamePage === true;"


def add_domain(server: str, tenant: Tenant, name: str) -> str:
    """A new, unverified domain added through the API; returns its id."""
    answer = httpx.post(
        f"{server}/v1/domains", json={"name": name}, headers=tenant.headers, timeout=10
    )
    assert answer.status_code == 201, answer.text
    domain_id: str = answer.json()["id"]
    return domain_id


def publish(dns: DNSServer, kind: str, host: str, value: str) -> None:
    """Publish one record as a DNS operator would from the page's table."""
    if kind == "TXT":
        dns.add_txt(host, value)
    else:
        assert kind == "MX", kind
        preference, exchange = value.split()
        dns.add_mx(host, [(int(preference), exchange)])


def shown_records(driver: webdriver.Chrome) -> list[tuple[str, str, str, str]]:
    """(type, host, value, status) of each row of the records table."""
    rows = driver.find_elements(By.CSS_SELECTOR, "table.records tbody tr")
    return [
        (
            row.find_element(By.CSS_SELECTOR, "td[data-label=Type]").text,
            row.find_element(By.CSS_SELECTOR, "td[data-label=Host] code").text,
            row.find_element(By.CSS_SELECTOR, "td[data-label=Value] code").text,
            row.get_attribute("data-status") or "",
        )
        for row in rows
    ]


def domain_status(driver: webdriver.Chrome) -> str:
    return driver.find_element(By.ID, "domain-status").text


def open_domain(driver: webdriver.Chrome, name: str) -> None:
    submit(driver, driver.find_element(By.LINK_TEXT, "Domains"))
    submit(driver, driver.find_element(By.LINK_TEXT, name))
    assert driver.find_element(By.CSS_SELECTOR, "h1").text == name


async def test_verify_now_turns_the_records_verified_in_place(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("home.example")
    domain_id = add_domain(server, tenant, "fresh.example")
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    sign_in(page, server, "ops@example.com")
    open_domain(page, "fresh.example")

    records = shown_records(page)
    assert {kind for kind, *_ in records} == {"MX", "TXT"}
    assert {status for *_, status in records} == {"pending"}
    assert domain_status(page) == "pending"
    live = page.find_element(By.ID, "domain-live")
    assert live.get_attribute("data-watching") == "yes"
    assert live.get_attribute("hx-trigger") == "every 3s"
    for kind, host, value, _ in records:
        publish(herald.dns, kind, host, value)

    page.execute_script(NO_RELOAD)
    page.find_element(By.XPATH, "//button[normalize-space()='Verify now']").click()
    settle(page, lambda d: domain_status(d) == "verified")
    assert page.execute_script(SAME_PAGE) is True
    after = shown_records(page)
    assert [r[:3] for r in after] == [r[:3] for r in records]
    assert {status for *_, status in after} == {"verified"}
    notice = page.find_element(By.ID, "domain-notice").text
    assert "Records checked at" in notice and "4 of 4 required verified" in notice
    live = page.find_element(By.ID, "domain-live")
    assert live.get_attribute("data-watching") == "no"
    assert live.get_attribute("hx-trigger") is None  # the polling has stopped
    assert page.find_element(By.XPATH, "//button[normalize-space()='Verify now']").is_enabled()

    api = httpx.get(f"{server}/v1/domains/{domain_id}", headers=tenant.headers, timeout=10)
    assert api.json()["status"] == "verified"
    assert console_errors(page) == []


async def test_a_viewer_sees_the_domain_turn_verified_by_itself(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("home.example")
    domain_id = add_domain(server, tenant, "watched.example")
    await add_user(herald.settings.database_url, "v@example.com", "viewer", tenant.account_id)
    sign_in(page, server, "v@example.com")
    open_domain(page, "watched.example")
    assert page.find_elements(By.CSS_SELECTOR, "form[action$='/verify']") == []
    assert page.find_elements(By.XPATH, "//button[normalize-space()='Verify now']") == []
    assert domain_status(page) == "pending"

    page.execute_script(NO_RELOAD)
    records = httpx.get(
        f"{server}/v1/domains/{domain_id}", headers=tenant.headers, timeout=10
    ).json()["records"]
    for record in records:
        publish(herald.dns, record["type"], record["host"], record["value"])
    verified = httpx.post(
        f"{server}/v1/domains/{domain_id}/verify", headers=tenant.headers, timeout=10
    )
    assert verified.status_code == 200 and verified.json()["status"] == "verified"

    settle(page, lambda d: domain_status(d) == "verified")
    assert page.execute_script(SAME_PAGE) is True
    assert {status for *_, status in shown_records(page)} == {"verified"}
    assert page.find_element(By.ID, "domain-live").get_attribute("data-watching") == "no"
    assert console_errors(page) == []


async def test_a_click_after_the_session_ended_is_answered(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("home.example")  # verified: the page does not poll
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    sign_in(page, server, "ops@example.com")
    open_domain(page, "home.example")
    assert page.find_element(By.ID, "domain-live").get_attribute("data-watching") != "yes"
    alert = page.find_element(By.ID, "htmx-alert")
    assert not alert.is_displayed()

    page.delete_cookie("herald_console")  # the session ends (expiry, sign-out elsewhere)
    page.find_element(By.XPATH, "//button[text()='Verify now']").click()
    WebDriverWait(page, 10).until(lambda d: alert.is_displayed())
    assert "session has ended" in alert.text
