"""aiosmtpd's handler hooks: EHLO, MAIL, RCPT and DATA of a submission session.

AUTH (and the 530 for MAIL without it) is the protocol's (:mod:`.protocol`); here each
recipient is checked as it is given, so a client learns at RCPT which address is wrong,
and DATA is answered ``250`` only once the message is committed: as strong a promise as
the API's ``202``.
"""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.smtp import Envelope, Session

from herald_service.core.message import Address
from herald_service.request_fields import MAX_RECIPIENTS
from herald_service.storage.outages import database_unavailable
from herald_service.submission.protocol import SubmissionSMTP
from herald_service.submission.replies import AUTH_REQUIRED, TRY_AGAIN, Refusal
from herald_service.submission.service import SubmissionService

log = logging.getLogger("herald.submission")
_RECIPIENTS = "herald_recipients"


def _recipients(envelope: Envelope) -> list[Address]:
    """The checked recipients of the transaction (kept on the envelope, reset with it)."""
    found: list[Address] | None = getattr(envelope, _RECIPIENTS, None)
    if found is None:
        found = []
        setattr(envelope, _RECIPIENTS, found)
    return found


class SubmissionHandler:
    """The hooks aiosmtpd calls; one handler serves every session of a server."""

    def __init__(self, service: SubmissionService) -> None:
        self._service = service

    async def handle_EHLO(
        self,
        server: SubmissionSMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        """aiosmtpd's EHLO answer with PIPELINING (RFC 2920) announced: commands are
        read one after another from the stream, so a pipelining client is served."""
        del server, envelope
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", "250-ENHANCEDSTATUSCODES", responses[-1]]

    async def handle_MAIL(
        self,
        server: SubmissionSMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        """Open a transaction (AUTH already checked); the envelope sender is the client's
        business (bounces come back to Herald's return path, not to it)."""
        del session
        if server.auth is None:
            return AUTH_REQUIRED.reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        setattr(envelope, _RECIPIENTS, [])
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self,
        server: SubmissionSMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept a recipient whose address is valid; a precise 5xx per refused one."""
        del server, session, rcpt_options
        recipients = _recipients(envelope)
        if len(recipients) >= MAX_RECIPIENTS:
            return f"452 4.5.3 Too many recipients (at most {MAX_RECIPIENTS} per message)"
        try:
            checked = self._service.recipient(address)
        except Refusal as refusal:
            return refusal.reply
        envelope.rcpt_tos.append(address)
        recipients.append(checked)
        return "250 2.1.5 OK"

    async def handle_DATA(
        self, server: SubmissionSMTP, session: Session, envelope: Envelope
    ) -> str:
        """Check, sign, store and queue the message; ``250`` with its id once committed."""
        del session
        auth = server.auth
        if auth is None:
            return AUTH_REQUIRED.reply
        content: Any = envelope.original_content or envelope.content
        data = content if isinstance(content, bytes) else str(content).encode()
        try:
            message_id = await self._service.submit(auth, data, list(_recipients(envelope)))
        except Refusal as refusal:
            log.info("submission refused from %s: %s", server.peer_address, refusal.reply)
            return refusal.reply
        except Exception as exc:
            return self._try_again(exc)
        log.debug("submission %s accepted from %s", message_id, server.peer_address)
        return f"250 2.0.0 Ok: queued as {message_id}"

    async def handle_exception(self, error: Exception) -> str:
        """An error no hook answered: the client keeps its message and retries (aiosmtpd
        would say ``500`` with the error's text, a permanent refusal showing internals)."""
        return self._try_again(error)

    @staticmethod
    def _try_again(error: Exception) -> str:
        if database_unavailable(error):
            log.warning("submission deferred: the database is unavailable")
        else:
            log.error("submission failed; the client was told to retry", exc_info=error)
        return TRY_AGAIN.reply
