"""Stacked bar charts as plain geometry: what the console's Overview draws as SVG.

The data a chart reads is one plain struct, :class:`Series`: a title, the statuses in
stacking order, and a list of :class:`Bucket` (a label and a count per status). The
console fills it from the stats counters kept per hour and day (the Overview's
``console/overview_queries.py``, the Stats page's ``console/stats_page.py``), so drawing
a chart never scans messages or events.

Everything here is arithmetic over those values: the axis maximum rounded up to a "nice"
number (1, 2 or 5 times a power of ten), its ticks, each bar's x position and each
status's segment, in the units of an SVG ``viewBox`` of :data:`WIDTH` by :data:`HEIGHT`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import msgspec

WIDTH = 960
HEIGHT = 300
LEFT = 64  # room for the y-axis labels
RIGHT = 40  # room for half of the newest bar's label
TOP = 16
BOTTOM = 40  # room for the x-axis labels
GAP = 0.2  # the share of a bar's slot left empty between bars


class Bucket(msgspec.Struct, frozen=True):
    """One bar: a label (an hour, a day) and how many recipients are in each status."""

    label: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Every recipient of the bucket, whatever its status."""
        return sum(self.counts.values())


class Series(msgspec.Struct, frozen=True):
    """What a chart shows: buckets in time order, stacked by ``statuses`` (bottom first)."""

    title: str
    statuses: tuple[str, ...]
    buckets: tuple[Bucket, ...]

    def totals(self) -> dict[str, int]:
        """The count of each status over every bucket."""
        return {s: sum(b.counts.get(s, 0) for b in self.buckets) for s in self.statuses}


class Segment(msgspec.Struct, frozen=True):
    """One status's part of a bar."""

    status: str
    count: int
    y: float
    height: float


class Bar(msgspec.Struct, frozen=True):
    """One bucket drawn: its slot, its segments (bottom first, empty ones left out)."""

    label: str
    total: int
    x: float
    width: float
    segments: tuple[Segment, ...]
    show_label: bool
    major: bool
    """Labelled on narrow screens too (every other label)."""


class Tick(msgspec.Struct, frozen=True):
    """A y-axis gridline and its short label."""

    value: int
    y: float
    label: str


class Chart(msgspec.Struct, frozen=True):
    """A series ready to draw in a ``0 0 WIDTH HEIGHT`` viewBox."""

    series: Series
    maximum: int
    ticks: tuple[Tick, ...]
    bars: tuple[Bar, ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least ``value`` (1 for 0)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def tick_values(maximum: int, count: int = 5) -> list[int]:
    """Whole-number gridlines from 0 to ``maximum`` (a nice number), at most ``count``
    intervals, evenly spaced."""
    for intervals in range(count, 0, -1):
        if maximum % intervals == 0:
            step = maximum // intervals
            return [step * i for i in range(intervals + 1)]
    return [0, maximum]  # pragma: no cover - every nice number divides by 1


def compact(value: int) -> str:
    """A short axis label: 950, 1.5k, 20k, 1.2M."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= size:
            return f"{value / size:.1f}".removesuffix(".0") + suffix
    return str(value)


def label_every(buckets: int, room: int = 12) -> int:
    """Label every n-th bar so that at most ``room`` labels are shown."""
    return max(1, -(-buckets // room))


def stacked_bars(series: Series) -> Chart:
    """The geometry of ``series`` as stacked bars (see the module docstring)."""
    maximum = nice_ceiling(max((b.total for b in series.buckets), default=0))
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = float(HEIGHT - BOTTOM)

    def y_of(value: int) -> float:
        return round(baseline - plot_height * value / maximum, 2)

    slot = (WIDTH - LEFT - RIGHT) / max(len(series.buckets), 1)
    width = round(slot * (1 - GAP), 2)
    every = label_every(len(series.buckets))
    bars = []
    for index, bucket in enumerate(series.buckets):
        segments = []
        below = 0
        for status in series.statuses:
            count = bucket.counts.get(status, 0)
            if count <= 0:
                continue
            top = y_of(below + count)
            segments.append(Segment(status, count, top, round(y_of(below) - top, 2)))
            below += count
        x = round(LEFT + slot * index + (slot - width) / 2, 2)
        age = len(series.buckets) - 1 - index  # the newest is always labelled
        show, major = age % every == 0, age % (2 * every) == 0
        bars.append(Bar(bucket.label, bucket.total, x, width, tuple(segments), show, major))
    ticks = tuple(Tick(v, y_of(v), compact(v)) for v in tick_values(maximum))
    return Chart(series, maximum, ticks, tuple(bars))


def series_of(
    title: str,
    statuses: Sequence[str],
    labels: Mapping[str, str],
    rows: Iterable[tuple[str, str, int]],
) -> Series:
    """A series with one bucket per key of ``labels`` (in its order, empty ones too,
    labelled by its value), from ``(key, status, count)`` rows such as a ``GROUP BY``
    returns; rows of other keys are ignored."""
    counts: dict[str, dict[str, int]] = {key: {} for key in labels}
    for key, status, count in rows:
        if key in counts:
            counts[key][status] = counts[key].get(status, 0) + count
    return Series(
        title, tuple(statuses), tuple(Bucket(label, counts[k]) for k, label in labels.items())
    )


def hour_keys(now: datetime) -> dict[str, str]:
    """The last 24 hours up to ``now`` (UTC): ``YYYY-MM-DD HH`` keys, ``HH:00`` labels,
    oldest first; the first key's hour is where the window starts."""
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [end - timedelta(hours=n) for n in range(23, -1, -1)]
    return {h.strftime("%Y-%m-%d %H"): h.strftime("%H:00") for h in hours}


def day_keys(now: datetime) -> dict[str, str]:
    """The last 30 days up to ``now`` (UTC): ``YYYY-MM-DD`` keys, ``Mon D`` labels,
    oldest first; the first key's midnight is where the window starts."""
    today = now.astimezone(UTC).date()
    days = [today - timedelta(days=n) for n in range(29, -1, -1)]
    return {d.isoformat(): f"{d:%b} {d.day}" for d in days}


def window_start(keys: Mapping[str, str]) -> datetime:
    """The UTC instant where the first of :func:`hour_keys` or :func:`day_keys` begins."""
    first = next(iter(keys))
    fmt = "%Y-%m-%d %H" if len(first) > 10 else "%Y-%m-%d"
    return datetime.strptime(first, fmt).replace(tzinfo=UTC)
