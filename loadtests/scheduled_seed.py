"""Seeding for :mod:`loadtests.scheduled_bench`: a million scheduled messages, fast.

One recipient each, due from 1 to 72 hours ahead, as the API stores a scheduled message
(``scheduled``, ``next_attempt_at = send_at``). SQLite gets one ``executemany``
transaction; PostgreSQL gets ``COPY`` and then ``ANALYZE``, as its autovacuum would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, insert, select

from herald_service.core.ids import new_id
from herald_service.core.states import RecipientStatus
from herald_service.storage.models import Domain, Message, Recipient
from herald_service.storage.types import utcnow
from loadtests.loadgen import RECIPIENT_DOMAIN

CHUNK = 20_000
RAW = b"From: a@sender.bench.example\r\nSubject: later\r\n\r\n" + b"x" * 400
Rows = list[dict[str, Any]]


def tenant_ids(engine: Engine) -> tuple[str, str]:
    """The account and domain of the database's one tenant."""
    with engine.connect() as db:
        account_id, domain_id = db.execute(select(Domain.account_id, Domain.id)).one()
    return str(account_id), str(domain_id)


def scheduled_rows(engine: Engine, count: int) -> Iterator[tuple[Rows, Rows]]:
    """Chunks of messages scheduled from 1 h to 72 h ahead, one recipient each."""
    account_id, domain_id = tenant_ids(engine)
    now = utcnow()
    span = timedelta(hours=71).total_seconds()
    for start in range(0, count, CHUNK):
        messages, recipients = [], []
        for index in range(start, min(start + CHUNK, count)):
            message_id = new_id("msg")
            send_at = now + timedelta(hours=1, seconds=span * index / count)
            messages.append(
                {
                    "id": message_id,
                    "account_id": account_id,
                    "domain_id": domain_id,
                    "from_email": "app@sender.bench.example",
                    "subject": f"Reminder {index}",
                    "message_id_header": f"<{message_id}@mta.herald.bench.example>",
                    "raw": RAW,
                    "tags": [],
                    "metadata_": {},
                    "sandbox": False,
                    "created_at": now,
                    "send_at": send_at,
                }
            )
            recipients.append(
                {
                    "message_id": message_id,
                    "email": f"user{index}@{RECIPIENT_DOMAIN}",
                    "domain": RECIPIENT_DOMAIN,
                    "kind": "to",
                    "status": RecipientStatus.SCHEDULED.value,
                    "attempt_count": 0,
                    "next_attempt_at": send_at,
                    "lease_token": None,
                    "updated_at": now,
                }
            )
        yield messages, recipients


def bulk_insert(engine: Engine, count: int) -> float:
    """Insert ``count`` scheduled messages; seconds it took."""
    began = time.perf_counter()
    if engine.dialect.name == "postgresql":
        _copy(engine, count)
    else:
        with engine.begin() as db:
            for messages, recipients in scheduled_rows(engine, count):
                db.execute(insert(Message), messages)
                db.execute(insert(Recipient), recipients)
    return time.perf_counter() - began


def _copy(engine: Engine, count: int) -> None:
    message_columns = (
        "id, account_id, domain_id, from_email, subject, message_id_header, raw, tags, "
        "metadata, sandbox, created_at, send_at"
    )
    recipient_columns = (
        "message_id, email, domain, kind, status, attempt_count, next_attempt_at, updated_at"
    )
    raw = engine.raw_connection()
    try:
        connection: Any = raw.driver_connection
        with connection.cursor() as cursor:
            for messages, recipients in scheduled_rows(engine, count):
                with cursor.copy(f"COPY messages ({message_columns}) FROM STDIN") as copy:
                    for m in messages:
                        copy.write_row(
                            (
                                m["id"], m["account_id"], m["domain_id"], m["from_email"],
                                m["subject"], m["message_id_header"], m["raw"], "[]", "{}",
                                False, m["created_at"], m["send_at"],
                            )
                        )  # fmt: skip
                with cursor.copy(f"COPY recipients ({recipient_columns}) FROM STDIN") as copy:
                    for r in recipients:
                        copy.write_row(
                            (
                                r["message_id"], r["email"], r["domain"], r["kind"], r["status"],
                                0, r["next_attempt_at"], r["updated_at"],
                            )
                        )  # fmt: skip
        connection.commit()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE messages")
            cursor.execute("ANALYZE recipients")
    finally:
        raw.close()
