"""Stats arithmetic: events folded into sorted counter deltas, latency buckets, rates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from herald_service.core.stats import (
    LATENCY_BOUNDS,
    LATENCY_COLUMNS,
    counter_deltas,
    latency_bucket,
    latency_deltas,
    latency_percentile,
    rates,
)

AT = datetime(2026, 12, 4, 13, 45, 12, tzinfo=UTC)
DAY = datetime(2026, 12, 4, tzinfo=UTC)
HOUR = datetime(2026, 12, 4, 13, tzinfo=UTC)


class Ev(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str = "acc"
    message_id: str = "m1"
    type: str = "message.accepted"
    at: datetime = AT
    data: Mapping[str, Any] = {}
    domain: str = "a.example"
    tags: Sequence[str] = ()
    accepted_at: datetime | None = None


def test_an_acceptance_counts_a_request_once_and_every_recipient() -> None:
    events = [Ev(), Ev(), Ev(message_id="m2")]
    deltas = dict(counter_deltas(events))
    assert deltas == {
        ("acc", "day", "", DAY, "a.example"): {"accepted_recipients": 3, "accepted_requests": 2},
        ("acc", "hour", "", HOUR, "a.example"): {"accepted_recipients": 3, "accepted_requests": 2},
    }


def test_each_tag_gets_its_own_row_and_the_all_tags_row_counts_once() -> None:
    deltas = counter_deltas([Ev(type="message.delivered", tags=("x", "y"))])
    day_rows = {key[2]: delta for key, delta in deltas if key[1] == "day"}
    assert day_rows == {"": {"delivered": 1}, "x": {"delivered": 1}, "y": {"delivered": 1}}
    assert len(deltas) == 6


def test_deltas_are_sorted_by_primary_key_whatever_the_event_order() -> None:
    events = [
        Ev(account_id="b", type="message.opened"),
        Ev(account_id="a", type="message.clicked", domain="z.example"),
        Ev(account_id="a", type="message.clicked", domain="c.example", tags=("t",)),
    ]
    keys = [key for key, _ in counter_deltas(events)]
    assert keys == sorted(keys)
    assert keys[0][0] == "a" and keys[-1][0] == "b"


def test_bounces_split_hard_from_soft_and_cancels_count_nowhere() -> None:
    events = [
        Ev(type="message.bounced", data={"bounce_type": "hard"}),
        Ev(type="message.bounced", data={"bounce_type": "expired"}),
        Ev(type="message.bounced", data={"bounce_type": "soft"}),
        Ev(type="message.canceled"),
        Ev(type="message.dropped"),
        Ev(type="message.complained"),
        Ev(type="message.unsubscribed"),
        Ev(type="message.deferred"),
    ]
    day = next(delta for key, delta in counter_deltas(events) if key[1] == "day")
    assert day == {
        "bounced_hard": 1,
        "bounced_soft": 2,
        "dropped": 1,
        "complained": 1,
        "unsubscribed": 1,
        "deferred": 1,
    }


def test_events_of_other_days_and_hours_go_to_their_own_buckets() -> None:
    later = AT + timedelta(hours=11)  # past midnight
    keys = {key[1:4] for key, _ in counter_deltas([Ev(), Ev(at=later)])}
    assert keys == {
        ("day", "", DAY),
        ("day", "", DAY + timedelta(days=1)),
        ("hour", "", HOUR),
        ("hour", "", later.replace(minute=0, second=0)),
    }


def test_latency_counted_for_deliveries_from_their_acceptance() -> None:
    events = [
        Ev(type="message.delivered", accepted_at=AT - timedelta(seconds=0.4)),
        Ev(type="message.delivered", accepted_at=AT - timedelta(seconds=45)),
        Ev(type="message.delivered", accepted_at=AT - timedelta(seconds=45)),
        Ev(type="message.delivered"),  # no acceptance time known: not counted
        Ev(type="message.bounced", accepted_at=AT - timedelta(seconds=5)),
    ]
    assert latency_deltas(events) == [(("acc", DAY, "a.example"), {"b00": 1, "b06": 2})]
    assert LATENCY_COLUMNS[latency_bucket(45)] == "b06"  # 30 < 45 <= 60
    assert len(LATENCY_COLUMNS) == len(LATENCY_BOUNDS) + 1 == 16


@pytest.mark.parametrize(
    ("seconds", "bound"), [(0, 1), (1, 1), (1.01, 2), (59, 60), (86400, 86400), (90000, None)]
)
def test_latency_buckets_are_inclusive_upper_bounds(seconds: float, bound: int | None) -> None:
    index = latency_bucket(seconds)
    assert (LATENCY_BOUNDS[index] if index < len(LATENCY_BOUNDS) else None) == bound


def test_percentiles_are_the_bucket_bounds_their_rank_falls_in() -> None:
    histogram = {0: 50, latency_bucket(10): 40, latency_bucket(300): 9, len(LATENCY_BOUNDS): 1}
    assert latency_percentile(histogram, 0.5) == 1.0
    assert latency_percentile(histogram, 0.51) == 10.0
    assert latency_percentile(histogram, 0.9) == 10.0
    assert latency_percentile(histogram, 0.99) == 300.0
    assert latency_percentile(histogram, 1.0) == float(LATENCY_BOUNDS[-1])
    assert latency_percentile({}, 0.5) is None
    assert latency_percentile({3: 0}, 0.5) is None


def test_rates_have_no_value_without_a_denominator() -> None:
    assert rates({}) == {"delivery_rate": None, "bounce_rate": None, "complaint_rate": None}
    counts = {
        "accepted_recipients": 20,
        "delivered": 15,
        "bounced_hard": 3,
        "bounced_soft": 2,
        "complained": 3,
    }
    assert rates(counts) == {
        "delivery_rate": 0.75,
        "bounce_rate": 0.15,
        "complaint_rate": 0.2,
    }
