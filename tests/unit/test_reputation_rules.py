"""The reputation guard's pure rules: windows, minimum volume, warn and pause levels."""

from __future__ import annotations

import pytest

from herald_service.core.reputation import (
    Level,
    Thresholds,
    WindowFigures,
    calls_for_judgement,
    is_policy_block,
    judge,
    percent,
    window_figures,
)

DEFAULTS = Thresholds()


def window(
    delivered: int, hard: int = 0, soft: int = 0, complained: int = 0, name: str = "24h"
) -> WindowFigures:
    return window_figures(
        name,
        {
            "delivered": delivered,
            "bounced_hard": hard,
            "bounced_soft": soft,
            "complained": complained,
        },
    )


def test_rates_follow_the_definitions() -> None:
    figures = window(90, hard=6, soft=4, complained=9)
    assert figures.volume == 100
    assert figures.bounce_rate == pytest.approx(0.06)  # hard / (delivered + bounced)
    assert figures.complaint_rate == pytest.approx(0.1)  # complaints / delivered
    assert window(0).bounce_rate is None and window(0).complaint_rate is None


def test_nothing_is_judged_below_the_minimum_volume() -> None:
    assert judge([window(100, hard=99)], DEFAULTS).level is Level.OK  # 199 < 200
    assert judge([window(101, hard=99)], DEFAULTS).level is Level.PAUSE


@pytest.mark.parametrize(
    ("hard", "complained", "level"),
    [
        (0, 0, Level.OK),
        (19, 0, Level.OK),  # 1.9 % of 1000
        (20, 0, Level.WARN),  # 2 %
        (49, 0, Level.WARN),
        (50, 0, Level.PAUSE),  # 5 %
    ],
)
def test_levels_at_the_default_thresholds(hard: int, complained: int, level: Level) -> None:
    figures = window(1000 - hard, hard=hard, complained=complained)
    assert judge([figures], DEFAULTS).level is level


def test_complaints_pause_at_one_in_a_thousand() -> None:
    assert judge([window(1000, complained=1)], DEFAULTS).level is Level.PAUSE
    assert judge([window(1300, complained=1)], DEFAULTS).level is Level.OK  # 0.077 %
    assert judge([window(1200, complained=1)], DEFAULTS).level is Level.WARN  # 0.083 %


def test_the_worst_window_decides_and_its_reasons_are_given() -> None:
    quiet = window(1000, name="7d")
    burst = window(200, hard=20)
    judgement = judge([burst, quiet], DEFAULTS)
    assert judgement.level is Level.PAUSE
    assert judgement.reasons == (
        "bounce rate 9.09 % over the last 24h (20 of 220) reached the pause threshold of 5 %",
    )
    assert judgement.reason == judgement.reasons[0]


def test_percentages_say_as_much_as_they_need() -> None:
    assert (percent(0.05), percent(0.001), percent(0.0512), percent(1 / 11)) == (
        "5 %",
        "0.1 %",
        "5.12 %",
        "9.09 %",
    )


def test_only_hard_bounces_and_complaints_call_for_a_judgement() -> None:
    assert calls_for_judgement("message.bounced", {"bounce_type": "hard"})
    assert calls_for_judgement("message.complained", {})
    assert not calls_for_judgement("message.bounced", {"bounce_type": "soft"})
    assert not calls_for_judgement("message.delivered", {})


@pytest.mark.parametrize(
    ("code", "enhanced", "text", "blocked"),
    [
        (550, "5.7.1", "Message rejected", True),
        (554, "", "Service unavailable; client host blocked using zen.spamhaus.org", True),
        (550, "5.1.1", "User unknown", False),
        (450, "4.7.1", "try later", False),
        (None, "", "connection refused", False),
        (552, "5.2.2", "Mailbox full", False),
    ],
)
def test_policy_blocks_are_told_from_bad_addresses(
    code: int | None, enhanced: str, text: str, blocked: bool
) -> None:
    assert is_policy_block(code, enhanced, text) is blocked
