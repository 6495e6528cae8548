"""The Overview and Stats in a real browser: reached from the navigation, their charts drawn
as SVG from the stats counters with their numbers, readable on a phone without scrolling
sideways, no console errors."""

from __future__ import annotations

from datetime import UTC, datetime

from selenium import webdriver
from selenium.webdriver.common.by import By

from support.browser import console_errors, sign_in, submit
from support.console import add_user
from support.counters import add_counts
from support.harness import Herald


async def test_overview_shows_charts_and_counts(
    herald: Herald, server: str, page: webdriver.Chrome
) -> None:
    tenant = await herald.create_tenant("shop.example")
    await add_user(herald.settings.database_url, "ops@example.com", "viewer", tenant.account_id)
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    for granularity, bucket in (("hour", hour), ("day", hour.replace(hour=0))):
        await add_counts(
            herald.settings.database_url,
            tenant.account_id,
            "shop.example",
            granularity,
            bucket,
            accepted_recipients=3,
            delivered=3,
        )

    sign_in(page, server, "ops@example.com")
    nav = page.find_elements(By.CSS_SELECTOR, "nav[aria-label=Main] a")
    assert [a.text for a in nav[:4]] == ["Overview", "Activity", "Stats", "Queue"]
    submit(page, nav[0])
    assert page.current_url.startswith(f"{server}/console/overview")
    assert page.find_element(By.TAG_NAME, "h1").text == "Overview"

    chart = page.find_element(By.ID, "day-chart")
    assert chart.tag_name == "svg" and chart.get_attribute("role") == "img"
    assert chart.size["width"] > 300 and chart.size["height"] > 80  # drawn, not collapsed
    title = chart.find_element(By.TAG_NAME, "title").get_attribute("textContent")
    assert "Last 24 hours" in title
    bars = chart.find_elements(By.CSS_SELECTOR, "rect.bar-delivered")
    assert len(bars) == 1 and float(bars[0].get_attribute("height")) > 0
    assert bars[0].value_of_css_property("fill") not in ("", "none", "rgb(0, 0, 0)")
    assert "3 accepted" in page.find_element(By.ID, "day-totals").text
    assert "delivered 3" in page.find_element(By.ID, "day-totals").text
    domains = page.find_element(By.ID, "month-domains").text
    assert "shop.example" in domains and "3" in domains

    summary = page.find_element(By.CSS_SELECTOR, "#day-chart + figcaption summary")
    summary.click()  # the chart's numbers open as a table
    table = page.find_element(By.CSS_SELECTOR, "#day-chart + figcaption table")
    assert table.is_displayed() and "Hour" in table.text

    page.set_window_size(390, 844)
    try:
        page.refresh()
        assert page.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth;"
        )
        assert page.find_element(By.ID, "month-chart").size["width"] <= 390
    finally:
        page.set_window_size(1280, 900)

    submit(page, page.find_element(By.LINK_TEXT, "Stats"))
    stats = page.find_element(By.ID, "stats-chart")
    assert stats.size["width"] > 300 and stats.find_elements(By.CSS_SELECTOR, "rect.bar-delivered")
    assert "shop.example" in page.find_element(By.ID, "stats-domains").text
    assert console_errors(page) == []
