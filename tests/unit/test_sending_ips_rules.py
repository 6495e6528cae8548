"""The pure rules of sending IPs: configuration, warm-up days and caps, pools, order."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from herald_service.core.delivery_judgement import Attempt, RetryPolicy, judge
from herald_service.core.sending_ips import (
    DEFAULT_WARMUP_SCHEDULE,
    Candidate,
    IpState,
    SendingIp,
    candidates,
    daily_cap,
    next_utc_midnight,
    parse_sending_ips,
    parse_warmup_schedule,
    pool_members,
    waiting_reason,
    warmup_day,
)
from herald_service.settings import ConfigError, load_settings

DAY1 = date(2026, 12, 1)


def test_addresses_with_optional_ehlo_names() -> None:
    assert parse_sending_ips(" 127.0.0.10=mta1.example.com. , 127.0.0.11;2001:db8::1 ") == (
        SendingIp("127.0.0.10", "mta1.example.com"),
        SendingIp("127.0.0.11"),
        SendingIp("2001:db8::1"),
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("mta.example.com", "is not an IP address"),
        ("127.0.0.10=not a name", "is not a host name"),
        ("127.0.0.10=localhost", "is not a host name"),
        ("127.0.0.10,127.0.0.10", "listed twice"),
    ],
)
def test_bad_sending_ips_are_a_config_error_naming_the_setting(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"HERALD_SENDING_IPS: .*{message}"):
        load_settings({"HERALD_SENDING_IPS": raw}, env_file=None)


def test_settings_keep_addresses_and_names_apart() -> None:
    settings = load_settings({"HERALD_SENDING_IPS": "127.0.0.10=mta1.example.com,127.0.0.11"})
    assert settings.sending_ips == ("127.0.0.10", "127.0.0.11")
    assert settings.sending_ip_names == (("127.0.0.10", "mta1.example.com"),)


def test_the_schedule_is_rising_positive_caps() -> None:
    assert parse_warmup_schedule("50, 100,1_000") == (50, 100, 1000)
    for bad, why in [
        ("", "at least one"),
        ("0,10", "above 0"),
        ("50,x", "above 0"),
        ("9,5", "grow"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_warmup_schedule(bad)
    assert len(DEFAULT_WARMUP_SCHEDULE) == 30
    assert list(DEFAULT_WARMUP_SCHEDULE) == sorted(DEFAULT_WARMUP_SCHEDULE)


def test_day_of_warm_up_and_todays_cap() -> None:
    schedule = (3, 10, 50)
    assert warmup_day(DAY1, DAY1) == 1
    assert warmup_day(DAY1, date(2026, 12, 3)) == 3
    assert daily_cap(schedule, DAY1, DAY1) == 3
    assert daily_cap(schedule, DAY1, date(2026, 12, 2)) == 10
    assert daily_cap(schedule, DAY1, date(2026, 12, 4)) is None  # past the schedule: warm
    assert daily_cap(schedule, None, DAY1) is None  # not warming
    assert daily_cap(schedule, date(2026, 12, 5), DAY1) == 3  # starts in the future: day 1


def test_next_utc_midnight() -> None:
    late = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert next_utc_midnight(late) == datetime(2027, 1, 1, tzinfo=UTC)


CONFIGURED = ("10.0.0.1", "10.0.0.2", "10.0.0.3")


def test_the_default_pool_holds_the_addresses_in_no_other_pool() -> None:
    states = {"10.0.0.3": IpState("10.0.0.3", "bulk")}
    assert pool_members("default", states, CONFIGURED) == ("10.0.0.1", "10.0.0.2")
    assert pool_members("bulk", states, CONFIGURED) == ("10.0.0.3",)
    assert pool_members("gone", states, CONFIGURED) == ("10.0.0.1", "10.0.0.2")
    every = {a: IpState(a, "bulk") for a in CONFIGURED}
    assert pool_members("default", every, CONFIGURED) == CONFIGURED


def test_warming_addresses_first_then_warm_ones_rotated() -> None:
    states = {"10.0.0.2": IpState("10.0.0.2", warmup_started_on=DAY1)}
    order = candidates(CONFIGURED, states, (3, 10), DAY1, spread=1)
    assert order == [
        Candidate("10.0.0.2", 3),
        Candidate("10.0.0.3", None),
        Candidate("10.0.0.1", None),
    ]
    used_up = candidates(CONFIGURED, states, (3, 10), DAY1, {"10.0.0.2": 3})
    assert [c.address for c in used_up] == ["10.0.0.1", "10.0.0.3"]
    excluded = candidates(CONFIGURED, states, (3,), DAY1, excluded=frozenset({"10.0.0.1"}))
    assert [c.address for c in excluded] == ["10.0.0.2", "10.0.0.3"]


def test_why_mail_waits() -> None:
    states = {"10.0.0.1": IpState("10.0.0.1", warmup_started_on=DAY1)}
    assert waiting_reason(["10.0.0.1"], states, (3,), DAY1) == (
        "warm-up: IP daily cap of 3 (10.0.0.1) reached; waiting for tomorrow's allowance"
    )
    out = waiting_reason(["10.0.0.1"], states, (3,), DAY1, frozenset({"10.0.0.1"}))
    assert out.startswith("no sending IP of the pool is in rotation")


def test_a_warm_up_deferral_waits_until_midnight_and_does_not_expire() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    midnight = datetime(2026, 12, 2, tzinfo=UTC)
    policy = RetryPolicy((60.0,), 3600)
    wait = (next_utc_midnight(now) - now).total_seconds()
    old = datetime(2026, 11, 20, tzinfo=UTC)  # past the retry window: Herald held it back
    verdict = judge(Attempt(None, "warm-up: ...", "", 4, old, retry_after=wait), policy, now)
    assert (verdict.status.value, verdict.next_attempt_at) == ("deferred", midnight)
