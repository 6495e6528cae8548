"""The arithmetic around per-key quotas: limits, UTC-day windows, what remains, when to retry.

The atomic part (read, compare, spend) runs in Redis (:mod:`herald_service.keys.quotas`);
everything it needs before (the plan: clock, day, interval, burst) and everything said
after (the IETF ``RateLimit`` policies and ``Retry-After``) is computed here from plain
numbers. The request rate is a GCRA: one "theoretical arrival time" (TAT) per key, a
request allowed when it does not run ahead of that time by more than the burst.
"""

from __future__ import annotations

import math

from msgspec import Struct

from herald_service.core.key_grants import KeyLimits

DAY_MS = 86_400_000
REQUESTS_POLICY = "requests"
KEY_DAY_POLICY = "recipients-key-day"
ACCOUNT_DAY_POLICY = "recipients-account-day"


class Limits(Struct, frozen=True):
    """The effective limits of one key (0 disables a limit)."""

    requests_per_second: float
    burst: int
    daily_recipients_per_key: int
    daily_recipients_per_account: int

    @property
    def unlimited(self) -> bool:
        """No limit applies: no rate and no daily cap (counters are kept only for caps)."""
        return not (
            self.requests_per_second > 0
            or self.daily_recipients_per_key
            or self.daily_recipients_per_account
        )


class PolicyState(Struct, frozen=True):
    """One quota policy and where the caller stands, as the IETF RateLimit fields say it."""

    name: str
    quota: int
    window: int
    remaining: int
    reset: int


class QuotaDecision(Struct, frozen=True):
    """The outcome of charging a request: allowed or not, and the state of each policy."""

    allowed: bool
    retry_after: int
    policies: tuple[PolicyState, ...]
    day: int = -1
    """The UTC day (days since the epoch) recipients were counted on; -1: not counted."""

    def headers(self) -> dict[str, str]:
        """``RateLimit-Policy``, ``RateLimit`` and, when refused, ``Retry-After``."""
        headers = {
            "RateLimit-Policy": ", ".join(
                f'"{p.name}";q={p.quota};w={p.window}' for p in self.policies
            ),
            "RateLimit": ", ".join(
                f'"{p.name}";r={p.remaining};t={p.reset}' for p in self.policies
            ),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return {k: v for k, v in headers.items() if v}


UNLIMITED = QuotaDecision(allowed=True, retry_after=0, policies=())


class ChargePlan(Struct, frozen=True):
    """What one charge is measured against: the clock, the UTC day and the rate."""

    now_ms: int
    day: int
    """Days since the epoch: recipients are counted per UTC day."""
    day_left_ms: int
    interval_ms: float
    """Milliseconds one request's allowance takes to come back; 0: no rate limit."""
    burst: int


class ChargeAnswer(Struct, frozen=True):
    """What the atomic check answered: allowed, how long to wait, the TAT, usage today."""

    allowed: bool
    wait_ms: int
    tat_ms: int
    key_used: int
    account_used: int


def effective_limits(defaults: Limits, overrides: KeyLimits) -> Limits:
    """The key's overrides over the server's defaults (the account cap has none)."""
    return Limits(
        requests_per_second=defaults.requests_per_second
        if overrides.requests_per_second is None
        else overrides.requests_per_second,
        burst=defaults.burst if overrides.burst is None else overrides.burst,
        daily_recipients_per_key=defaults.daily_recipients_per_key
        if overrides.daily_recipients is None
        else overrides.daily_recipients,
        daily_recipients_per_account=defaults.daily_recipients_per_account,
    )


def plan_charge(limits: Limits, now_ms: int) -> ChargePlan:
    """The day window and rate of a charge at ``now_ms`` (a burst is at least 1)."""
    day = now_ms // DAY_MS
    rate = limits.requests_per_second
    return ChargePlan(
        now_ms=now_ms,
        day=day,
        day_left_ms=(day + 1) * DAY_MS - now_ms,
        interval_ms=1000.0 / rate if rate > 0 else 0.0,
        burst=max(1, limits.burst),
    )


def seconds_up(ms: float) -> int:
    """Milliseconds as whole seconds, rounded up, never negative."""
    return max(0, math.ceil(ms / 1000))


def rate_policy(plan: ChargePlan, tat_ms: int) -> PolicyState:
    """The request rate as a policy: the burst over the time it takes to refill."""
    interval, burst = plan.interval_ms, plan.burst
    remaining = math.floor((plan.now_ms + burst * interval - tat_ms) / interval)
    return PolicyState(
        name=REQUESTS_POLICY,
        quota=burst,
        window=max(1, math.ceil(burst * interval / 1000)),
        remaining=min(burst, max(0, remaining)),
        reset=seconds_up(tat_ms - plan.now_ms),
    )


def day_policy(name: str, cap: int, used: int, day_left_ms: int) -> PolicyState:
    """A daily recipient cap as a policy: it resets at midnight UTC."""
    return PolicyState(
        name=name,
        quota=cap,
        window=DAY_MS // 1000,
        remaining=max(0, cap - used),
        reset=seconds_up(day_left_ms),
    )


def decide(
    plan: ChargePlan, limits: Limits, recipients: int, answer: ChargeAnswer
) -> QuotaDecision:
    """The decision to report: every policy that applies, ``Retry-After`` when refused
    (at least 1 s), and the day recipients were counted on (only when they were)."""
    policies: list[PolicyState] = []
    if plan.interval_ms > 0:
        policies.append(rate_policy(plan, answer.tat_ms))
    for name, cap, used in (
        (KEY_DAY_POLICY, limits.daily_recipients_per_key, answer.key_used),
        (ACCOUNT_DAY_POLICY, limits.daily_recipients_per_account, answer.account_used),
    ):
        if cap > 0:
            policies.append(day_policy(name, cap, used, plan.day_left_ms))
    return QuotaDecision(
        allowed=answer.allowed,
        retry_after=0 if answer.allowed else max(1, seconds_up(answer.wait_ms)),
        policies=tuple(policies),
        day=plan.day if answer.allowed and recipients > 0 else -1,
    )
