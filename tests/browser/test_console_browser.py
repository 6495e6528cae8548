"""The console in a real browser: sign-in, live Activity, lock-out, CSRF, isolation, CSP."""

from __future__ import annotations

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from herald_service.console.web import CONTENT_SECURITY_POLICY
from support.browser import console_errors, row, send, sign_in, submit
from support.console import PASSWORD, add_user, csrf_of
from support.harness import Herald


async def test_sign_in_and_watch_a_message_arrive(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("live.example")
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    earlier = send(server, tenant, "Before sign-in")

    page.get(f"{server}/console")
    assert "/console/sign-in" in page.current_url  # sent to sign in first
    sign_in(page, server, "ops@example.com")
    wait = WebDriverWait(page, 10)
    wait.until(expected_conditions.presence_of_element_located(row(earlier)))
    assert page.find_element(By.CSS_SELECTOR, "h1").text == "Activity"
    page.execute_script("window.heraldMarker = 'same page';")

    arrived = send(server, tenant, "Live update")
    live = wait.until(expected_conditions.presence_of_element_located(row(arrived)))
    assert "Live update" in live.text and "browser" in live.text
    assert page.execute_script("return window.heraldMarker;") == "same page"  # no reload
    assert page.execute_script("return typeof htmx;") == "object"
    assert page.execute_script("return document.documentElement.scrollWidth <= window.innerWidth;")

    headers = httpx.get(f"{server}/console/sign-in").headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert console_errors(page) == []


async def test_wrong_password_then_lockout(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    for _ in range(5):
        sign_in(page, server, "ops@example.com", "not the password")
        alert = page.find_element(By.CSS_SELECTOR, ".card [role=alert]")
        assert alert.text == "Wrong email or password."
    sign_in(page, server, "ops@example.com")
    alert = page.find_element(By.CSS_SELECTOR, ".card [role=alert]")
    assert "Too many failed sign-ins" in alert.text
    assert "/console/sign-in" in page.current_url


async def test_csrf_less_post_is_refused(herald: Herald, server: str) -> None:
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    with httpx.Client(base_url=server, follow_redirects=False, timeout=10) as client:
        form = client.get("/console/sign-in")
        signed_in = client.post(
            "/console/sign-in",
            data={
                "email": "ops@example.com",
                "password": PASSWORD,
                "csrf_token": csrf_of(form.text),
            },
        )
        assert signed_in.status_code == 303
        refused = client.post("/console/sign-out")
        assert refused.status_code == 403
        assert refused.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert client.get("/console").status_code == 200  # the session survived


async def test_another_accounts_messages_are_never_shown(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    await add_user(herald.settings.database_url, "v@example.com", "viewer", mine.account_id)
    own = send(server, mine, "Mine")
    foreign = send(server, theirs, "Theirs")
    sign_in(page, server, "v@example.com")
    WebDriverWait(page, 10).until(expected_conditions.presence_of_element_located(row(own)))
    assert foreign not in page.page_source and "Theirs" not in page.page_source

    page.get(f"{server}/console?q={foreign}")
    assert page.find_element(By.CSS_SELECTOR, "td.empty").text == "No messages match."
    page.get(f"{server}/console?account={theirs.account_id}")
    assert page.find_element(By.CSS_SELECTOR, "h1").text == "404"
    assert "Theirs" not in page.page_source
    assert [e for e in console_errors(page) if "404" not in e] == []


async def test_viewer_sees_no_forms_and_cannot_post_changes(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "v@example.com", "viewer", tenant.account_id)
    sign_in(page, server, "v@example.com")
    submit(page, page.find_element(By.LINK_TEXT, "Suppressions"))
    assert page.find_element(By.CSS_SELECTOR, "h1").text == "Suppressions"
    assert page.find_elements(By.ID, "a-email") == []  # no add form for a viewer

    with httpx.Client(base_url=server, follow_redirects=False, timeout=10) as client:
        form = client.get("/console/sign-in")
        client.post(
            "/console/sign-in",
            data={"email": "v@example.com", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        )
        token = csrf_of(client.get("/console/suppressions").text)
        refused = client.post(
            "/console/suppressions",
            data={"csrf_token": token, "account": tenant.account_id, "email": "x@example.com"},
        )
        assert refused.status_code == 403
    listed = httpx.get(f"{server}/v1/suppressions", headers=tenant.headers, timeout=10)
    assert listed.json()["data"] == []
    assert console_errors(page) == []


async def test_admin_adds_and_removes_a_suppression(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    sign_in(page, server, "ops@example.com")
    submit(page, page.find_element(By.LINK_TEXT, "Suppressions"))
    page.find_element(By.ID, "a-email").send_keys("gone@example.com")
    page.find_element(By.ID, "a-detail").send_keys("asked us")
    submit(page, page.find_element(By.CSS_SELECTOR, "form.add button[type=submit]"))
    assert page.find_element(By.CSS_SELECTOR, "[role=status]").text == "Address suppressed."
    entry = page.find_element(By.CSS_SELECTOR, 'tr[data-email="gone@example.com"]')
    assert "asked us" in entry.text
    listed = httpx.get(f"{server}/v1/suppressions", headers=tenant.headers, timeout=10)
    assert [e["email"] for e in listed.json()["data"]] == ["gone@example.com"]

    submit(page, entry.find_element(By.CSS_SELECTOR, "button"))
    assert page.find_element(By.CSS_SELECTOR, "[role=status]").text == "Suppression removed."
    assert page.find_elements(By.CSS_SELECTOR, "tr[data-email]") == []
    assert console_errors(page) == []
