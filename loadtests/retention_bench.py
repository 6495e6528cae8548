"""With a short retention the database stops growing under a steady load: the retention
benchmark.

    .venv/bin/python -m loadtests.retention_bench [--seconds 40] [--rate 200] [--keep 10s]
        [--database-url postgresql://...]

A writer thread stores ``--rate`` messages a second for ``--seconds``, each as the send and
delivery paths leave it: a 5 KB signed source, two recipients delivered with an attempt
each, three events, three webhook deliveries with an attempt each, and a copy in the
capture inbox. It runs twice on a new database (default: a SQLite file in a temporary
directory): once with retention off, once with every ``HERALD_RETENTION_*`` age set to
``--keep`` and a round of :func:`herald_service.retention.service.prune` every 2 s, as a
worker's duty runs it. Every 5 s it prints the rows of each pruned kind and the bytes the
database uses (SQLite: pages in use, not counting the free pages it reuses; PostgreSQL:
the tables' and indexes' size).

With retention the pruned kinds level off at about ``rate x (keep + 2 s)`` rows, and the
database grows only by what is kept on purpose: each message's metadata and recipients.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Engine, func, insert, select, text

from herald_service.core.durations import parse_duration
from herald_service.core.ids import new_id
from herald_service.retention.service import prune
from herald_service.settings import load_settings
from herald_service.storage.database import async_session_factory, make_async_engine, make_engine
from herald_service.storage.migrate import upgrade
from herald_service.storage.models import (
    Account,
    CapturedMessage,
    DeliveryAttempt,
    Domain,
    Event,
    Message,
    Recipient,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

SOURCE = b"Subject: bench\r\n\r\n" + b"x" * 5000
KINDS: dict[str, tuple[Any, Any]] = {
    "sources": (Message, Message.body_pruned_at.is_(None)),
    "events": (Event, None),
    "attempts": (DeliveryAttempt, None),
    "webhooks": (WebhookDelivery, None),
    "captured": (CapturedMessage, None),
    "messages": (Message, None),
}
"""The rows counted at each sample: each pruned kind (sources: those still stored), and
every message, whose metadata is kept."""


def _seed(engine: Engine) -> tuple[str, str, str]:
    """An account, a sending domain and a webhook endpoint; their ids."""
    now = datetime.now(UTC)
    account, domain, endpoint = new_id("acct"), new_id("dom"), new_id("wh")
    with engine.begin() as db:
        db.execute(insert(Account), [{"id": account, "name": "bench", "created_at": now}])
        db.execute(
            insert(Domain),
            [
                {
                    "id": domain,
                    "account_id": account,
                    "name": "sender.example",
                    "return_path_host": "bounces.sender.example",
                    "created_at": now,
                }
            ],
        )
        db.execute(
            insert(WebhookEndpoint),
            [{"id": endpoint, "account_id": account, "url": "https://h/", "secret_encrypted": b""}],
        )
    return account, domain, endpoint


def _store(engine: Engine, ids: tuple[str, str, str], count: int) -> None:
    """``count`` delivered messages with everything they leave behind, in one transaction."""
    account, domain, endpoint = ids
    now = datetime.now(UTC)
    messages, recipients, events, deliveries, captured = [], [], [], [], []
    for _ in range(count):
        message_id = new_id("msg")
        messages.append(
            {
                "id": message_id,
                "account_id": account,
                "domain_id": domain,
                "from_email": "app@sender.example",
                "message_id_header": f"<{message_id}@bench>",
                "raw": SOURCE,
                "created_at": now,
            }
        )
        for n in range(2):
            email = f"r{n}@receiver.example"
            recipients.append(
                {
                    "message_id": message_id,
                    "email": email,
                    "domain": "receiver.example",
                    "kind": "to",
                    "status": "delivered",
                    "updated_at": now,
                }
            )
        for kind in ("accepted", "delivered", "delivered"):
            event_id = new_id("evt")
            events.append(
                {
                    "id": event_id,
                    "account_id": account,
                    "message_id": message_id,
                    "type": f"message.{kind}",
                    "at": now,
                }
            )
            deliveries.append(
                {
                    "id": new_id("whd"),
                    "endpoint_id": endpoint,
                    "account_id": account,
                    "event_id": event_id,
                    "event_type": f"message.{kind}",
                    "status": "succeeded",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        captured.append(
            {
                "received_at": now,
                "mail_from": "b@sender.example",
                "rcpt_tos": ["r0@receiver.example"],
                "raw": SOURCE,
            }
        )
    with engine.begin() as db:
        db.execute(insert(Message), messages)
        rows = db.execute(insert(Recipient).returning(Recipient.id), recipients).scalars().all()
        db.execute(
            insert(DeliveryAttempt),
            [{"recipient_id": r, "at": now, "outcome": "delivered"} for r in rows],
        )
        db.execute(insert(Event), events)
        db.execute(insert(WebhookDelivery), deliveries)
        db.execute(
            insert(WebhookAttempt),
            [{"delivery_id": d["id"], "at": now, "status_code": 200} for d in deliveries],
        )
        db.execute(insert(CapturedMessage), captured)


def _used_bytes(engine: Engine) -> int:
    with engine.connect() as db:
        if engine.dialect.name == "sqlite":
            pages = db.execute(text("PRAGMA page_count")).scalar_one()
            free = db.execute(text("PRAGMA freelist_count")).scalar_one()
            return int((pages - free) * db.execute(text("PRAGMA page_size")).scalar_one())
        query = "SELECT sum(pg_total_relation_size(relid)) FROM pg_stat_user_tables"
        return int(db.execute(text(query)).scalar_one())


def _sample(engine: Engine) -> dict[str, int]:
    counts: dict[str, int] = {}
    with engine.connect() as db:
        for kind, (model, where) in KINDS.items():
            query = select(func.count()).select_from(model)
            counts[kind] = db.execute(query if where is None else query.where(where)).scalar_one()
    counts["MB used"] = _used_bytes(engine)
    return counts


async def _run(url: str, args: argparse.Namespace, keep: float | None) -> list[dict[str, int]]:
    engine = make_engine(url)
    upgrade(engine)
    ids = _seed(engine)
    stop = threading.Event()
    per_tick = max(1, round(args.rate / 10))

    def write() -> None:
        while not stop.is_set():
            started = time.monotonic()
            _store(engine, ids, per_tick)
            stop.wait(max(0.0, 0.1 - (time.monotonic() - started)))

    writer = threading.Thread(target=write, name="writer")
    writer.start()
    ages = (
        {}
        if keep is None
        else {
            f"HERALD_RETENTION_{k}": str(keep)
            for k in ("BODIES", "EVENTS", "ATTEMPTS", "WEBHOOK_DELIVERIES", "CAPTURED")
        }
    )
    settings = load_settings({"HERALD_DATABASE_URL": url, **ages}, env_file=Path("/x"))
    sessions_engine = make_async_engine(url)
    sessions = async_session_factory(sessions_engine)
    samples: list[dict[str, int]] = []
    started = time.monotonic()
    next_sample = 5.0
    try:
        while (elapsed := time.monotonic() - started) < args.seconds:
            if keep is not None:
                await prune(sessions, settings)
            await asyncio.sleep(2.0 if keep is not None else 0.5)
            if elapsed >= next_sample:
                samples.append({"s": int(elapsed), **await asyncio.to_thread(_sample, engine)})
                next_sample += 5.0
    finally:
        stop.set()
        writer.join()
        await sessions_engine.dispose()
        engine.dispose()
    return samples


def _print(title: str, samples: list[dict[str, int]]) -> None:
    print(f"\n{title}")
    columns = list(samples[0])
    print("  ".join(f"{c:>9}" for c in columns))
    for sample in samples:
        cells = [f"{v / 1e6:9.1f}" if c == "MB used" else f"{v:9,}" for c, v in sample.items()]
        print("  ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--rate", type=float, default=200.0, help="messages per second")
    parser.add_argument("--keep", default="10s", help="every HERALD_RETENTION_* age")
    parser.add_argument("--database-url", default="", help="default: a new SQLite file")
    args = parser.parse_args()
    keep = parse_duration(args.keep)
    with tempfile.TemporaryDirectory() as directory:
        for title, age in (("retention off", None), (f"retention {args.keep}", keep)):
            url = (
                args.database_url or f"sqlite:///{directory}/{msgspec.json.encode(age).decode()}.db"
            )
            if args.database_url:
                with make_engine(url).begin() as db:  # start each run empty
                    db.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            _print(title, asyncio.run(_run(url, args, age)))


if __name__ == "__main__":
    main()
