"""The Inbox's captured copies for ``loadtests.console_pages``.

What the capture SMTP server (``HERALD_DELIVERY_MODE=capture``) would have stored for a
share of an account's delivered recipients: one copy per recipient (Herald delivers each
with its own VERP return path), received a moment after the attempt, with the message's
source DKIM-signed by its domain's active keys as the worker signs it, and linked to the
message and its account as the capture server links it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import Engine, insert, select

from herald_service.core.states import DkimKeyStatus
from herald_service.mail.dkim_signing import SigningKey, sign
from herald_service.mail.return_path import verp_address
from herald_service.security.secretbox import decrypt
from herald_service.storage.models import CapturedMessage, DkimKey, Domain, Message, Recipient

CHUNK = 500


class Captured(NamedTuple):
    """One seeded copy the benchmark opens and searches for."""

    id: int
    address: str  # its recipient
    words: str  # words of its subject that few other subjects contain


def store_captured(
    engine: Engine, secret_key: str, account_id: str, share: float, seed: int
) -> Captured:
    """Captured copies of ``share`` of the account's delivered recipients; returns the
    newest copy."""
    rng = random.Random(seed)
    keys = _signing_keys(engine, secret_key, account_id)
    with engine.connect() as db:
        delivered = db.execute(
            select(Recipient.id, Recipient.message_id, Recipient.email, Recipient.updated_at)
            .join(Message, Message.id == Recipient.message_id)
            .where(Message.account_id == account_id, Recipient.status == "delivered")
            .order_by(Recipient.updated_at)
        ).all()
    chosen = [r for r in delivered if rng.random() < share]
    for part in _chunks(chosen):
        with engine.begin() as db:
            found = db.execute(
                select(Message.id, Message.domain_id, Message.subject, Message.raw).where(
                    Message.id.in_({r.message_id for r in part})
                )
            ).all()
            messages = {m.id: m for m in found}
            rows = [_copy(r, messages[r.message_id], keys, secret_key, account_id) for r in part]
            for row in rows:
                row["received_at"] += timedelta(seconds=rng.uniform(0.05, 2))
            db.execute(insert(CapturedMessage), rows)
    with engine.connect() as db:
        newest = db.execute(
            select(CapturedMessage.id, CapturedMessage.rcpt_tos, CapturedMessage.subject)
            .where(CapturedMessage.account_id == account_id)
            .order_by(CapturedMessage.received_at.desc())
            .limit(1)
        ).one()
    words = newest.subject.removeprefix("Your ")  # e.g. "invoice #99812"
    return Captured(newest.id, newest.rcpt_tos[0], words)


def _copy(
    recipient: Any,
    message: Any,
    keys: dict[str, Sequence[SigningKey]],
    secret_key: str,
    account_id: str,
) -> dict[str, Any]:
    domain = keys[message.domain_id][0].domain
    return {
        "received_at": recipient.updated_at,
        "mail_from": verp_address(secret_key, message.id, recipient.id, f"bounce.{domain}"),
        "rcpt_tos": [recipient.email],
        "subject": message.subject,
        "dkim": "pass",
        "raw": sign(message.raw, keys[message.domain_id]),
        "message_id": message.id,
        "account_id": account_id,
    }


def _signing_keys(
    engine: Engine, secret_key: str, account_id: str
) -> dict[str, Sequence[SigningKey]]:
    """The active keys of each of the account's domains, by domain id."""
    keys: dict[str, list[SigningKey]] = {}
    with engine.connect() as db:
        found = db.execute(
            select(
                Domain.id,
                Domain.name,
                DkimKey.selector,
                DkimKey.algorithm,
                DkimKey.private_key_encrypted,
            )
            .join(DkimKey, DkimKey.domain_id == Domain.id)
            .where(Domain.account_id == account_id, DkimKey.status == DkimKeyStatus.ACTIVE)
        ).all()
    for domain_id, name, selector, algorithm, encrypted in found:
        key = SigningKey(name, selector, algorithm, decrypt(secret_key, encrypted))
        keys.setdefault(domain_id, []).append(key)
    return dict(keys)


def _chunks(rows: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]
