"""The console's Overview: outcomes per hour and day and per sending domain, read from the
stats counters (SQLite and PostgreSQL alike), never another account's or a tag's row."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from herald_service.console.overview_queries import Overview, account_overview
from herald_service.storage.database import async_session_factory, make_async_engine
from support.console import add_user, sign_in
from support.counters import add_counts
from support.harness import Herald

NOW = datetime(2026, 3, 1, 14, 35, 12, tzinfo=UTC)


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as c:
        c.follow_redirects = False
        yield c


async def count(herald: Herald, account_id: str) -> Overview:
    engine = make_async_engine(herald.settings.database_url)
    try:
        async with async_session_factory(engine)() as db:
            return await account_overview(db, account_id, NOW)
    finally:
        await engine.dispose()


async def test_counts_by_hour_day_and_domain(herald: Herald) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    url, me = herald.settings.database_url, mine.account_id
    hour = NOW.replace(minute=0, second=0)
    await add_counts(
        url, me, "mine.example", "hour", hour, accepted_recipients=6, delivered=5, bounced_hard=1
    )
    await add_counts(url, me, "news.mine.example", "hour", hour.replace(hour=9), deferred=2)
    await add_counts(url, me, "mine.example", "hour", hour - timedelta(hours=23), complained=1)
    await add_counts(url, me, "mine.example", "hour", hour - timedelta(hours=24), delivered=9)
    await add_counts(url, me, "mine.example", "hour", hour, tag="welcome", delivered=50)
    day = hour.replace(hour=0)
    await add_counts(
        url,
        me,
        "mine.example",
        "day",
        day,
        accepted_recipients=8,
        delivered=5,
        bounced_hard=1,
        bounced_soft=1,
        dropped=1,
    )
    await add_counts(url, me, "news.mine.example", "day", day, accepted_recipients=2, deferred=2)
    await add_counts(
        url,
        me,
        "news.mine.example",
        "day",
        day - timedelta(days=29),
        delivered=3,
        accepted_recipients=3,
    )
    await add_counts(url, me, "mine.example", "day", day - timedelta(days=30), delivered=100)
    await add_counts(url, me, "mine.example", "day", day, tag="welcome", delivered=50)
    await add_counts(url, theirs.account_id, "theirs.example", "day", day, bounced_hard=77)

    overview = await count(herald, me)

    hours = {b.label: b.counts for b in overview.day.series.buckets}
    assert len(hours) == 24 and next(iter(hours)) == "15:00" and list(hours)[-1] == "14:00"
    assert hours["14:00"] == {"delivered": 5, "bounced": 1}  # not the tag's row
    assert hours["09:00"] == {"deferred": 2}
    assert hours["15:00"] == {"complained": 1}  # the first hour; the one before is out
    assert sum(b.total for b in overview.day.series.buckets) == 9
    assert overview.day.accepted == 6
    assert {d.name: d.accepted for d in overview.day.domains} == {
        "mine.example": 6,
        "news.mine.example": 0,
    }

    days = {b.label: b.counts for b in overview.month.series.buckets}
    assert len(days) == 30 and next(iter(days)) == "Jan 31" and list(days)[-1] == "Mar 1"
    assert days["Mar 1"] == {"delivered": 5, "bounced": 2, "dropped": 1, "deferred": 2}
    assert days["Jan 31"] == {"delivered": 3}
    assert sum(b.total for b in overview.month.series.buckets) == 13  # not Jan 30, not theirs
    by_domain = {d.name: d for d in overview.month.domains}
    assert list(by_domain) == ["mine.example", "news.mine.example"]  # most accepted first
    assert by_domain["mine.example"].counts == {
        "delivered": 5,
        "deferred": 0,
        "bounced": 2,
        "dropped": 1,
        "complained": 0,
        "accepted": 8,
    }
    assert by_domain["mine.example"].rate == pytest.approx(5 / 8)
    assert by_domain["news.mine.example"].rate == pytest.approx(3 / 5)
    assert overview.month.accepted == 13


def numbers(html: str, element_id: str) -> str:
    """The text of the element with ``element_id`` (up to its closing tag), tags removed."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:ul|table)>', html, re.S)
    assert found is not None, element_id
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


async def test_the_page_shows_charts_and_numbers_of_a_member_account_only(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    url = herald.settings.database_url
    await add_user(url, "viewer@example.com", "viewer", mine.account_id)
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    day = hour.replace(hour=0)
    for granularity, bucket in (("hour", hour), ("day", day)):
        await add_counts(
            url,
            mine.account_id,
            "mine.example",
            granularity,
            bucket,
            accepted_recipients=1236,
            delivered=1234,
            bounced_hard=2,
        )
        await add_counts(
            url, theirs.account_id, "theirs.example", granularity, bucket, bounced_hard=77
        )
    await add_counts(
        url,
        mine.account_id,
        "mine.example",
        "day",
        day - timedelta(days=3),
        dropped=1,
        accepted_recipients=1,
    )
    assert (await sign_in(console, "viewer@example.com")).status_code == 303

    page = await console.get("/console/overview")
    assert page.status_code == 200
    assert 'href="/console/overview" aria-current="page"' in page.text
    assert page.text.count("<svg id=") == 2 and 'role="img"' in page.text
    assert "server-timing" in page.headers and page.headers["server-timing"].startswith("app;dur=")
    today = numbers(page.text, "day-totals")
    assert "1,236 accepted" in today and "delivered 1,234" in today and "bounced 2" in today
    assert "dropped 0" in today
    month = numbers(page.text, "month-totals")
    assert "1,237 accepted" in month and "dropped 1" in month
    assert "mine.example 1,236" in numbers(page.text, "day-domains")
    assert "99.8 %" in numbers(page.text, "day-domains")
    assert "77" not in today and "theirs.example" not in page.text

    other = await console.get("/console/overview", params={"account": theirs.account_id})
    assert other.status_code == 404
    unknown = await console.get("/console/overview", params={"account": "acct_nope"})
    assert unknown.status_code == 404
