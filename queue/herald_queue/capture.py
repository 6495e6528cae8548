"""The local capture inbox: an SMTP server on loopback that stores what it receives.

With ``HERALD_DELIVERY_MODE=capture`` every delivery goes here instead of the internet.
Each message's DKIM signatures are checked against the keys Herald holds (the records a
domain owner would publish), so the inbox shows whether signing works end to end.
"""

from __future__ import annotations

import logging
from email import message_from_bytes, policy
from typing import Any

import dkim
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from herald_service.mail.dkim_keys import txt_record_value
from herald_service.storage.models import CapturedMessage, DkimKey, Domain

log = logging.getLogger(__name__)


def verify_with_stored_keys(raw: bytes, sessions: sessionmaker[Any]) -> str:
    """``pass`` when every DKIM signature verifies against Herald's stored public keys."""

    def dns_lookup(name: bytes, timeout: int = 5) -> bytes | None:
        text = name.decode().rstrip(".").lower()
        selector, _, domain_name = text.partition("._domainkey.")
        with sessions() as session:
            key = session.execute(
                select(DkimKey)
                .join(Domain, Domain.id == DkimKey.domain_id)
                .where(Domain.name == domain_name, DkimKey.selector == selector)
            ).scalar()
        return txt_record_value(key.algorithm, key.public_key).encode() if key else None

    checker = dkim.DKIM(raw)
    count = raw.lower().count(b"\ndkim-signature:") + int(
        raw.lower().startswith(b"dkim-signature:")
    )
    if count == 0:
        return "none"
    try:
        ok = all(checker.verify(idx=i, dnsfunc=dns_lookup) for i in range(count))
    except dkim.DKIMException:
        ok = False
    return "pass" if ok else "fail"


class CaptureHandler:
    """aiosmtpd handler that stores every message it accepts."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=policy.default)
        captured = CapturedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            subject=str(parsed.get("Subject", "")),
            dkim=verify_with_stored_keys(raw, self._sessions),
            raw=raw,
        )
        with self._sessions.begin() as db:
            db.add(captured)
        return "250 2.0.0 captured"


def start_capture_server(engine: Engine, host: str, port: int) -> Controller:
    """Start the capture SMTP server in a background thread; call ``.stop()`` to end it."""
    controller = Controller(CaptureHandler(engine), hostname=host, port=port, decode_data=False)
    controller.start()
    return controller
