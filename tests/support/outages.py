"""What the database outage tests share: send, check a 503, count deliveries at the sink."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from pathlib import Path

import httpx
from litestar.testing import AsyncTestClient
from sqlalchemy import Engine, select

from herald_service.storage.models import Event, Message, Recipient
from simnet.dns import DNSServer
from simnet.smtp import SMTPServer

from .harness import Tenant


def outage_env(
    database_url: str, redis_url: str, dns: DNSServer, smtp_port: int, tmp_path: Path
) -> dict[str, str]:
    """``HERALD_*`` variables for Herald on ``database_url`` and the test servers."""
    return {
        "HERALD_DATABASE_URL": database_url,
        "HERALD_REDIS_URL": redis_url,
        "HERALD_SECRET_KEY": secrets.token_urlsafe(32),
        "HERALD_HOSTNAME": "mta.herald.example",
        "HERALD_DNS_NAMESERVERS": dns.address,
        "HERALD_SMTP_PORT": str(smtp_port),
        "HERALD_SMTP_TIMEOUT": "10s",
        "HERALD_QUEUE_NAME": f"herald-outage-{secrets.token_hex(3)}",
        "HERALD_SWEEP_INTERVAL": "0.2s",
        "HERALD_OUTCOME_JOURNAL_DIR": str(tmp_path / "outcome-journal"),
    }


async def send(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    index: int,
    idempotency_key: str | None = None,
) -> httpx.Response:
    """POST one message to ``user<index>@receiver.example``."""
    headers = dict(tenant.headers)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return await api.post(
        "/v1/messages",
        headers=headers,
        json={
            "from": f"app@{tenant.domain}",
            "to": f"user{index}@receiver.example",
            "subject": f"Message {index}",
            "text": "Hello",
        },
    )


def assert_unavailable(response: httpx.Response) -> None:
    """A 503 problem document with ``Retry-After``: not a 500, not a 202."""
    assert response.status_code == 503, (response.status_code, response.text)
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["title"] == "Service unavailable"
    assert problem["type"] == "/problems#service-unavailable"


async def wait_delivered(engine: Engine, message_ids: list[str], timeout: float) -> None:
    """Poll until every recipient of ``message_ids`` is ``delivered``."""
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as db:
            statuses = dict(
                db.execute(
                    select(Recipient.message_id, Recipient.status).where(
                        Recipient.message_id.in_(message_ids)
                    )
                ).all()
            )
        if len(statuses) == len(message_ids) and set(statuses.values()) == {"delivered"}:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not all delivered after {timeout}s: {statuses}")
        await asyncio.sleep(0.2)


def assert_delivered_once(engine: Engine, sink: SMTPServer, accepted: list[str]) -> None:
    """The messages stored are exactly those that got a 202, and each reached the sink
    once, with one ``message.delivered`` event."""
    with engine.connect() as db:
        by_header = dict(db.execute(select(Message.message_id_header, Message.id)).all())
        events = Counter(
            db.execute(select(Event.message_id).where(Event.type == "message.delivered"))
            .scalars()
            .all()
        )
    assert sorted(by_header.values()) == sorted(accepted)
    received = Counter(by_header.get(m.parse()["Message-ID"], "?") for m in sink.messages)
    assert received == Counter(accepted), received
    assert events == Counter(accepted), events
