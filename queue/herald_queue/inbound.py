"""``herald inbound``: the SMTP server behind every domain's return-path host.

It accepts mail only for VERP addresses Herald issued (the HMAC tag is checked at RCPT, so
it is no open relay and nobody can forge reports about other recipients), reads DSNs and
ARF complaint reports, and records them as ``bounced``/``complained`` events and
suppressions.

It also takes the ``mailto:`` target of hosted unsubscribe (``u+<token>@<return-path
host>``, see :mod:`herald_service.tracking.service`): a mail to it, whatever it says,
unsubscribes the message's recipient (``message.unsubscribed``, suppression with reason
``unsubscribe``). A token that does not verify, or names a message without hosted
unsubscribe, is refused at RCPT like any other unknown address.
"""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from herald_service.core.tracking_tokens import read_token
from herald_service.mail.return_path import parse_verp
from herald_service.settings import Settings
from herald_service.storage.database import async_session_factory, make_async_engine
from herald_service.suppressions.feedback import apply_inbound_report
from herald_service.tracking.recording import TrackedMessage, load_tracked_message
from herald_service.tracking.service import MAILTO_PREFIX, tracking_key
from herald_service.tracking.unsubscribe import offers_unsubscribe, unsubscribe

log = logging.getLogger(__name__)

MAX_REPORT_BYTES = 10 * 1024 * 1024


class InboundHandler:
    """aiosmtpd handler for return-path mail."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._secret = settings.require_secret_key()
        self._tracking_key = tracking_key(self._secret)
        self._database_url = settings.database_url
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self.processed = 0

    def _session_factory(self) -> async_sessionmaker[AsyncSession]:
        # Made on first use so the pool belongs to the server's own event loop.
        if self._sessions is None:
            self._engine = make_async_engine(self._database_url)
            self._sessions = async_session_factory(self._engine)
        return self._sessions

    async def handle_RCPT(
        self,
        server: Any,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if parse_verp(self._secret, address) is None:
            try:
                unsubscribing = await self._unsubscribing(address)
            except Exception:
                log.exception("could not look up an unsubscribe address")
                return "451 4.3.0 Try again later"
            if unsubscribing is None:
                return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def _unsubscribing(self, address: str) -> TrackedMessage | None:
        """The message whose hosted unsubscribe ``address`` is, or None: not one."""
        local = address.strip().strip("<>").rpartition("@")[0]
        if not local.lower().startswith(MAILTO_PREFIX):
            return None
        ref = read_token(self._tracking_key, local[len(MAILTO_PREFIX) :])
        if ref is None or ref.kind != "u":
            return None
        message = await load_tracked_message(self._session_factory(), ref.message_id)
        return message if offers_unsubscribe(message) else None

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = bytes(envelope.original_content or b"")
        for address in envelope.rcpt_tos:
            return_path = parse_verp(self._secret, address)
            if return_path is None:
                if not await self._unsubscribe(address):
                    return "451 4.3.0 Could not record the unsubscribe, try again later"
                continue
            try:
                async with self._session_factory().begin() as db:
                    written = await apply_inbound_report(db, return_path, raw, self._settings)
            except Exception:
                log.exception("could not record a report for %s", return_path.message_id)
                return "451 4.3.0 Could not record the report, try again later"
            log.info("report for %s: %s", return_path.message_id, written or "nothing to do")
        self.processed += 1
        return "250 2.0.0 Report received"

    async def _unsubscribe(self, address: str) -> bool:
        """Unsubscribe the recipient ``address`` names; False: it could not be written."""
        try:
            message = await self._unsubscribing(address)
            if message is not None:
                new = await unsubscribe(self._session_factory(), message, "mailto")
                log.info("unsubscribe by mail for %s: %s", message.id, "done" if new else "already")
        except Exception:
            log.exception("could not record an unsubscribe by mail")
            return False
        return True

    async def close(self) -> None:
        """Release the database pool."""
        if self._engine is not None:
            await self._engine.dispose()


def start_inbound_server(settings: Settings, host: str, port: int) -> Controller:
    """Start the return-path SMTP server in a background thread; ``.stop()`` ends it."""
    controller = Controller(
        InboundHandler(settings),
        hostname=host,
        port=port,
        decode_data=False,
        data_size_limit=MAX_REPORT_BYTES,
        ident=f"{settings.hostname} Herald return path",
    )
    controller.start()
    return controller
