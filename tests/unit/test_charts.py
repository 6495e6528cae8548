"""The Overview's chart geometry: nice axis maxima, ticks, bar positions, stacking."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from herald_service.core.charts import (
    BOTTOM,
    HEIGHT,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    Bucket,
    Series,
    compact,
    day_keys,
    hour_keys,
    label_every,
    nice_ceiling,
    series_of,
    stacked_bars,
    tick_values,
    window_start,
)

PLOT = HEIGHT - TOP - BOTTOM
BASELINE = HEIGHT - BOTTOM


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 1),
        (1, 1),
        (2, 2),
        (3, 5),
        (5, 5),
        (6, 10),
        (11, 20),
        (21, 50),
        (51, 100),
        (999, 1000),
        (1001, 2000),
        (100_000, 100_000),
        (100_001, 200_000),
    ],
)
def test_nice_ceiling(value: int, expected: int) -> None:
    assert nice_ceiling(value) == expected


@pytest.mark.parametrize(
    ("maximum", "expected"),
    [
        (1, [0, 1]),
        (2, [0, 1, 2]),
        (5, [0, 1, 2, 3, 4, 5]),
        (10, [0, 2, 4, 6, 8, 10]),
        (20, [0, 4, 8, 12, 16, 20]),
        (50, [0, 10, 20, 30, 40, 50]),
        (1000, [0, 200, 400, 600, 800, 1000]),
    ],
)
def test_tick_values_are_whole_and_even(maximum: int, expected: list[int]) -> None:
    assert tick_values(maximum) == expected


@pytest.mark.parametrize(("buckets", "every"), [(0, 1), (1, 1), (12, 1), (13, 2), (24, 2), (30, 3)])
def test_label_every_keeps_labels_readable(buckets: int, every: int) -> None:
    assert label_every(buckets) == every


def test_bars_stack_bottom_up_in_status_order_and_scale_to_the_axis() -> None:
    series = Series(
        "t",
        ("delivered", "bounced", "queued"),
        (
            Bucket("a", {"delivered": 6, "bounced": 2}),
            Bucket("b", {}),
            Bucket("c", {"queued": 10, "delivered": 0}),
        ),
    )
    chart = stacked_bars(series)
    assert chart.maximum == 10
    assert [t.value for t in chart.ticks] == [0, 2, 4, 6, 8, 10]
    assert chart.ticks[0].y == BASELINE and chart.ticks[-1].y == TOP
    first, empty, last = chart.bars
    assert [(s.status, s.count) for s in first.segments] == [("delivered", 6), ("bounced", 2)]
    delivered, bounced = first.segments
    assert delivered.y + delivered.height == pytest.approx(BASELINE)
    assert delivered.height == pytest.approx(PLOT * 0.6)
    assert bounced.y + bounced.height == pytest.approx(delivered.y)  # on top of delivered
    assert empty.segments == () and empty.total == 0
    assert [(s.status, s.count) for s in last.segments] == [("queued", 10)]  # zero left out
    assert last.segments[0].y == pytest.approx(TOP)
    slot = (WIDTH - LEFT - RIGHT) / 3
    assert [b.x for b in chart.bars] == pytest.approx(
        [LEFT + slot * i + slot * 0.1 for i in range(3)], abs=0.01
    )
    assert all(b.width == pytest.approx(slot * 0.8, abs=0.01) for b in chart.bars)
    assert all(b.x + b.width <= WIDTH for b in chart.bars)


def test_an_empty_series_draws_an_empty_axis() -> None:
    chart = stacked_bars(Series("t", ("delivered",), ()))
    assert chart.maximum == 1 and chart.bars == ()
    chart = stacked_bars(Series("t", ("delivered",), (Bucket("a", {}),)))
    assert chart.maximum == 1 and chart.bars[0].segments == ()


def test_the_newest_bar_is_always_labelled() -> None:
    series = Series("t", ("delivered",), tuple(Bucket(str(i), {}) for i in range(30)))
    bars = stacked_bars(series).bars
    shown = [b.label for b in bars if b.show_label]
    assert shown[-1] == "29" and len(shown) == 10 and shown[0] == "2"
    assert [b.label for b in bars if b.major] == ["5", "11", "17", "23", "29"]


@pytest.mark.parametrize(
    ("value", "label"),
    [(0, "0"), (950, "950"), (1000, "1k"), (1500, "1.5k"), (20_000, "20k"), (1_200_000, "1.2M")],
)
def test_compact_axis_labels(value: int, label: str) -> None:
    assert compact(value) == label


def test_series_of_fills_every_bucket_and_ignores_other_keys() -> None:
    rows = [
        ("k2", "delivered", 3),
        ("k2", "delivered", 2),
        ("k1", "bounced", 1),
        ("x", "queued", 9),
    ]
    series = series_of(
        "t", ("delivered", "bounced"), {"k1": "one", "k2": "two", "k3": "three"}, rows
    )
    assert [b.label for b in series.buckets] == ["one", "two", "three"]
    assert [b.counts for b in series.buckets] == [{"bounced": 1}, {"delivered": 5}, {}]
    assert series.totals() == {"delivered": 5, "bounced": 1}


def test_hour_and_day_windows() -> None:
    now = datetime(2026, 3, 1, 14, 35, 12, tzinfo=UTC)
    hours = hour_keys(now)
    assert len(hours) == 24
    assert next(iter(hours)) == "2026-02-28 15" and list(hours)[-1] == "2026-03-01 14"
    assert hours["2026-03-01 14"] == "14:00"
    assert window_start(hours) == datetime(2026, 2, 28, 15, tzinfo=UTC)
    days = day_keys(now)
    assert len(days) == 30
    assert next(iter(days)) == "2026-01-31" and list(days)[-1] == "2026-03-01"
    assert days["2026-03-01"] == "Mar 1"
    assert window_start(days) == datetime(2026, 1, 31, tzinfo=UTC)
