"""The console's Overview: recipients per status by hour, day and sending domain, counted
in the database (SQLite and PostgreSQL alike), never another account's."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from herald_service.api.app import create_app
from herald_service.console.overview_queries import Overview, account_overview
from herald_service.domains.service import add_domain
from herald_service.storage.database import async_session_factory, make_async_engine
from support.console import add_user, sign_in
from support.harness import Herald, Tenant
from support.stored import store_message

NOW = datetime(2026, 3, 1, 14, 35, 12, tzinfo=UTC)


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as c:
        c.follow_redirects = False
        yield c


async def store(
    herald: Herald, account_id: str, domain_id: str, at: datetime, *statuses: str
) -> None:
    """One message created ``at`` with a recipient in each of ``statuses``."""
    await store_message(herald.settings.database_url, account_id, domain_id, at, *statuses)


async def second_domain(herald: Herald, tenant: Tenant, name: str) -> str:
    engine = make_async_engine(herald.settings.database_url)
    try:
        async with async_session_factory(engine).begin() as db:
            domain = await add_domain(db, herald.settings, tenant.account_id, name, verified=True)
            return domain.id
    finally:
        await engine.dispose()


async def count(herald: Herald, account_id: str) -> Overview:
    engine = make_async_engine(herald.settings.database_url)
    redis = Redis.from_url(herald.settings.redis_url)
    try:
        async with async_session_factory(engine)() as db:
            return await account_overview(db, redis, account_id, NOW)
    finally:
        await redis.aclose()
        await engine.dispose()


async def test_counts_by_hour_day_and_domain(herald: Herald) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    news = await second_domain(herald, mine, "news.mine.example")
    seeded = [
        (NOW.replace(minute=10), mine.domain_id, ("delivered", "bounced")),  # hour 14
        (NOW.replace(hour=9, minute=59, second=59), news, ("deferred",)),  # hour 09
        (datetime(2026, 2, 28, 15, 0, tzinfo=UTC), mine.domain_id, ("queued",)),  # first hour
        (datetime(2026, 2, 28, 14, 59, tzinfo=UTC), news, ("delivered",)),  # day only
        (datetime(2026, 2, 27, 8, tzinfo=UTC), mine.domain_id, ("failed", "suppressed")),
        (datetime(2026, 1, 31, 0, 0, tzinfo=UTC), news, ("delivered",)),  # first day
        (datetime(2026, 1, 30, 23, 59, tzinfo=UTC), mine.domain_id, ("delivered",)),  # too old
        (NOW + timedelta(minutes=30), mine.domain_id, ("delivered",)),  # after now: not shown
    ]
    for at, domain_id, statuses in seeded:
        await store(herald, mine.account_id, domain_id, at, *statuses)
    await store(herald, theirs.account_id, theirs.domain_id, NOW.replace(minute=5), "bounced")
    await store(
        herald, theirs.account_id, theirs.domain_id, datetime(2026, 2, 2, tzinfo=UTC), "queued"
    )

    overview = await count(herald, mine.account_id)

    hours = {b.label: b.counts for b in overview.day.series.buckets}
    assert len(hours) == 24
    assert hours["14:00"] == {"delivered": 1, "bounced": 1}  # the later one is in no bucket
    assert hours["09:00"] == {"deferred": 1}
    assert hours["15:00"] == {"queued": 1}
    assert sum(b.total for b in overview.day.series.buckets) == 4
    assert overview.day.series.totals()["delivered"] == 1

    days = {b.label: b.counts for b in overview.month.series.buckets}
    assert len(days) == 30 and next(iter(days)) == "Jan 31" and list(days)[-1] == "Mar 1"
    assert days["Mar 1"] == {"delivered": 1, "bounced": 1, "deferred": 1}
    assert days["Feb 28"] == {"queued": 1, "delivered": 1}
    assert days["Feb 27"] == {"failed": 1, "suppressed": 1}
    assert days["Jan 31"] == {"delivered": 1}
    assert days["Feb 2"] == {}  # the other account's message
    assert sum(b.total for b in overview.month.series.buckets) == 8

    by_domain = {d.name: d for d in overview.month.domains}
    assert list(by_domain) == ["mine.example", "news.mine.example"]  # most recipients first
    assert by_domain["mine.example"].counts == {
        "delivered": 1,
        "bounced": 1,
        "queued": 1,
        "failed": 1,
        "suppressed": 1,
    }
    assert by_domain["mine.example"].rate == pytest.approx(0.25)
    assert by_domain["news.mine.example"].total == 3
    assert by_domain["news.mine.example"].rate == 1.0  # deferred is not an outcome yet
    assert {d.name: d.total for d in overview.day.domains} == {
        "mine.example": 3,
        "news.mine.example": 1,
    }

    # Today is counted at every view; the days before it come from the cache for a while.
    await store(herald, mine.account_id, news, NOW.replace(hour=0), "bounced")
    await store(herald, mine.account_id, news, datetime(2026, 2, 20, tzinfo=UTC), "bounced")
    again = {b.label: b.counts for b in (await count(herald, mine.account_id)).month.series.buckets}
    assert again["Mar 1"] == {"delivered": 1, "bounced": 2, "deferred": 1}
    assert again["Feb 20"] == {}


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
    await add_user(herald.settings.database_url, "viewer@example.com", "viewer", mine.account_id)
    now = datetime.now(UTC)
    await store(
        herald,
        mine.account_id,
        mine.domain_id,
        now - timedelta(minutes=1),
        *(["delivered"] * 1234 + ["bounced"] * 2),
    )
    await store(herald, mine.account_id, mine.domain_id, now - timedelta(days=3), "failed")
    await store(herald, theirs.account_id, theirs.domain_id, now, *(["bounced"] * 77))
    assert (await sign_in(console, "viewer@example.com")).status_code == 303

    page = await console.get("/console/overview")
    assert page.status_code == 200
    assert 'href="/console/overview" aria-current="page"' in page.text
    assert page.text.count("<svg id=") == 2 and 'role="img"' in page.text
    assert "server-timing" in page.headers and page.headers["server-timing"].startswith("app;dur=")
    day = numbers(page.text, "day-totals")
    assert "1,236 recipients" in day and "delivered 1,234" in day and "bounced 2" in day
    assert "failed 0" in day
    month = numbers(page.text, "month-totals")
    assert "1,237 recipients" in month and "failed 1" in month
    assert "mine.example 1,236" in numbers(page.text, "day-domains")
    assert "99.8 %" in numbers(page.text, "day-domains")
    assert "77" not in day and "theirs.example" not in page.text

    other = await console.get("/console/overview", params={"account": theirs.account_id})
    assert other.status_code == 404
    unknown = await console.get("/console/overview", params={"account": "acct_nope"})
    assert unknown.status_code == 404
