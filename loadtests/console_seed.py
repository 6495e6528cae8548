"""A console-sized history for ``loadtests.console_pages``: one account with many messages.

The account gets four sending domains, an API key, a webhook endpoint, a console admin
and 2,000 suppressions; its messages are spread evenly over the last 30 days, each with
1-3 recipients in varied statuses (mostly delivered), a delivery attempt per recipient
that was tried, an event per change and 0-2 tags; 1 % are sandbox messages (recipients
``captured``, never tried), as the Inbox shows them (its captured copies:
``loadtests/inbox_seed.py``). A second account gets a tenth as many
messages, so every page has to pick its own account's rows out of the tables. Rows go in
with Core ``executemany`` in chunks, ~1 minute for 100,000 messages.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from herald_service.accounts.service import create_account
from herald_service.console.service import create_user
from herald_service.core.ids import new_id
from herald_service.domains.service import add_domain
from herald_service.keys.service import create_api_key
from herald_service.security.secretbox import encrypt
from herald_service.settings import Settings
from herald_service.storage.database import async_session_factory, make_async_engine
from herald_service.storage.models import (
    DeliveryAttempt,
    Event,
    Message,
    Recipient,
    Suppression,
    Template,
    TemplateVersion,
    WebhookEndpoint,
)
from herald_service.storage.types import utcnow

DOMAINS = ("shop.example", "news.example", "billing.example", "alerts.example")
TAGS = ("welcome", "receipt", "reset", "newsletter", "invoice", "alert")
# Recipient status -> weight; delivered dominates as on a healthy installation.
STATUS_WEIGHTS = {
    "delivered": 80,
    "bounced": 6,
    "deferred": 4,
    "queued": 3,
    "failed": 3,
    "suppressed": 4,
}
EVENT_OF = {
    "delivered": "message.delivered",
    "bounced": "message.bounced",
    "deferred": "message.deferred",
    "failed": "message.failed",
    "suppressed": "message.suppressed",
}
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # as herald_service.core.ids
RECIPIENT_POOL = 5_000
CHUNK = 5_000
EMAIL = "ops@console.example"
PASSWORD = "benchmark password 1234"


class Seeded:
    """What the benchmark needs to address the seeded rows."""

    def __init__(self, account_id: str, domain_ids: list[str], message_id: str) -> None:
        self.account_id = account_id
        self.domain_ids = domain_ids
        self.message_id = message_id
        self.recipient = "user17@receiver0.example"
        self.tag = "invoice"


def raw_message(message_id: str, sender: str, to: str, subject: str) -> bytes:
    """A small, well-formed MIME message (text and HTML), as the Message page parses it."""
    body = "Hello,\r\n\r\n" + "This is a line of a transactional message body.\r\n" * 12
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{message_id}@herald.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        f"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>{body}</p>\r\n--b--\r\n"
    ).encode()


async def create_tenant(settings: Settings, name: str, with_user: bool) -> tuple[str, list[str]]:
    """An account with its domains, a key, a webhook endpoint and (``with_user``) the
    console admin; returns the account id and the domain ids."""
    engine = make_async_engine(settings.database_url)
    try:
        async with async_session_factory(engine).begin() as db:
            account = await create_account(db, name)
            await create_api_key(db, account.id, ("send", "read"), "benchmark")
            domains = [
                await add_domain(db, settings, account.id, d, verified=True) for d in DOMAINS
            ]
            now = utcnow()
            db.add(
                WebhookEndpoint(
                    id=new_id("wh"),
                    account_id=account.id,
                    url="https://hooks.example/herald",
                    event_types=[],
                    secret_encrypted=encrypt(settings.require_secret_key(), b"whsec_bench"),
                    created_at=now,
                    updated_at=now,
                )
            )
            if with_user:
                await create_user(db, EMAIL, PASSWORD, "admin", [account.id])
            return account.id, [d.id for d in domains]
    finally:
        await engine.dispose()


def id_at(prefix: str, at: datetime) -> str:
    """An id as :func:`~herald_service.core.ids.new_id` makes it at ``at`` (ids sort by
    time, so the rows lie in the tables in the order a real installation writes them)."""
    value = int(at.timestamp() * 1000) << 80 | random.getrandbits(80)
    chars = []
    for _ in range(26):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def store_messages(
    engine: Engine,
    account_id: str,
    domain_ids: list[str],
    count: int,
    seed: int,
    sandbox_share: float = 0.01,
) -> str:
    """``count`` messages of the account over the last 30 days, ``sandbox_share`` of them
    sandbox messages; returns one message id (not a sandbox one)."""
    rng = random.Random(seed)
    now = utcnow()
    span = timedelta(days=30).total_seconds()
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    done = 0
    sample = ""
    while done < count:
        messages: list[dict[str, Any]] = []
        recipients: list[dict[str, Any]] = []
        attempts: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for _ in range(min(CHUNK, count - done)):
            # Oldest first, evenly spread with some jitter: the order the API stores them.
            created: datetime = now - timedelta(seconds=span * (1 - (done + rng.random()) / count))
            done += 1
            message_id = id_at("msg", created)
            index = rng.randrange(len(DOMAINS))
            sender = f"app@{DOMAINS[index]}"
            addresses = [
                f"user{rng.randrange(RECIPIENT_POOL)}@receiver{rng.randrange(5)}.example"
                for _ in range(rng.choice((1, 1, 1, 2, 3)))
            ]
            subject = f"Your {rng.choice(TAGS)} #{done}"
            sandbox = rng.random() < sandbox_share
            messages.append(
                {
                    "id": message_id,
                    "account_id": account_id,
                    "domain_id": domain_ids[index],
                    "from_email": sender,
                    "subject": subject,
                    "message_id_header": f"<{message_id}@herald.example>",
                    "raw": raw_message(message_id, sender, addresses[0], subject),
                    "tags": rng.sample(TAGS, rng.choice((0, 1, 1, 2))),
                    "metadata_": {},
                    "sandbox": sandbox,
                    "created_at": created,
                }
            )
            events.append(_event(account_id, message_id, "", "message.accepted", created))
            for address in addresses:
                status = "captured" if sandbox else rng.choices(statuses, weights)[0]
                recipient_id = len(recipients)
                later = created + timedelta(seconds=rng.randrange(1, 600))
                recipients.append(
                    {
                        "message_id": message_id,
                        "email": address,
                        "domain": address.partition("@")[2],
                        "kind": "to",
                        "status": status,
                        "attempt_count": 0 if status in ("queued", "captured") else 1,
                        "next_attempt_at": later if status == "deferred" else None,
                        "updated_at": later,
                    }
                )
                if status in EVENT_OF:
                    events.append(_event(account_id, message_id, address, EVENT_OF[status], later))
                if status not in ("queued", "suppressed", "captured"):
                    attempts.append(_attempt(recipient_id, status, later))
        with engine.begin() as db:
            for chunk in _chunks(messages):
                db.execute(insert(Message), chunk)
            ids = _insert_recipients(db, recipients)
            for attempt in attempts:
                attempt["recipient_id"] = ids[attempt["recipient_id"]]
            for chunk in _chunks(attempts):
                db.execute(insert(DeliveryAttempt), chunk)
            for chunk in _chunks(events):
                db.execute(insert(Event), chunk)
        sample = sample or next(m["id"] for m in reversed(messages) if not m["sandbox"])
    return sample


def _insert_recipients(db: Any, recipients: list[dict[str, Any]]) -> list[int]:
    """Insert the recipients in order and return their ids (positions map to ids)."""
    ids: list[int] = []
    for chunk in _chunks(recipients):
        result = db.execute(
            insert(Recipient).returning(Recipient.id, sort_by_parameter_order=True), chunk
        )
        ids.extend(int(i) for i in result.scalars())
    return ids


def _event(account_id: str, message_id: str, to: str, kind: str, at: datetime) -> dict[str, Any]:
    return {
        "id": id_at("evt", at),
        "account_id": account_id,
        "message_id": message_id,
        "recipient": to,
        "type": kind,
        "at": at,
        "data": {"recipient": to} if to else {},
    }


def _attempt(recipient_id: int, status: str, at: datetime) -> dict[str, Any]:
    code = {"delivered": 250, "deferred": 451, "bounced": 550, "failed": 554}[status]
    return {
        "recipient_id": recipient_id,
        "at": at,
        "mx": "mx1.receiver.example",
        "ip": "192.0.2.25",
        "code": code,
        "enhanced_code": f"{code // 100}.0.0",
        "response": "OK queued" if code == 250 else "try again later",
        "outcome": status,
        "tls": "TLSv1.3",
        "tls_verified": True,
    }


def store_suppressions(engine: Engine, account_id: str, count: int) -> None:
    """``count`` suppressed addresses of the account."""
    now = utcnow()
    rows = [
        {
            "id": new_id("sup"),
            "account_id": account_id,
            "email": f"gone{i}@receiver.example",
            "reason": "bounce",
            "detail": "550 5.1.1 no such user",
            "message_id": None,
            "created_at": now - timedelta(minutes=i),
        }
        for i in range(count)
    ]
    with engine.begin() as db:
        db.execute(insert(Suppression), rows)


def store_templates(engine: Engine, account_id: str, count: int) -> str:
    """``count`` templates of the account with two versions each; returns the newest's id."""
    now = utcnow()
    ids = [new_id("tpl") for _ in range(count)]
    templates = [
        {
            "id": template_id,
            "account_id": account_id,
            "name": f"Template {i}",
            "alias": f"template-{i}",
            "active_version": 2,
            "created_at": now - timedelta(minutes=i),
            "updated_at": now - timedelta(minutes=i),
        }
        for i, template_id in enumerate(ids)
    ]
    versions = [
        {
            "template_id": template_id,
            "version": version,
            "subject": "Receipt for {{ customer }}",
            "html": "<p>Thanks {{ customer }}</p>{% for i in items %}{{ i.name }}{% endfor %}",
            "text": "Thanks {{ customer }}",
            "created_at": now,
        }
        for template_id in ids
        for version in (1, 2)
    ]
    with engine.begin() as db:
        db.execute(insert(Template), templates)
        db.execute(insert(TemplateVersion), versions)
    return ids[0]
