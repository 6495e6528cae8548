"""SendGrid's ``send_at`` (UNIX seconds) as Herald's: which time wins, what errors name."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from herald_service.messages.sendgrid.scheduling import (
    LATEST,
    UnixTime,
    scheduled_time,
    send_at_field,
)

NINE = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
TEN = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("request_send_at", "own", "expected"),
    [
        (None, None, None),
        (int(NINE.timestamp()), None, NINE),
        (None, int(TEN.timestamp()), TEN),
        (int(NINE.timestamp()), int(TEN.timestamp()), TEN),
        (0, None, datetime(1970, 1, 1, tzinfo=UTC)),
        (LATEST, None, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_a_personalizations_own_time_wins(
    request_send_at: int | None, own: int | None, expected: datetime | None
) -> None:
    assert scheduled_time(request_send_at, own) == expected


@pytest.mark.parametrize(
    ("index", "own", "field"),
    [(0, None, "send_at"), (3, None, "send_at"), (3, 1, "personalizations[3].send_at")],
)
def test_errors_name_where_the_time_came_from(index: int, own: int | None, field: str) -> None:
    assert send_at_field(index, own) == field


@pytest.mark.parametrize("value", [-1, LATEST + 1, 1.5, "1700000000", True])
def test_only_whole_seconds_a_datetime_can_hold_decode(value: object) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(value, UnixTime, strict=True)
