"""Pure core logic: durations, retry delays, ids, reply classification, status summary."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald_service.core.backoff import retry_delay
from herald_service.core.durations import parse_duration, parse_schedule
from herald_service.core.ids import new_id
from herald_service.core.smtp_replies import Outcome, classify, enhanced_code
from herald_service.core.states import summarize


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("90s", 90),
        ("5m", 300),
        ("72h", 259200),
        ("1d", 86400),
        ("1h30m", 5400),
        ("250ms", 0.25),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5x", "m5", "-1s"])
def test_parse_duration_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_schedule_and_delay_repeat_the_last_step() -> None:
    schedule = parse_schedule("1m, 5m,1h")
    assert schedule == (60, 300, 3600)
    rng = random.Random(1)
    assert retry_delay(1, schedule, jitter=0, rng=rng) == 60
    assert retry_delay(3, schedule, jitter=0, rng=rng) == 3600
    assert retry_delay(10, schedule, jitter=0, rng=rng) == 3600


@given(st.integers(min_value=1, max_value=50), st.floats(min_value=0, max_value=0.5))
def test_jitter_stays_within_its_band(attempt: int, jitter: float) -> None:
    schedule = (60.0, 300.0, 3600.0)
    base = schedule[min(attempt, 3) - 1]
    delay = retry_delay(attempt, schedule, jitter=jitter)
    assert base * (1 - jitter) - 1e-9 <= delay <= base * (1 + jitter) + 1e-9


def test_ids_are_prefixed_unique_and_time_ordered() -> None:
    ids = [new_id("msg") for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert all(i.startswith("msg_") and len(i) == 30 for i in ids)
    first, later = ids[0], new_id("msg")
    assert first[:14] <= later[:14]


@pytest.mark.parametrize(
    ("code", "text", "outcome"),
    [
        (250, "2.0.0 OK", Outcome.DELIVERED),
        (451, "4.3.0 try later", Outcome.DEFERRED),
        (421, "4.7.0 too many connections", Outcome.DEFERRED),
        (None, "timeout", Outcome.DEFERRED),
        (550, "5.1.1 no such user", Outcome.BOUNCED),
        (554, "transaction failed", Outcome.BOUNCED),
        (552, "5.2.2 mailbox full", Outcome.DEFERRED),
        (530, "5.7.0 Authentication required", Outcome.DEFERRED),
        (550, "5.7.0 relaying denied", Outcome.BOUNCED),
    ],
)
def test_classify(code: int | None, text: str, outcome: Outcome) -> None:
    assert classify(code, text) is outcome


def test_enhanced_code() -> None:
    assert enhanced_code("5.1.1 <a@b>: user unknown") == "5.1.1"
    assert enhanced_code("user unknown") == ""


def test_summarize() -> None:
    assert summarize(["delivered", "queued"]) == "queued"
    assert summarize(["delivered", "deferred"]) == "deferred"
    assert summarize(["delivered", "delivered"]) == "delivered"
    assert summarize(["bounced", "bounced"]) == "bounced"
    assert summarize(["delivered", "bounced"]) == "partial"
