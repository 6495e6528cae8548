"""Helpers for the console's browser tests: sign in, submit a form, send, read the log."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import httpx
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from support.console import PASSWORD
from support.harness import Tenant

T = TypeVar("T")
READ_CLIPBOARD = "navigator.clipboard.readText().then(arguments[0], () => arguments[0](null));"


def settle(
    driver: webdriver.Chrome, condition: Callable[[webdriver.Chrome], T], timeout: float = 10
) -> T:
    """Wait for ``condition`` on a page that htmx swaps in place: an element read the moment
    its fragment is replaced is stale, which means "not yet", not a failure."""
    wait = WebDriverWait(driver, timeout, ignored_exceptions=[StaleElementReferenceException])
    return wait.until(condition)


def submit(driver: webdriver.Chrome, button: WebElement) -> None:
    """Click a form's button (or a link) and wait until the next page has replaced this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(driver, 10).until(lambda _: _gone(old))


def _gone(element: WebElement) -> bool:
    """Whether ``element`` left the document. Chrome reports a node of a page being
    replaced either as stale or, mid-navigation, as an inspector error about a node that
    "does not belong to the document": both mean the old page is gone."""
    try:
        element.is_enabled()
    except (StaleElementReferenceException, WebDriverException):
        return True
    return False


def sign_in(driver: webdriver.Chrome, base: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the form."""
    driver.get(f"{base}/console/sign-in")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))


def send(base: str, tenant: Tenant, subject: str) -> str:
    """Send one message over the API with the tenant's key; return its id."""
    body = {
        "from": f"app@{tenant.domain}",
        "to": ["user@receiver.example"],
        "subject": subject,
        "text": "hello",
        "tags": ["browser"],
    }
    response = httpx.post(f"{base}/v1/messages", json=body, headers=tenant.headers, timeout=10)
    assert response.status_code == 202, response.text
    message_id: str = response.json()["id"]
    return message_id


def console_errors(driver: webdriver.Chrome) -> list[str]:
    """The page's SEVERE console messages since the log was last read."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def row(message_id: str) -> tuple[str, str]:
    """The locator of a message's row in a table."""
    return (By.CSS_SELECTOR, f'tr[data-message-id="{message_id}"]')


def copy(driver: webdriver.Chrome, button: WebElement) -> str | None:
    """Click a copy button and return what the clipboard then holds."""
    button.click()
    WebDriverWait(driver, 5).until(lambda d: button.get_attribute("data-copied") == "yes")
    text: str | None = driver.execute_async_script(READ_CLIPBOARD)
    return text
