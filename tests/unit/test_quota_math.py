"""Quota arithmetic (limits, day windows, remaining, Retry-After) as tables; no Redis."""

from __future__ import annotations

import pytest

from herald_service.core.key_grants import KeyLimits
from herald_service.core.quota_math import (
    DAY_MS,
    ChargeAnswer,
    ChargePlan,
    Limits,
    PolicyState,
    QuotaDecision,
    day_policy,
    decide,
    effective_limits,
    plan_charge,
    rate_policy,
    seconds_up,
)

DEFAULTS = Limits(
    requests_per_second=50.0,
    burst=100,
    daily_recipients_per_key=50_000,
    daily_recipients_per_account=100_000,
)
DAY = 20_000  # days since the epoch
MIDNIGHT = DAY * DAY_MS
DAY_SECONDS = DAY_MS // 1000


@pytest.mark.parametrize(
    ("overrides", "limits"),
    [
        (KeyLimits(), DEFAULTS),
        (KeyLimits(requests_per_second=2.5), Limits(2.5, 100, 50_000, 100_000)),
        (KeyLimits(burst=1, daily_recipients=10), Limits(50.0, 1, 10, 100_000)),
        (KeyLimits(requests_per_second=0, burst=0, daily_recipients=0), Limits(0, 0, 0, 100_000)),
    ],
)
def test_effective_limits(overrides: KeyLimits, limits: Limits) -> None:
    assert effective_limits(DEFAULTS, overrides) == limits


@pytest.mark.parametrize(
    ("limits", "unlimited"),
    [
        (Limits(0, 10, 0, 0), True),
        (Limits(0.001, 0, 0, 0), False),
        (Limits(0, 0, 1, 0), False),
        (Limits(0, 0, 0, 1), False),
    ],
)
def test_unlimited(limits: Limits, unlimited: bool) -> None:
    assert limits.unlimited is unlimited


@pytest.mark.parametrize(
    ("limits", "now_ms", "plan"),
    [
        (DEFAULTS, MIDNIGHT, ChargePlan(MIDNIGHT, DAY, DAY_MS, 20.0, 100)),
        (DEFAULTS, MIDNIGHT + 1, ChargePlan(MIDNIGHT + 1, DAY, DAY_MS - 1, 20.0, 100)),
        (DEFAULTS, MIDNIGHT - 1, ChargePlan(MIDNIGHT - 1, DAY - 1, 1, 20.0, 100)),
        (Limits(4.0, 0, 0, 0), MIDNIGHT, ChargePlan(MIDNIGHT, DAY, DAY_MS, 250.0, 1)),
        (Limits(0, 5, 10, 0), MIDNIGHT, ChargePlan(MIDNIGHT, DAY, DAY_MS, 0.0, 5)),
    ],
)
def test_plan_charge(limits: Limits, now_ms: int, plan: ChargePlan) -> None:
    assert plan_charge(limits, now_ms) == plan


@pytest.mark.parametrize(
    ("ms", "seconds"),
    [(0, 0), (1, 1), (999, 1), (1000, 1), (1001, 2), (-5, 0), (86_400_000, 86_400)],
)
def test_seconds_up(ms: float, seconds: int) -> None:
    assert seconds_up(ms) == seconds


NOW = MIDNIGHT + 5_000
TEN_PER_SECOND = ChargePlan(NOW, DAY, DAY_MS - 5_000, 100.0, 10)


@pytest.mark.parametrize(
    ("tat_ms", "policy"),
    [
        # An idle key: its TAT is now (after this request, one interval ahead).
        (NOW + 100, PolicyState("requests", 10, 1, 9, 1)),
        (NOW + 550, PolicyState("requests", 10, 1, 4, 1)),
        (NOW + 1000, PolicyState("requests", 10, 1, 0, 1)),
        # Refused: the TAT is beyond the burst; nothing remains, reset when it is back.
        (NOW + 2500, PolicyState("requests", 10, 1, 0, 3)),
        # Never more than the burst, and never a negative reset.
        (NOW - 10_000, PolicyState("requests", 10, 1, 10, 0)),
    ],
)
def test_rate_policy(tat_ms: int, policy: PolicyState) -> None:
    assert rate_policy(TEN_PER_SECOND, tat_ms) == policy


