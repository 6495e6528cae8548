"""``client.stats.get``: the SDK reads ``/v1/stats`` of the real app (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from herald import AsyncHerald, Herald, StatsReport, UnprocessableEntityError


def _send(client: Herald, tags: list[str]) -> None:
    client.messages.send(
        from_="app@sender.example", to="a@receiver.example", subject="Hi", text="Hi", tags=tags
    )


def test_stats_per_day_tag_and_domain(client: Herald) -> None:
    _send(client, ["welcome"])
    _send(client, ["welcome", "promo"])
    report = client.stats.get()
    assert isinstance(report, StatsReport)
    assert report.group_by == "day"
    assert report.to - report.from_ >= timedelta(days=7)
    assert report.total.counts.accepted_requests == 2
    assert report.total.counts.accepted_recipients == 2
    assert report.groups[-1].counts.accepted_recipients == 2
    assert report.total.rates.delivery_rate == 0.0
    assert report.total.rates.bounce_rate is None

    by_tag = client.stats.get(group_by="tag", from_=date.today() - timedelta(days=1))
    assert {g.key: g.counts.accepted_recipients for g in by_tag.groups} == {
        "promo": 1,
        "welcome": 2,
    }
    assert by_tag.total.counts.accepted_recipients == 2
    promo = client.stats.get(group_by="domain", tag="promo", domain="sender.example")
    assert [(g.key, g.counts.accepted_requests) for g in promo.groups] == [("sender.example", 1)]
    assert promo.tag == "promo"


def test_a_bad_range_names_the_field(client: Herald) -> None:
    now = datetime.now(UTC)
    with pytest.raises(UnprocessableEntityError) as caught:
        client.stats.get(from_=now, to=now - timedelta(hours=1))
    assert caught.value.status == 422
    assert [e.field for e in caught.value.errors] == ["from"]


async def test_async_stats(async_client: AsyncHerald) -> None:
    await async_client.messages.send(
        from_="app@sender.example", to="b@receiver.example", subject="Hi", text="Hi"
    )
    report = await async_client.stats.get(
        group_by="hour", to=datetime.now(UTC) + timedelta(hours=1)
    )
    assert report.group_by == "hour"
    assert report.total.counts.accepted_recipients == 1
    assert report.groups[-1].key.endswith(":00:00Z")
