"""The local capture inbox: an SMTP server on loopback that stores what it receives.

With ``HERALD_DELIVERY_MODE=capture`` every delivery goes here instead of the internet.
Each message's DKIM signatures are checked against the keys Herald holds (the records a
domain owner would publish), so the inbox shows whether signing works end to end. The VERP
return path (its HMAC tag checked) names the Herald message a copy belongs to; the console
shows a captured message only to the members of that message's account.
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
from herald_service.mail.return_path import parse_verp
from herald_service.storage.models import CapturedMessage, DkimKey, Domain, Message

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

    def __init__(self, engine: Engine, secret_key: str = "") -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._secret_key = secret_key

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=policy.default)
        mail_from = envelope.mail_from or ""
        captured = CapturedMessage(
            mail_from=mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            subject=str(parsed.get("Subject", "")),
            dkim=verify_with_stored_keys(raw, self._sessions),
            raw=raw,
        )
        with self._sessions.begin() as db:
            captured.message_id, captured.account_id = self._origin(db, mail_from)
            db.add(captured)
        return "250 2.0.0 captured"

    def _origin(self, db: Any, mail_from: str) -> tuple[str | None, str | None]:
        """The Herald message and account a VERP return path names, or ``(None, None)``
        for mail Herald did not send (or a return path whose tag does not verify)."""
        verp = parse_verp(self._secret_key, mail_from) if self._secret_key else None
        if verp is None:
            return None, None
        account_id = db.execute(
            select(Message.account_id).where(Message.id == verp.message_id)
        ).scalar()
        return (verp.message_id, account_id) if account_id else (None, None)


def start_capture_server(engine: Engine, host: str, port: int, secret_key: str = "") -> Controller:
    """Start the capture SMTP server in a background thread; call ``.stop()`` to end it.
    ``secret_key`` (``HERALD_SECRET_KEY``) lets it link each copy to its Herald message."""
    handler = CaptureHandler(engine, secret_key)
    controller = Controller(handler, hostname=host, port=port, decode_data=False)
    controller.start()
    return controller