def test_rate_policy_window_is_the_time_to_refill_the_burst() -> None:
    plan = ChargePlan(NOW, DAY, DAY_MS, 1000.0 / 0.5, 30)  # 0.5 requests per second
    assert rate_policy(plan, NOW + 2000).window == 60


@pytest.mark.parametrize(
    ("cap", "used", "day_left_ms", "policy"),
    [
        (100, 0, DAY_MS, PolicyState("p", 100, DAY_SECONDS, 100, DAY_SECONDS)),
        (100, 40, 1_500, PolicyState("p", 100, DAY_SECONDS, 60, 2)),
        (100, 100, 1_000, PolicyState("p", 100, DAY_SECONDS, 0, 1)),
        (100, 130, 1, PolicyState("p", 100, DAY_SECONDS, 0, 1)),
    ],
)
def test_day_policy(cap: int, used: int, day_left_ms: int, policy: PolicyState) -> None:
    assert day_policy("p", cap, used, day_left_ms) == policy


RATE_ONLY = Limits(10.0, 10, 0, 0)
CAPS_ONLY = Limits(0, 1, 50, 80)
RATE_AND_CAPS = Limits(10.0, 10, 50, 80)
ALLOWED = ChargeAnswer(True, 0, NOW + 100, 5, 7)
REFUSED_RATE = ChargeAnswer(False, 1_200, NOW + 1_000, 5, 7)
REFUSED_NO_WAIT = ChargeAnswer(False, 0, NOW + 1_000, 0, 0)
REFUSED_CAP = ChargeAnswer(False, DAY_MS - 5_000, NOW, 45, 7)
LEFT = DAY_SECONDS - 5
REQUESTS = PolicyState("requests", 10, 1, 9, 1)
NO_REQUESTS = PolicyState("requests", 10, 1, 0, 1)
KEY_DAY = PolicyState("recipients-key-day", 50, DAY_SECONDS, 45, LEFT)
KEY_DAY_NEAR = PolicyState("recipients-key-day", 50, DAY_SECONDS, 5, LEFT)
ACCOUNT_DAY = PolicyState("recipients-account-day", 80, DAY_SECONDS, 73, LEFT)


@pytest.mark.parametrize(
    ("limits", "recipients", "answer", "decision"),
    [
        (RATE_ONLY, 0, ALLOWED, QuotaDecision(True, 0, (REQUESTS,))),
        (RATE_AND_CAPS, 0, ALLOWED, QuotaDecision(True, 0, (REQUESTS, KEY_DAY, ACCOUNT_DAY))),
        # Recipients counted: the decision remembers the day, for a refund.
        (CAPS_ONLY, 3, ALLOWED, QuotaDecision(True, 0, (KEY_DAY, ACCOUNT_DAY), DAY)),
        # Refused: Retry-After rounds the wait up, and is at least one second.
        (RATE_ONLY, 3, REFUSED_RATE, QuotaDecision(False, 2, (NO_REQUESTS,))),
        (RATE_ONLY, 0, REFUSED_NO_WAIT, QuotaDecision(False, 1, (NO_REQUESTS,))),
        (CAPS_ONLY, 10, REFUSED_CAP, QuotaDecision(False, LEFT, (KEY_DAY_NEAR, ACCOUNT_DAY))),
    ],
)
def test_decide(
    limits: Limits, recipients: int, answer: ChargeAnswer, decision: QuotaDecision
) -> None:
    plan = plan_charge(limits, NOW)
    assert decide(plan, limits, recipients, answer) == decision


@pytest.mark.parametrize(
    ("decision", "headers"),
    [
        (QuotaDecision(True, 0, ()), {}),
        (
            QuotaDecision(True, 0, (REQUESTS, KEY_DAY)),
            {
                "RateLimit-Policy": '"requests";q=10;w=1, '
                f'"recipients-key-day";q=50;w={DAY_SECONDS}',
                "RateLimit": f'"requests";r=9;t=1, "recipients-key-day";r=45;t={LEFT}',
            },
        ),
        (
            QuotaDecision(False, 3, (REQUESTS,)),
            {
                "RateLimit-Policy": '"requests";q=10;w=1',
                "RateLimit": '"requests";r=9;t=1',
                "Retry-After": "3",
            },
        ),
    ],
)
def test_headers(decision: QuotaDecision, headers: dict[str, str]) -> None:
    assert decision.headers() == headers
