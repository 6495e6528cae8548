"""Stats arithmetic: which counters a batch of events adds to, latency buckets, rates.

Events are folded into counter *deltas*, grouped by the counter row they add to, so a
batch of 500 events becomes a handful of upserts. The deltas come out sorted by the
rows' primary key: concurrent transactions then lock shared rows in the same order and
cannot deadlock on them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

COUNTERS = (
    "accepted_requests",
    "accepted_recipients",
    "delivered",
    "deferred",
    "bounced_hard",
    "bounced_soft",
    "dropped",
    "complained",
    "opened",
    "clicked",
    "unsubscribed",
)
"""Every counter, in the order the API shows them."""

_COUNTER_OF_TYPE = {
    "message.delivered": "delivered",
    "message.deferred": "deferred",
    "message.dropped": "dropped",
    "message.complained": "complained",
    "message.opened": "opened",
    "message.clicked": "clicked",
    "message.unsubscribed": "unsubscribed",
}

LATENCY_BOUNDS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)
"""Upper bounds (seconds, inclusive) of the latency buckets; one more bucket holds the rest."""

LATENCY_COLUMNS = tuple(f"b{index:02d}" for index in range(len(LATENCY_BOUNDS) + 1))
"""The column of each latency bucket: one row holds a day's whole histogram."""

DAY = "day"
HOUR = "hour"
ALL_TAGS = ""
"""The tag of the row that counts every message once, whatever its tags."""

CounterKey = tuple[str, str, str, datetime, str]
"""``(account_id, granularity, tag, bucket start, domain)``: a counter row's primary key."""

LatencyKey = tuple[str, datetime, str]
"""``(account_id, day, domain)``: a latency row's primary key (but the writer's stripe)."""


class CountedEvent(Protocol):
    """What counting needs of an event."""

    @property
    def account_id(self) -> str: ...
    @property
    def message_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def domain(self) -> str: ...
    @property
    def tags(self) -> Sequence[str]: ...
    @property
    def accepted_at(self) -> datetime | None: ...


def day_start(at: datetime) -> datetime:
    """The start of ``at``'s day (``at`` is UTC)."""
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def hour_start(at: datetime) -> datetime:
    """The start of ``at``'s hour."""
    return at.replace(minute=0, second=0, microsecond=0)


def counter_of(event: CountedEvent) -> str | None:
    """The counter an event adds one to (None: it counts nowhere, e.g. a cancel).
    An acceptance counts a recipient; its request is counted once per message apart."""
    if event.type == "message.accepted":
        return "accepted_recipients"
    if event.type == "message.bounced":
        return "bounced_hard" if event.data.get("bounce_type") == "hard" else "bounced_soft"
    return _COUNTER_OF_TYPE.get(event.type)


def counter_deltas(events: Iterable[CountedEvent]) -> list[tuple[CounterKey, dict[str, int]]]:
    """What ``events`` add to the counter rows: one entry per row, sorted by key, each with
    only the counters it changes."""
    # First per (account, domain, tags, counter, hour): the events of a batch share few.
    groups: dict[tuple[str, str, tuple[str, ...], str, datetime], list[int]] = {}
    messages: dict[tuple[str, str, tuple[str, ...], datetime], set[str]] = defaultdict(set)
    for event in events:
        counter = counter_of(event)
        if counter is None:
            continue
        tags = tuple(event.tags)
        hour = hour_start(event.at)
        group = groups.setdefault((event.account_id, event.domain, tags, counter, hour), [0])
        group[0] += 1
        if counter == "accepted_recipients":
            messages[(event.account_id, event.domain, tags, hour)].add(event.message_id)
    deltas: dict[CounterKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    requests: dict[CounterKey, set[str]] = defaultdict(set)
    for (account_id, domain, tags, counter, hour), (count,) in groups.items():
        day = day_start(hour)
        for tag in (ALL_TAGS, *tags):
            for key in ((account_id, DAY, tag, day, domain), (account_id, HOUR, tag, hour, domain)):
                deltas[key][counter] += count
                if counter == "accepted_recipients":
                    requests[key] |= messages[(account_id, domain, tags, hour)]
    for key, ids in requests.items():
        deltas[key]["accepted_requests"] = len(ids)
    return [(key, dict(deltas[key])) for key in sorted(deltas)]


def latency_bucket(seconds: float) -> int:
    """The index of the latency bucket ``seconds`` falls in."""
    return bisect_left(LATENCY_BOUNDS, seconds)


def latency_deltas(events: Iterable[CountedEvent]) -> list[tuple[LatencyKey, dict[str, int]]]:
    """What the deliveries among ``events`` add to each latency row (its bucket columns of
    :data:`LATENCY_COLUMNS`), sorted by key."""
    counts: dict[LatencyKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for event in events:
        if event.type != "message.delivered" or event.accepted_at is None:
            continue
        seconds = max((event.at - event.accepted_at) / timedelta(seconds=1), 0.0)
        key = (event.account_id, day_start(event.at), event.domain)
        counts[key][LATENCY_COLUMNS[latency_bucket(seconds)]] += 1
    return [(key, dict(counts[key])) for key in sorted(counts)]


def latency_percentile(histogram: Mapping[int, int], quantile: float) -> float | None:
    """The ``quantile`` (0-1) of a latency histogram (bucket index → count), as the upper
    bound of the bucket it falls in (the last bound for the open-ended bucket); None when
    the histogram is empty."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = quantile * total
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank and histogram[index] > 0:
            return float(LATENCY_BOUNDS[min(index, len(LATENCY_BOUNDS) - 1)])
    return float(LATENCY_BOUNDS[-1])


def ratio(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator``, or None when there is nothing to divide by."""
    return numerator / denominator if denominator > 0 else None


def rates(counts: Mapping[str, int]) -> dict[str, float | None]:
    """Delivery rate (delivered / accepted recipients), bounce rate (hard bounces /
    delivered + bounced) and complaint rate (complaints / delivered)."""
    delivered = counts.get("delivered", 0)
    hard = counts.get("bounced_hard", 0)
    bounced = hard + counts.get("bounced_soft", 0)
    return {
        "delivery_rate": ratio(delivered, counts.get("accepted_recipients", 0)),
        "bounce_rate": ratio(hard, delivered + bounced),
        "complaint_rate": ratio(counts.get("complained", 0), delivered),
    }
