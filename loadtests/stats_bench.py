"""Reading stats costs the same with a thousand events or ten million: the stats benchmark.

    .venv/bin/python -m loadtests.stats_bench [--events 10000000] [--repeat 30]

On a new PostgreSQL database (``HERALD_TEST_POSTGRES_URL``, dropped at the end) one
account is measured in three states, each followed by ``ANALYZE``; in each, every stats
query below runs ``--repeat`` times through :func:`herald_service.stats.service.read_stats`
(what ``GET /v1/stats`` runs, without HTTP) and the p50 / p95 are reported:

1. *1 k events*: 100 messages over the last 7 days, 1,000 events written by the real
   write path (``event_rows`` + ``insert_rows``: the events, and the counters they add to,
   in one statement);
2. *+ N events*: ``--events`` more rows in the event log of the same account, spread over
   the last year, generated in SQL (``generate_series``). They are not counted: this state
   shows that the size of the event log does not enter a stats read at all;
3. *+ a year of counters*: the counter and latency rows a year of such traffic leaves,
   generated in SQL: every day of 366 x 4 sending domains x (all-tags row + 6 tags) x 4
   writer stripes, the last 48 hours likewise, and a latency histogram (16 buckets) per
   domain, stripe and day, with counts adding
   up to about ``--events`` accepted recipients. A read's cost follows the rows in its
   range (days x domains x tags), which no amount of traffic makes larger.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, text

from herald_service.core.ids import new_id
from herald_service.core.states import EventType
from herald_service.events.service import event_rows, new_event
from herald_service.stats.service import read_stats, stats_range
from herald_service.storage.bulk_insert import insert_rows
from herald_service.storage.database import async_session_factory, make_async_engine, make_engine
from herald_service.storage.models import Account, Domain, Message
from loadtests.herald_stack import Postgres

DOMAINS = ("shop.example", "news.example", "billing.example", "alerts.example")
TAGS = ("welcome", "receipt", "reset", "newsletter", "invoice", "alert")
STRIPES = 4
"""Writer processes that added to each bucket: 2 API processes and 2 delivery workers."""
QUERIES: dict[str, dict[str, Any]] = {
    "day, 7 days": {"group_by": "day"},
    "day, 366 days": {"group_by": "day", "days": 366},
    "domain, 366 days": {"group_by": "domain", "days": 366},
    "tag, 366 days": {"group_by": "tag", "days": 366},
    "hour, 48 hours": {"group_by": "hour", "hours": 48},
}


def _seed_account(engine: Engine) -> tuple[str, list[str]]:
    """An account with a domain and 100 messages; its id and the message ids."""
    now = datetime.now(UTC)
    account_id, domain_id = new_id("acct"), new_id("dom")
    with engine.begin() as db:
        db.execute(insert(Account), [{"id": account_id, "name": "stats bench", "created_at": now}])
        db.execute(
            insert(Domain),
            [
                {
                    "id": domain_id,
                    "account_id": account_id,
                    "name": DOMAINS[0],
                    "return_path_host": f"bounces.{DOMAINS[0]}",
                    "created_at": now,
                }
            ],
        )
        ids = [new_id("msg") for _ in range(100)]
        db.execute(
            insert(Message),
            [
                {
                    "id": message_id,
                    "account_id": account_id,
                    "domain_id": domain_id,
                    "from_email": f"app@{DOMAINS[i % 4]}",
                    "message_id_header": f"<{message_id}@bench>",
                    "raw": b"",
                    "tags": [TAGS[i % 6]],
                    "created_at": now,
                }
                for i, message_id in enumerate(ids)
            ],
        )
    return account_id, ids


async def _write_events(url: str, account_id: str, message_ids: list[str]) -> None:
    """1,000 events through the real write path: per message an acceptance, then 9
    deliveries, deferrals, bounces, opens or clicks, over the last 7 days."""
    kinds = [EventType.DELIVERED, EventType.DEFERRED, EventType.OPENED, EventType.CLICKED]
    engine = make_async_engine(url)
    now = datetime.now(UTC)
    try:
        for i, message_id in enumerate(message_ids):
            accepted = now - timedelta(days=i % 7, minutes=i)
            types = [EventType.ACCEPTED, *(kinds[n % 4] for n in range(9))]
            events = [
                new_event(
                    account_id=account_id,
                    message_id=message_id,
                    type=kind,
                    at=accepted + timedelta(seconds=n),
                    domain=DOMAINS[i % 4],
                    tags=(TAGS[i % 6],),
                    accepted_at=accepted,
                )
                for n, kind in enumerate(types)
            ]
            async with engine.begin() as connection:
                await insert_rows(connection, *await event_rows(connection, events))
    finally:
        await engine.dispose()


def _add_events(engine: Engine, account_id: str, message_ids: list[str], count: int) -> float:
    """``count`` more event rows (not counted: they bypass the write path); seconds taken."""
    started = time.monotonic()
    chunk = 1_000_000
    for start in range(0, count, chunk):
        size = min(chunk, count - start)
        with engine.begin() as db:
            db.execute(
                text(
                    "INSERT INTO events (id, account_id, message_id, recipient, type, at, data) "
                    "SELECT 'evt_bench' || lpad(g::text, 12, '0'), :account, "
                    "(CAST(:messages AS text[]))[1 + g % 100], "
                    "'r' || (g % 5000) || '@receiver.example', "
                    "'message.delivered', now() - (g % 31536000) * interval '1 second', "
                    "'{}'::json FROM generate_series(:first, :last) AS g"
                ),
                {
                    "account": account_id,
                    "messages": message_ids,
                    "first": start + 1,
                    "last": start + size,
                },
            )
        print(f"  {start + size:,} events added", flush=True)
    return time.monotonic() - started


def _add_counters(engine: Engine, account_id: str, events: int) -> int:
    """A year of counter and latency rows (see the module's docstring); rows added."""
    per_row = max(events // (366 * len(DOMAINS) * STRIPES), 1)
    tags = ["", *TAGS]
    with engine.begin() as db:
        days = db.execute(
            text(
                "INSERT INTO stats_counters (account_id, granularity, tag, bucket, domain, stripe, "
                "accepted_requests, accepted_recipients, delivered, deferred, bounced_hard, "
                "bounced_soft, dropped, complained, opened, clicked, unsubscribed) "
                "SELECT :account, 'day', t, date_trunc('day', now()) - d * interval '1 day', "
                "dom, s, :n, :n, :n * 97 / 100, :n / 20, :n / 100, :n / 200, :n / 500, :n / 1000, "
                ":n / 3, :n / 10, :n / 2000 FROM generate_series(1, 366) AS d, "
                "generate_series(0, :stripes - 1) AS s, "
                "unnest(CAST(:tags AS text[])) AS t, unnest(CAST(:domains AS text[])) AS dom "
                "ON CONFLICT DO NOTHING"
            ),
            {
                "account": account_id,
                "n": per_row,
                "tags": tags,
                "domains": list(DOMAINS),
                "stripes": STRIPES,
            },
        ).rowcount
        hours = db.execute(
            text(
                "INSERT INTO stats_counters (account_id, granularity, tag, bucket, domain, stripe, "
                "accepted_requests, accepted_recipients, delivered) "
                "SELECT :account, 'hour', t, date_trunc('hour', now()) - h * interval '1 hour', "
                "dom, s, :n, :n, :n FROM generate_series(1, 48) AS h, "
                "generate_series(0, :stripes - 1) AS s, "
                "unnest(CAST(:tags AS text[])) AS t, unnest(CAST(:domains AS text[])) AS dom "
                "ON CONFLICT DO NOTHING"
            ),
            {
                "account": account_id,
                "n": per_row // 24,
                "tags": tags,
                "domains": list(DOMAINS),
                "stripes": STRIPES,
            },
        ).rowcount
        buckets = ", ".join(f"b{index:02d}" for index in range(16))
        spread = ", ".join(f":n / {index + 1}" for index in range(16))
        latency = db.execute(
            text(
                f"INSERT INTO stats_latency (account_id, day, domain, stripe, {buckets}) "
                "SELECT :account, date_trunc('day', now()) - d * interval '1 day', dom, s, "
                f"{spread} FROM generate_series(1, 366) AS d, "
                "generate_series(0, :stripes - 1) AS s, "
                "unnest(CAST(:domains AS text[])) AS dom ON CONFLICT DO NOTHING"
            ),
            {"account": account_id, "n": per_row, "domains": list(DOMAINS), "stripes": STRIPES},
        ).rowcount
    return int(days + hours + latency)


async def _measure(url: str, account_id: str, repeat: int) -> dict[str, tuple[float, float]]:
    """p50 and p95 (ms) of each query of :data:`QUERIES`."""
    engine = make_async_engine(url)
    sessions = async_session_factory(engine)
    now = datetime.now(UTC)
    figures: dict[str, tuple[float, float]] = {}
    try:
        for name, spec in QUERIES.items():
            start = None
            if "days" in spec:
                start = (now - timedelta(days=spec["days"] - 1)).date().isoformat()
            elif "hours" in spec:
                start = (now - timedelta(hours=spec["hours"] - 1)).isoformat()
            query = stats_range(
                account_id, start=start, end=None, group_by=spec["group_by"], domain=None, tag=None
            )
            times = []
            for _ in range(repeat + 3):
                began = time.perf_counter()
                async with sessions() as session:
                    report = await read_stats(session, query)
                times.append((time.perf_counter() - began) * 1000)
            assert report.groups
            times = sorted(times[3:])  # the first ones warm the connection pool and caches
            figures[name] = (statistics.median(times), times[int(len(times) * 0.95) - 1])
    finally:
        await engine.dispose()
    return figures


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as db:
        events = db.execute(text("SELECT count(*) FROM events")).scalar_one()
        counters = db.execute(text("SELECT count(*) FROM stats_counters")).scalar_one()
    return int(events), int(counters)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    postgres = Postgres()
    results: list[tuple[str, int, int, dict[str, tuple[float, float]]]] = []
    try:
        engine = make_engine(postgres.url, isolation_level="AUTOCOMMIT")
        account_id, message_ids = _seed_account(engine)
        asyncio.run(_write_events(postgres.url, account_id, message_ids))

        def grow_events() -> None:
            seconds = _add_events(engine, account_id, message_ids, args.events)
            print(f"  in {seconds:.0f} s")

        def grow_counters() -> None:
            print(f"  {_add_counters(engine, account_id, args.events):,} rows")

        states: list[tuple[str, Callable[[], None]]] = [
            ("1 k events", lambda: None),
            (f"+ {args.events:,} events", grow_events),
            ("+ a year of counters", grow_counters),
        ]
        for name, grow in states:
            print(f"state: {name}", flush=True)
            grow()
            with engine.connect() as db:
                db.execute(text("ANALYZE"))
            events, counters = _counts(engine)
            results.append(
                (
                    name,
                    events,
                    counters,
                    asyncio.run(_measure(postgres.url, account_id, args.repeat)),
                )
            )
        engine.dispose()
    finally:
        postgres.drop()
    print(f"\n{args.repeat} reads per query and state, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print("| state | events | counter rows | " + " | ".join(QUERIES) + " |")
    print("|---|---:|---:|" + "---:|" * len(QUERIES))
    for name, events, counters, figures in results:
        cells = " | ".join(f"{p50:.1f} / {p95:.1f}" for p50, p95 in figures.values())
        print(f"| {name} | {events:,} | {counters:,} | {cells} |")
    print("\n(ms, p50 / p95 per query)")


if __name__ == "__main__":
    main()
