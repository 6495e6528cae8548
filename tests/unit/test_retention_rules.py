"""The pure retention rules: which cutoffs a round uses, and how ages read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from herald_service.core.retention import Ages, Kind, cutoffs, describe_age, pruned_note

NOW = datetime(2026, 3, 10, 14, 37, 5, tzinfo=UTC)


def test_each_kind_is_cut_at_its_own_age_and_zero_keeps_forever() -> None:
    ages = Ages(bodies=30 * 86400, events=0, attempts=3600, webhook_deliveries=60, captured=0)
    found = cutoffs(ages, NOW)
    assert found == {
        Kind.BODIES: NOW - timedelta(days=30),
        Kind.ATTEMPTS: NOW - timedelta(hours=1),
        Kind.WEBHOOK_DELIVERIES: NOW - timedelta(minutes=1),
        Kind.HOUR_COUNTERS: datetime(2026, 3, 8, 14, tzinfo=UTC),
    }


def test_hour_counters_keep_the_current_hour_and_the_48_before_it() -> None:
    ages = Ages(bodies=0, events=0, attempts=0, webhook_deliveries=0, captured=0)
    for now in (NOW, NOW.replace(minute=0, second=0), NOW.replace(minute=59)):
        assert cutoffs(ages, now) == {Kind.HOUR_COUNTERS: datetime(2026, 3, 8, 14, tzinfo=UTC)}


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "forever"),
        (30 * 86400, "30d"),
        (48 * 3600, "2d"),
        (36 * 3600, "36h"),
        (300, "5m"),
        (90, "90s"),
        (1.5, "1.5s"),
    ],
)
def test_ages_read_as_the_settings_write_them(seconds: float, shown: str) -> None:
    assert describe_age(seconds) == shown


def test_the_pruned_note_says_when_and_at_what_age() -> None:
    assert pruned_note(NOW - timedelta(days=31, hours=2), NOW) == (
        "the source was pruned on 2026-03-10, 31 days after it was accepted"
    )
    assert pruned_note(NOW - timedelta(days=1), NOW).endswith(", 1 day after it was accepted")
    assert pruned_note(NOW - timedelta(seconds=42), NOW).endswith(
        "42 seconds after it was accepted"
    )
