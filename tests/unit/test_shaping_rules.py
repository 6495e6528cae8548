"""Traffic shaping's pure rules: the shaping file, matching a destination, "slow down"
replies and halving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from herald_service.core.delivery_judgement import Attempt, RetryPolicy, judge
from herald_service.core.shaping import (
    DEFAULT_RULES,
    MIN_FACTOR,
    Adaptive,
    Rule,
    effective_per_hour,
    effective_per_minute,
    halved,
    is_slow_down,
    parse_shaping,
    waiting_text,
)
from herald_service.core.smtp_replies import Outcome
from herald_service.settings import ConfigError, load_settings

EXAMPLE = """
[adaptive]
cooldown = "5m"
default_per_minute = 300

[destinations.gmail]
per_minute = 600

[destinations.slow]
domains = ["slow.example", "Slower.Example."]
mx_suffixes = ["mx.slow.example"]
connections = 2
messages_per_connection = 10
per_minute = 120
per_hour = 1000
"""


def test_a_file_overrides_and_adds_to_the_built_in_rules() -> None:
    rules = parse_shaping(EXAMPLE)
    gmail = rules.by_name("gmail")
    assert gmail is not None
    assert gmail.per_minute == 600  # overridden
    assert gmail.per_hour == DEFAULT_RULES.by_name("gmail").per_hour  # type: ignore[union-attr]
    assert "google.com" in gmail.mx_suffixes  # kept from the built-in rule
    slow = rules.by_name("slow")
    assert slow == Rule(
        name="slow",
        domains=("slow.example", "slower.example"),
        mx_suffixes=("mx.slow.example",),
        connections=2,
        messages_per_connection=10,
        per_minute=120,
        per_hour=1000,
    )
    assert rules.adaptive == Adaptive(cooldown=300.0, default_per_minute=300)


def test_built_in_rules_can_be_left_out() -> None:
    rules = parse_shaping('builtin = false\n[destinations.a]\ndomains = ["a.example"]\n')
    assert [r.name for r in rules.rules] == ["a"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("speed = 1", "unknown key 'speed'"),
        ('[destinations.a]\ndomains = ["a.example"]\nper_minute = -5', "negative"),
        ('[destinations.a]\ndomains = ["a.example"]\nper_mintue = 5', "unknown key 'per_mintue'"),
        ('[destinations.a]\ndomains = ["a.example"]\nper_hour = "lots"', "whole number"),
        ('[destinations.a]\ndomains = ["not a domain"]', "not a domain name"),
        ("[destinations.a]\nper_minute = 5", "give domains or mx_suffixes"),
        ('[adaptive]\ncooldown = "soon"', "not a duration"),
        ("[adaptive]\ndefault_per_minute = 0", "at least 1"),
        ("[adaptive]\nhalf = 1", "unknown key 'half'"),
        ("destinations = [", "not valid TOML"),
    ],
)
def test_a_bad_file_is_refused_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_shaping(text)


def test_settings_refuse_a_bad_shaping_file_at_start_up(tmp_path: Path) -> None:
    bad = tmp_path / "shaping.toml"
    bad.write_text("[destinations.gmail]\nper_hour = -1\n")
    with pytest.raises(ConfigError, match=r"HERALD_SHAPING_FILE: destinations\.gmail\.per_hour"):
        load_settings({"HERALD_SHAPING_FILE": str(bad)}, env_file=tmp_path / "none")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings({"HERALD_SHAPING_FILE": str(tmp_path / "gone.toml")}, env_file=bad)
    good = tmp_path / "good.toml"
    good.write_text(EXAMPLE)
    settings = load_settings({"HERALD_SHAPING_FILE": str(good)}, env_file=tmp_path / "none")
    assert settings.shaping_file == str(good)


@pytest.mark.parametrize(
    ("domain", "hosts", "expected"),
    [
        ("gmail.com", (), "gmail"),
        ("company.example", ("aspmx.l.google.com.",), "gmail"),
        ("company.example", ("alt1.aspmx.l.GOOGLE.com",), "gmail"),
        ("corp.example", ("corp-example.mail.protection.outlook.com",), "outlook"),
        ("hotmail.com", (), "outlook"),
        ("aol.com", ("mx-aol.mail.gm0.yahoodns.net",), "yahoo"),
        ("me.com", (), "icloud"),
        ("example.com", ("mx.example.com",), None),
        ("notgoogle.com", ("mx.notgoogle.com",), None),  # a suffix matches at a dot only
        ("receiver.example", ("mx.receiver.example",), None),
    ],
)
def test_a_destination_is_matched_by_domain_then_by_mx_suffix(
    domain: str, hosts: tuple[str, ...], expected: str | None
) -> None:
    rule = DEFAULT_RULES.matcher().match(domain, hosts)
    assert (rule.name if rule else None) == expected


def test_the_longest_mx_suffix_wins() -> None:
    rules = parse_shaping('[destinations.workspace]\nmx_suffixes = ["aspmx.l.google.com"]\n')
    matcher = rules.matcher()
    assert matcher.match("co.example", ("aspmx.l.google.com",)).name == "workspace"  # type: ignore[union-attr]
    assert matcher.match("co.example", ("smtp.google.com",)).name == "gmail"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("code", "enhanced", "text", "slow"),
    [
        (421, "4.7.28", "4.7.28 Our system has detected an unusual rate of mail", True),
        (421, "", "Service not available, closing channel", True),
        (450, "4.7.28", "4.7.28 rate limited", True),
        (451, "4.7.0", "4.7.0 Temporary rate limit exceeded", True),
        (452, "", "Too many recipients received this hour", True),
        (451, "4.7.0", "4.7.0 Please try again later", True),
        (450, "4.2.1", "4.2.1 The user you are contacting is receiving mail too fast", False),
        (451, "4.3.0", "4.3.0 Temporary local problem", False),
        (451, "4.3.0", "4.3.0 Temporary failure, try again later", False),  # not about rate
        (451, "4.7.1", "4.7.1 Greylisted, try again later", True),
        (450, "4.1.1", "Mailbox unavailable", False),
        (550, "5.7.1", "rate limit exceeded, blocked", False),  # a block, not a slow-down
        (250, "2.0.0", "OK", False),
        (None, "", "TimeoutError: too many seconds", False),
    ],
)
def test_slow_down_replies(code: int | None, enhanced: str, text: str, slow: bool) -> None:
    assert is_slow_down(code, enhanced, text) is slow


def test_halving_goes_down_to_a_floor() -> None:
    factors = [1.0]
    for _ in range(6):
        factors.append(halved(factors[-1]))
    assert factors == [1.0, 0.5, 0.25, 0.125, 0.0625, MIN_FACTOR, MIN_FACTOR]


def test_effective_rates_halve_the_rule_or_the_default() -> None:
    adaptive = Adaptive(default_per_minute=600)
    rule = Rule(name="slow", domains=("slow.example",), per_minute=120, per_hour=1000)
    assert effective_per_minute(rule, adaptive, 1.0) == 120
    assert effective_per_minute(rule, adaptive, 0.5) == 60
    assert effective_per_minute(None, adaptive, 1.0) == 0  # no rule, not halved: no limit
    assert effective_per_minute(None, adaptive, 0.5) == 300
    hourly = Rule(name="h", domains=("h.example",), per_hour=1000)
    assert effective_per_minute(hourly, adaptive, 0.25) == 150  # from the default
    assert effective_per_hour(rule, 0.5) == 500
    assert effective_per_hour(None, 0.5) == 0
    assert effective_per_minute(rule, adaptive, 0.001) == 1  # never zero


def test_the_deferral_reason_says_which_budget_and_when() -> None:
    assert (
        waiting_text("gmail", "3000/h", 700)
        == "shaping: gmail budget of 3000/h used; next try in 12 min"
    )
    assert waiting_text("slow", "120/min", 31.2).endswith("next try in 32 s")


def test_a_batch_deferred_for_its_budget_retries_when_it_frees_and_never_expires() -> None:
    now = datetime(2026, 1, 10, tzinfo=UTC)
    policy = RetryPolicy((60.0,), max_age=3600.0)
    old = now - timedelta(days=5)  # far past the retry window
    text = waiting_text("gmail", "3000/h", 700)
    verdict = judge(Attempt(None, text, "4.7.0", 3, old, retry_after=700.0), policy, now)
    assert verdict.outcome is Outcome.DEFERRED
    assert verdict.next_attempt_at == now + timedelta(seconds=700)
    expired = judge(Attempt(None, "timed out", "", 3, old), policy, now)
    assert expired.outcome is Outcome.BOUNCED  # an ordinary deferral that old expires
