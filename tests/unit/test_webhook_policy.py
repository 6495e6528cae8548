"""The webhook retry, 410 Gone and auto-disable rules, as tables over plain values."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from herald_service.core.states import WebhookDeliveryStatus
from herald_service.core.webhook_policy import AttemptVerdict as Verdict
from herald_service.core.webhook_policy import (
    honoured_retry_after,
    judge_attempt,
    response_error,
    retry_in,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SCHEDULE = (5.0, 60.0, 600.0)
DISABLE_AFTER = 3 * 86400.0
PENDING, SUCCEEDED, FAILED = (
    WebhookDeliveryStatus.PENDING,
    WebhookDeliveryStatus.SUCCEEDED,
    WebhookDeliveryStatus.FAILED,
)


class NoJitter(random.Random):
    """Delays exactly as scheduled, so a table can name them."""

    def uniform(self, a: float, b: float) -> float:
        return 0.0


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


GONE = "the endpoint answered 410 Gone"
LONG_AGO = datetime(2025, 2, 26, 12, 0, tzinfo=UTC)  # exactly DISABLE_AFTER before NOW
NOT_YET = ago(DISABLE_AFTER - 1)
DISABLED = "failing since 2025-02-26T12:00:00Z; last error: "
DISABLED_500 = DISABLED + "HTTP 500"


@pytest.mark.parametrize(
    ("attempts", "status_code", "error", "retry_after", "failing_since", "expected"),
    [
        # Success: delivered, and the endpoint is healthy again.
        (1, 200, "", None, None, Verdict(SUCCEEDED, None, None)),
        (3, 204, "", None, ago(100), Verdict(SUCCEEDED, None, None)),
        # A failure retries on the schedule and starts the endpoint's failing clock.
        (1, 500, "HTTP 500", None, None, Verdict(PENDING, later(5), NOW)),
        (2, None, "timed out", None, None, Verdict(PENDING, later(60), NOW)),
        (3, 302, "redirect", None, ago(10), Verdict(PENDING, later(600), ago(10))),
        # Retry-After wins over the schedule, while the schedule lasts.
        (1, 429, "HTTP 429", 30.0, None, Verdict(PENDING, later(30), NOW)),
        (1, 503, "HTTP 503", 0.0, ago(5), Verdict(PENDING, NOW, ago(5))),
        (4, 429, "HTTP 429", 30.0, ago(5), Verdict(FAILED, None, ago(5))),
        # The schedule used up: one first try plus one retry per entry.
        (4, 500, "HTTP 500", None, ago(100), Verdict(FAILED, None, ago(100))),
        (4, None, "refused", None, None, Verdict(FAILED, None, NOW)),
        # 410 Gone gives up at once and disables the endpoint; its failing clock stays.
        (1, 410, "HTTP 410", None, None, Verdict(FAILED, None, None, GONE)),
        (2, 410, "HTTP 410", None, ago(9), Verdict(FAILED, None, ago(9), GONE)),
        # Failing for DISABLE_AFTER disables the endpoint; the delivery itself goes on
        # (its next attempt finds the endpoint disabled) until its schedule is used up.
        (2, 500, "HTTP 500", None, NOT_YET, Verdict(PENDING, later(60), NOT_YET)),
        (2, 500, "HTTP 500", None, LONG_AGO, Verdict(PENDING, later(60), LONG_AGO, DISABLED_500)),
        (4, None, "refused", None, LONG_AGO, Verdict(FAILED, None, LONG_AGO, DISABLED + "refused")),
    ],
)
def test_judge_attempt(
    attempts: int,
    status_code: int | None,
    error: str,
    retry_after: float | None,
    failing_since: datetime | None,
    expected: Verdict,
) -> None:
    verdict = judge_attempt(
        attempts=attempts,
        status_code=status_code,
        error=error,
        retry_after=retry_after,
        failing_since=failing_since,
        now=NOW,
        schedule=SCHEDULE,
        disable_after=DISABLE_AFTER,
        rng=NoJitter(),
    )
    assert verdict == expected


@pytest.mark.parametrize(
    ("attempts", "retry_after", "expected"),
    [
        (1, None, 5.0),
        (2, None, 60.0),
        (3, None, 600.0),
        (4, None, None),
        (2, 7.5, 7.5),
        (3, 0.0, 0.0),
        (4, 7.5, None),
    ],
)
def test_retry_in(attempts: int, retry_after: float | None, expected: float | None) -> None:
    assert retry_in(attempts, retry_after, SCHEDULE, NoJitter()) == expected


def test_retry_in_spreads_the_schedule() -> None:
    delays = {retry_in(2, None, SCHEDULE, random.Random(seed)) for seed in range(20)}
    assert len(delays) > 1
    assert all(d is not None and 48.0 <= d <= 72.0 for d in delays)


@pytest.mark.parametrize(
    ("status_code", "location", "error"),
    [
        (200, "", ""),
        (204, "", ""),
        (299, "", ""),
        (301, "https://elsewhere.example/", "redirect to https://elsewhere.example/ not followed"),
        (307, "", "redirect to (no location) not followed"),
        (199, "", "HTTP 199"),
        (400, "", "HTTP 400"),
        (410, "", "HTTP 410"),
        (503, "", "HTTP 503"),
    ],
)
def test_response_error(status_code: int, location: str, error: str) -> None:
    assert response_error(status_code, location) == error


@pytest.mark.parametrize(
    ("status_code", "header", "seconds"),
    [
        (429, "30", 30.0),
        (503, "120", 120.0),
        (503, "Sat, 01 Mar 2025 12:01:00 GMT", 60.0),
        (429, None, None),
        (429, "soon", None),
        (500, "30", None),
        (200, "30", None),
        (302, "30", None),
    ],
)
def test_retry_after_is_honoured_only_on_429_and_503(
    status_code: int, header: str | None, seconds: float | None
) -> None:
    assert honoured_retry_after(status_code, header, NOW) == seconds
