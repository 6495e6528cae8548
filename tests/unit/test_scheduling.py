"""The ``send_at`` rule and the statuses of scheduled and canceled messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from herald_service.core.scheduling import (
    CLOCK_SKEW,
    is_scheduled,
    normalize_send_at,
    send_at_problem,
)
from herald_service.core.states import RecipientStatus, summarize

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY_3 = 72 * 3600.0


@pytest.mark.parametrize(
    ("send_at", "max_ahead", "problem"),
    [
        (NOW + timedelta(hours=1), DAY_3, None),
        (NOW, DAY_3, None),
        (NOW - CLOCK_SKEW, DAY_3, None),
        (NOW - CLOCK_SKEW - timedelta(seconds=1), DAY_3, "is in the past"),
        (NOW - timedelta(days=1), DAY_3, "is in the past"),
        (NOW + timedelta(hours=72), DAY_3, None),
        (NOW + timedelta(hours=72, seconds=1), DAY_3, "is more than 72 h ahead"),
        (NOW + timedelta(minutes=2), 60.0, "is more than 60 s ahead"),
        (NOW.replace(tzinfo=None) + timedelta(hours=1), DAY_3, "with an offset"),
        # Another offset, the same instant: 14:00+02:00 is 12:00Z.
        (datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))), DAY_3, None),
        (datetime(2026, 6, 1, 13, 0, tzinfo=timezone(timedelta(hours=2))), DAY_3, "past"),
    ],
)
def test_send_at_problem(send_at: datetime, max_ahead: float, problem: str | None) -> None:
    found = send_at_problem(send_at, NOW, max_ahead)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_normalize_send_at_is_utc() -> None:
    local = datetime(2026, 6, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    assert normalize_send_at(local) == datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
    assert normalize_send_at(local).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("send_at", "scheduled"),
    [
        (None, False),
        (NOW - timedelta(seconds=2), False),
        (NOW, False),
        (NOW + timedelta(seconds=1), True),
    ],
)
def test_is_scheduled(send_at: datetime | None, scheduled: bool) -> None:
    assert is_scheduled(send_at, NOW) is scheduled


@pytest.mark.parametrize(
    ("statuses", "summary"),
    [
        (["scheduled", "scheduled"], "scheduled"),
        (["scheduled", "suppressed"], "scheduled"),
        (["queued", "scheduled"], "queued"),
        (["canceled", "canceled"], "canceled"),
        (["canceled", "suppressed"], "partial"),
    ],
)
def test_summarize_scheduled_and_canceled(statuses: list[str], summary: str) -> None:
    assert summarize(statuses) == summary


def test_scheduled_is_pending_and_canceled_final() -> None:
    assert not RecipientStatus.SCHEDULED.is_final
    assert RecipientStatus.CANCELED.is_final
