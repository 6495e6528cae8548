"""The reputation guard's rules: rolling-window rates against warn and pause thresholds.

A sending domain is judged on two rolling windows of its stats counters (the last 24
hours, read from hour rows, and the last 7 days, from day rows): its bounce rate (hard
bounces / delivered + bounced) and its complaint rate (complaints / delivered). Nothing is
judged below a minimum volume, so three bounces out of the first ten messages of a new
domain warn nobody. Amazon SES reviews an account at 5 % bounces or 0.1 % complaints;
Gmail asks senders to stay under 0.3 % spam rate: the defaults warn below those figures
and pause at them, before the mailbox providers start refusing the domain for everyone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from msgspec import Struct


class Level(StrEnum):
    """What a judgement calls for, in rising order."""

    OK = "ok"
    WARN = "warn"
    PAUSE = "pause"


class Thresholds(Struct, frozen=True, kw_only=True):
    """When to warn and when to pause (rates as fractions: 0.05 is 5 %)."""

    min_volume: int = 200
    """Recipients with an outcome (delivered + bounced) a window needs before it counts."""
    bounce_warn: float = 0.02
    bounce_pause: float = 0.05
    complaint_warn: float = 0.0008
    complaint_pause: float = 0.001


class WindowFigures(Struct, frozen=True):
    """One rolling window's counts and rates."""

    window: str
    """``24h`` or ``7d``."""
    delivered: int
    bounced_hard: int
    bounced_soft: int
    complained: int

    @property
    def volume(self) -> int:
        """Recipients with an outcome: what the minimum volume is compared with."""
        return self.delivered + self.bounced_hard + self.bounced_soft

    @property
    def bounce_rate(self) -> float | None:
        """Hard bounces / (delivered + bounced); None with nothing to divide by."""
        return self.bounced_hard / self.volume if self.volume else None

    @property
    def complaint_rate(self) -> float | None:
        """Complaints / delivered; None with nothing delivered."""
        return self.complained / self.delivered if self.delivered else None


class Judgement(Struct, frozen=True):
    """The verdict on a domain's windows: its level and, above ``ok``, why."""

    level: Level
    reasons: tuple[str, ...]
    windows: tuple[WindowFigures, ...]

    @property
    def reason(self) -> str:
        """The reasons as one sentence."""
        return "; ".join(self.reasons)


def window_figures(window: str, counts: Mapping[str, int]) -> WindowFigures:
    """A window's figures from summed stats counters."""
    return WindowFigures(
        window=window,
        delivered=counts.get("delivered", 0),
        bounced_hard=counts.get("bounced_hard", 0),
        bounced_soft=counts.get("bounced_soft", 0),
        complained=counts.get("complained", 0),
    )


def percent(rate: float) -> str:
    """``0.0512`` → ``5.12 %`` (as few decimals as say it: ``0.1 %``, ``5 %``)."""
    text = f"{rate * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text} %"


def _crossed(figures: WindowFigures, thresholds: Thresholds) -> list[tuple[Level, str]]:
    """The thresholds one window reaches, each with its sentence."""
    found: list[tuple[Level, str]] = []
    rates = (
        ("bounce rate", figures.bounce_rate, figures.bounced_hard, figures.volume,
         thresholds.bounce_warn, thresholds.bounce_pause),
        ("complaint rate", figures.complaint_rate, figures.complained, figures.delivered,
         thresholds.complaint_warn, thresholds.complaint_pause),
    )  # fmt: skip
    for name, rate, part, whole, warn_at, pause_at in rates:
        if rate is None:
            continue
        if rate >= pause_at:
            level, limit = Level.PAUSE, pause_at
        elif rate >= warn_at:
            level, limit = Level.WARN, warn_at
        else:
            continue
        found.append(
            (
                level,
                f"{name} {percent(rate)} over the last {figures.window} ({part} of {whole}) "
                f"reached the {level.value} threshold of {percent(limit)}",
            )
        )
    return found


def judge(windows: Sequence[WindowFigures], thresholds: Thresholds) -> Judgement:
    """The level a domain's windows call for: ``pause`` if any window with enough volume
    reaches a pause threshold, else ``warn`` if one reaches a warn threshold, else ``ok``."""
    crossed: list[tuple[Level, str]] = []
    for figures in windows:
        if figures.volume < max(thresholds.min_volume, 1):
            continue
        crossed.extend(_crossed(figures, thresholds))
    if not crossed:
        return Judgement(Level.OK, (), tuple(windows))
    top = max((level for level, _ in crossed), key=list(Level).index)
    return Judgement(top, tuple(text for level, text in crossed if level is top), tuple(windows))


def calls_for_judgement(event_type: str, data: Mapping[str, object]) -> bool:
    """Whether an event can raise a rate: a hard bounce or a complaint (a delivery only
    lowers them), so the guard reads the counters only after such events."""
    if event_type == "message.complained":
        return True
    return event_type == "message.bounced" and data.get("bounce_type") == "hard"


_BLOCK_WORDS = ("spam", "blocked", "blocklist", "blacklist", "block list", "reputation", "policy")


def is_policy_block(code: int | None, enhanced_code: str, text: str) -> bool:
    """Whether a refusal is about the sender rather than the recipient: a ``5.7.x`` policy
    code, or a 5xx whose text speaks of spam, blocking or reputation (``550 5.7.1 ...
    spam``, ``554 ... blocked using zen.spamhaus.org``). A burst of them from one
    destination means retrying blindly only deepens the block."""
    if code is None or not 500 <= code < 600:
        return False
    if enhanced_code.startswith("5.7."):
        return True
    lowered = text.lower()
    return any(word in lowered for word in _BLOCK_WORDS)
