"""The delivery judgement: every branch from plain values, no database, no server."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from herald_service.core.delivery_judgement import (
    EXPIRED_ENHANCED_CODE,
    Attempt,
    BounceType,
    Drop,
    RetryPolicy,
    Verdict,
    drop_suppressed,
    judge,
    suppresses_address,
)
from herald_service.core.smtp_replies import Outcome
from herald_service.core.states import EventType, RecipientStatus

ACCEPTED = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
HOUR = 3600.0
# 1 min, 5 min, 1 h, then 1 h again; three days of retries; no jitter unless a test asks.
POLICY = RetryPolicy(schedule=(60.0, 300.0, HOUR), max_age=72 * HOUR, jitter=0.0)
WINDOW_ENDS = ACCEPTED + timedelta(hours=72)


def _attempt(code: int | None, text: str, enhanced: str = "", previous: int = 0) -> Attempt:
    return Attempt(code, text, enhanced, previous, ACCEPTED)


def _delivered(n: int, text: str, enhanced: str = "") -> Verdict:
    return Verdict(Outcome.DELIVERED, n, text, enhanced)


def _deferred(n: int, text: str, enhanced: str, until: timedelta) -> Verdict:
    return Verdict(Outcome.DEFERRED, n, text, enhanced, ACCEPTED + until)


def _hard(n: int, text: str, enhanced: str, *, suppress: bool) -> Verdict:
    return Verdict(Outcome.BOUNCED, n, text, enhanced, None, BounceType.HARD, suppress)


def _expired(n: int, text: str) -> Verdict:
    text = "expired after retrying: " + text
    return Verdict(Outcome.BOUNCED, n, text, EXPIRED_ENHANCED_CODE, None, BounceType.EXPIRED)


H, M, S = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)


@pytest.mark.parametrize(
    ("code", "text", "enhanced", "previous", "after", "expected"),
    [
        # Delivered: any 2xx, whatever came before, even after the retry window.
        (250, "2.0.0 queued", "2.0.0", 0, S, _delivered(1, "2.0.0 queued", "2.0.0")),
        (251, "will forward", "", 4, 10 * H, _delivered(5, "will forward")),
        (250, "ok", "", 30, 80 * H, _delivered(31, "ok")),
        # Hard bounces suppress the mailbox...
        (550, "5.1.1 no user", "5.1.1", 0, S, _hard(1, "5.1.1 no user", "5.1.1", suppress=True)),
        (554, "rejected", "", 2, H, _hard(3, "rejected", "", suppress=True)),
        # ...but not for a policy rejection (about the sender or the content)...
        (550, "5.7.1 spam", "5.7.1", 0, S, _hard(1, "5.7.1 spam", "5.7.1", suppress=False)),
        # ...nor with a 4.x enhanced code (a route's permanent error can carry one).
        (550, "no route", "4.4.4", 0, S, _hard(1, "no route", "4.4.4", suppress=False)),
        # A hard bounce after the window is still hard, not expired.
        (550, "5.1.1 gone", "5.1.1", 9, 73 * H, _hard(10, "5.1.1 gone", "5.1.1", suppress=True)),
        # Deferred: the schedule's delay after attempt n...
        (451, "4.7.1 grey", "4.7.1", 0, 0 * S, _deferred(1, "4.7.1 grey", "4.7.1", M)),
        (421, "try later", "", 1, 10 * M, _deferred(2, "try later", "", 15 * M)),
        # ...the last delay repeating past the end of the schedule...
        (None, "TimeoutError", "", 7, 5 * H, _deferred(8, "TimeoutError", "", 6 * H)),
        # ...a full mailbox (5.2.2) and full storage (5.3.1) despite their 5xx...
        (552, "5.2.2 full", "5.2.2", 0, 0 * S, _deferred(1, "5.2.2 full", "5.2.2", M)),
        (552, "5.3.1 storage", "5.3.1", 2, 2 * H, _deferred(3, "5.3.1 storage", "5.3.1", 3 * H)),
        # ...and never later than the end of the retry window.
        (451, "busy", "", 5, 71 * H + 30 * M, _deferred(6, "busy", "", 72 * H)),
        # Deferred at or after the end of the window: bounced as expired, never suppressed.
        (451, "4.2.0 busy", "4.2.0", 20, 72 * H, _expired(21, "4.2.0 busy")),
        (None, "ConnectionRefusedError", "", 3, 240 * H, _expired(4, "ConnectionRefusedError")),
        (552, "5.2.2 full", "5.2.2", 11, 90 * H, _expired(12, "5.2.2 full")),
    ],
)
def test_verdicts(
    code: int | None,
    text: str,
    enhanced: str,
    previous: int,
    after: timedelta,
    expected: Verdict,
) -> None:
    verdict = judge(_attempt(code, text, enhanced, previous), POLICY, ACCEPTED + after)
    assert verdict == expected


@pytest.mark.parametrize(
    ("verdict", "status", "event_type", "fields"),
    [
        (
            Verdict(Outcome.DELIVERED, 1, "ok", ""),
            RecipientStatus.DELIVERED,
            EventType.DELIVERED,
            {},
        ),
        (
            Verdict(Outcome.DEFERRED, 2, "busy", "", WINDOW_ENDS),
            RecipientStatus.DEFERRED,
            EventType.DEFERRED,
            {"next_attempt_at": "2025-01-04T12:00:00+00:00"},
        ),
        (
            Verdict(Outcome.BOUNCED, 1, "no", "5.1.1", bounce_type=BounceType.HARD, suppress=True),
            RecipientStatus.BOUNCED,
            EventType.BOUNCED,
            {"bounce_type": "hard", "suppressed": True},
        ),
        (
            Verdict(Outcome.BOUNCED, 1, "spam", "5.7.1", bounce_type=BounceType.HARD),
            RecipientStatus.BOUNCED,
            EventType.BOUNCED,
            {"bounce_type": "hard"},
        ),
        (
            Verdict(Outcome.BOUNCED, 9, "expired", "4.4.7", bounce_type=BounceType.EXPIRED),
            RecipientStatus.BOUNCED,
            EventType.BOUNCED,
            {"bounce_type": "expired"},
        ),
    ],
)
def test_what_a_verdict_stores(
    verdict: Verdict, status: RecipientStatus, event_type: EventType, fields: dict[str, object]
) -> None:
    assert verdict.status is status
    assert verdict.event_type is event_type
    assert verdict.event_fields() == fields
    assert list(verdict.event_fields()) == list(fields)  # the event data's key order


@pytest.mark.parametrize(
    ("enhanced", "suppresses"),
    [
        ("5.1.1", True),
        ("5.1.10", True),
        ("5.4.1", True),
        ("", True),
        ("5.7.1", False),
        ("5.7.26", False),
        ("4.4.7", False),
        ("4.7.5", False),
    ],
)
def test_which_hard_bounces_suppress(enhanced: str, suppresses: bool) -> None:
    assert suppresses_address(enhanced) is suppresses


@pytest.mark.parametrize("previous", [0, 1, 2, 5])
def test_jitter_spreads_the_retry_within_its_bounds(previous: int) -> None:
    policy = RetryPolicy(schedule=POLICY.schedule, max_age=POLICY.max_age, jitter=0.2)
    base = POLICY.schedule[min(previous + 1, len(POLICY.schedule)) - 1]
    seen = set()
    for seed in range(20):
        verdict = judge(
            _attempt(451, "busy", previous=previous), policy, ACCEPTED, random.Random(seed)
        )
        assert verdict.next_attempt_at is not None
        delay = (verdict.next_attempt_at - ACCEPTED).total_seconds()
        assert base * 0.8 <= delay <= base * 1.2
        seen.add(delay)
    assert len(seen) > 1


def test_the_same_rng_gives_the_same_retry() -> None:
    policy = RetryPolicy(schedule=(60.0,), max_age=HOUR)
    first = judge(_attempt(None, "timeout"), policy, ACCEPTED, random.Random(7))
    again = judge(_attempt(None, "timeout"), policy, ACCEPTED, random.Random(7))
    assert first == again


@pytest.mark.parametrize("reason", ["bounce", "complaint", "unsubscribe", "manual"])
def test_a_suppressed_recipient_is_dropped(reason: str) -> None:
    drop = drop_suppressed(reason)
    assert drop == Drop({"reason": "suppressed", "suppression_reason": reason})
    assert drop.status is RecipientStatus.SUPPRESSED is Drop.status
    assert drop.event_type is EventType.DROPPED is Drop.event_type
