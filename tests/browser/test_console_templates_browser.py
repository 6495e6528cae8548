"""The Templates page in a real browser: an admin writes a template and watches the
preview follow the typing (htmx, no reload), saves versions and activates an older one;
a viewer sees the template read-only and can still preview it."""

from __future__ import annotations

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By

from support.browser import console_errors, settle, sign_in, submit
from support.console import add_user
from support.harness import Herald

NO_RELOAD = "window.heraldSamePage = true;"
SAME_PAGE = "return window.heraldSamePage === true;"


def preview_subject(driver: webdriver.Chrome) -> str:
    found = driver.find_elements(By.ID, "preview-subject")
    return found[0].text if found else ""


def fill(driver: webdriver.Chrome, element_id: str, value: str) -> None:
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(value)


async def test_admin_writes_previews_saves_and_activates(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("home.example")
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    sign_in(page, server, "ops@example.com")
    submit(page, page.find_element(By.LINK_TEXT, "Templates"))
    assert "No templates yet." in page.page_source
    submit(page, page.find_element(By.LINK_TEXT, "New template"))

    fill(page, "t-name", "Welcome")
    fill(page, "t-alias", "welcome")
    fill(page, "t-html", "<p>Hello {{ first_name }}</p>")
    fill(page, "t-text", "Hello {{ first_name }}")
    page.execute_script(NO_RELOAD)
    fill(page, "t-subject", "Welcome, {{ first_name }}")
    settle(page, lambda d: preview_subject(d) == "Welcome, Ann")
    assert page.find_element(By.ID, "preview-html").text == "<p>Hello Ann</p>"

    fill(page, "t-data", '{"first_name": "<Bob>"}')
    settle(page, lambda d: preview_subject(d) == "Welcome, <Bob>")
    assert page.find_element(By.ID, "preview-html").text == "<p>Hello &lt;Bob&gt;</p>"
    assert page.find_element(By.ID, "preview-text").text == "Hello <Bob>"
    fill(page, "t-data", "{}")
    settle(
        page, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-field='template_data.first_name']")
    )
    assert page.execute_script(SAME_PAGE) is True

    submit(page, page.find_element(By.XPATH, "//button[normalize-space()='Create']"))
    assert "Template created." in page.find_element(By.CSS_SELECTOR, "p.notice").text
    fill(page, "t-subject", "Hi {{ first_name }}")
    submit(page, page.find_element(By.XPATH, "//button[normalize-space()='Save as a new version']"))
    versions = page.find_elements(By.CSS_SELECTOR, "table.versions tbody tr")
    assert [v.get_attribute("data-version") for v in versions] == ["2", "1"]
    assert versions[0].get_attribute("data-active") == "yes"

    submit(page, page.find_element(By.CSS_SELECTOR, "button[aria-label='Activate version 1']"))
    assert "Version activated." in page.find_element(By.CSS_SELECTOR, "p.notice").text
    listed = httpx.get(f"{server}/v1/templates", headers=tenant.headers, timeout=10).json()
    assert [(t["alias"], t["active_version"]) for t in listed["data"]] == [("welcome", 1)]
    assert console_errors(page) == []


async def test_a_viewer_reads_and_previews_but_cannot_save(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("home.example")
    created = httpx.post(
        f"{server}/v1/templates",
        headers=tenant.headers,
        json={"name": "Receipt", "subject": "For {{ first_name }}", "text": "t"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    await add_user(herald.settings.database_url, "v@example.com", "viewer", tenant.account_id)
    sign_in(page, server, "v@example.com")
    submit(page, page.find_element(By.LINK_TEXT, "Templates"))
    assert page.find_elements(By.LINK_TEXT, "New template") == []
    submit(page, page.find_element(By.LINK_TEXT, "Receipt"))
    settle(page, lambda d: preview_subject(d) == "For Ann")
    assert page.find_element(By.ID, "t-subject").get_attribute("readonly") is not None
    assert page.find_elements(By.XPATH, "//button[normalize-space()='Save as a new version']") == []
    assert page.find_elements(By.CSS_SELECTOR, "form[action$='/activate']") == []
    assert console_errors(page) == []
