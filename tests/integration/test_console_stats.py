"""The console's Stats page: delivered, bounced and complained mail per day over 7 or 30
days and the rates per sending domain beside the guard's thresholds, read from the
stats counters as ``GET /v1/stats`` reads them; never another account's."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from support.console import add_user, sign_in
from support.counters import add_counts
from support.harness import Herald


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as c:
        c.follow_redirects = False
        yield c


def row(html: str, marker: str) -> str:
    return html.split(marker, 1)[1].split("</tr>", 1)[0]


def legend(html: str) -> str:
    """The chart's legend as text."""
    found = re.search(r'id="stats-totals"[^>]*>(.*?)</ul>', html, re.S)
    assert found is not None
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


async def test_days_chart_and_rates_per_domain(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    url = herald.settings.database_url
    await add_user(url, "viewer@example.com", "viewer", mine.account_id)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    await add_counts(
        url,
        mine.account_id,
        "mine.example",
        "day",
        today,
        accepted_recipients=100,
        delivered=90,
        bounced_hard=10,
    )
    await add_counts(
        url,
        mine.account_id,
        "news.mine.example",
        "day",
        today - timedelta(days=2),
        accepted_recipients=1000,
        delivered=1000,
        complained=1,
    )
    await add_counts(
        url,
        mine.account_id,
        "mine.example",
        "day",
        today - timedelta(days=20),
        accepted_recipients=5,
        delivered=3,
        bounced_soft=2,
    )
    await add_counts(url, theirs.account_id, "theirs.example", "day", today, bounced_hard=77)
    await sign_in(console, "viewer@example.com")

    week = await console.get("/console/stats")
    assert week.status_code == 200
    assert 'href="/console/stats" aria-current="page"' in week.text
    assert 'id="stats-chart"' in week.text and week.text.count("<svg id=") == 1
    assert week.text.count('<g class="bar">') == 7
    assert 'class="bar-bounced"' in week.text and 'class="bar-complained"' in week.text
    totals = legend(week.text)
    assert "1,100 accepted" in totals and "delivered 1,090" in totals
    assert "bounced 10" in totals and "complained 1" in totals
    assert "theirs.example" not in week.text and "77" not in totals
    mine_row = row(week.text, 'data-domain="mine.example"')
    assert f'href="/console/domains/{mine.domain_id}?account={mine.account_id}#reputation"' in (
        mine_row
    )
    assert '<span class="rate rate-pause">10 %</span>' in mine_row  # pause is at 5 %
    news_row = row(week.text, 'data-domain="news.mine.example"')
    assert '<span class="rate rate-ok">0 %</span>' in news_row
    assert '<span class="rate rate-pause">0.1 %</span>' in news_row  # complaints: 1 in 1,000
    assert week.text.index('data-domain="news.mine.example"') < week.text.index(
        'data-domain="mine.example"'
    )  # the most accepted first

    month = await console.get("/console/stats", params={"days": "30"})
    assert month.text.count('<g class="bar">') == 30
    assert '<td data-label="Bounced">10 / 2</td>' in row(month.text, 'data-domain="mine.example"')
    assert "1,105 accepted" in legend(month.text) and "bounced 12" in legend(month.text)

    other = await console.get("/console/stats", params={"account": theirs.account_id})
    assert other.status_code == 404
