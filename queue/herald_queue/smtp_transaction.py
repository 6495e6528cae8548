"""One mail transaction (MAIL, RCPT…, DATA) on an open SMTP connection.

When the server offers PIPELINING (RFC 2920), MAIL, every RCPT and DATA go out in one
write and their replies are read together, then the content follows: two round trips per
message instead of three plus one per recipient, and far fewer wake-ups on both ends.
aiosmtplib (which opens the connection, says EHLO and negotiates STARTTLS) reads one reply
per command it writes, so for the pipelined group a
:class:`~herald_queue.smtp_reply_reader.ReplyReader` takes the transport's protocol seat
(``Transport.set_protocol``) and hands it back afterwards.
Servers without PIPELINING get the same transaction one command at a time.

Both paths give the same result: a reply per recipient, whether the connection can carry
another transaction, and whether it failed before the server answered anything (an idle
connection the server had closed; the pool then retries once on a new one).

The aiosmtplib internals used here (its protocol object, ``normalize_message_line_endings``)
are not public API: the dependency is pinned below the next major release and
``tests/unit/test_aiosmtplib_internals.py`` fails loudly if they change.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from typing import cast

import aiosmtplib
from aiosmtplib.protocol import normalize_message_line_endings
from msgspec import Struct

from herald_queue.smtp_reply_reader import Reply, ReplyReader

__all__ = ["Connection", "Reply", "TransactionOutcome", "run_transaction"]

_LEADING_DOT = re.compile(rb"(?m)^\.")
_ACCEPTED_RCPT = (250, 251)
_UNSAFE = re.compile(rb"[\x00-\x1f\x7f]")


class Connection:
    """One open SMTP session, ready for a transaction."""

    def __init__(self, client: aiosmtplib.SMTP, tls: str, tls_verified: bool) -> None:
        self.client = client
        self.tls = tls
        self.tls_verified = tls_verified
        self.opened_at = time.monotonic()
        self.last_used = self.opened_at
        self.transactions = 0

    @property
    def pipelining(self) -> bool:
        """Whether the server offered PIPELINING in its (latest) EHLO reply."""
        return self.client.supports_extension("pipelining")

    def abort(self) -> None:
        """Drop the socket now, with whatever is still unsent (an interrupted transaction:
        the server must not take a message whose reply nobody reads)."""
        transport = cast("asyncio.Transport | None", self.client.transport)
        if transport is not None:
            transport.abort()
        self.client.close()

    async def close(self) -> None:
        """QUIT politely, or just drop the socket."""
        if self.client.is_connected:
            try:
                await self.client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                self.client.close()


class TransactionOutcome(Struct, frozen=True):
    """Per-recipient replies, whether the connection may be reused, and whether the
    server answered nothing at all (so the transaction may be retried elsewhere)."""

    replies: dict[str, Reply]
    reusable: bool
    unanswered: bool = False


async def run_transaction(
    connection: Connection,
    mail_from: str,
    recipients: Sequence[str],
    data: bytes,
    reply_timeout: float,
) -> TransactionOutcome:
    """Send ``data`` from ``mail_from`` to ``recipients`` over ``connection``, waiting at
    most ``reply_timeout`` seconds for each reply."""
    if connection.pipelining:
        outcome = await _pipelined(connection, mail_from, recipients, data, reply_timeout)
    else:
        outcome = await _one_by_one(connection, mail_from, recipients, data)
    if outcome.reusable:
        connection.transactions += 1
        connection.last_used = time.monotonic()
    return outcome


def _failed(
    recipients: Sequence[str], replies: dict[str, Reply], failure: Reply
) -> dict[str, Reply]:
    """``failure`` for every recipient without a refusal of its own."""
    for rcpt in recipients:
        current = replies.get(rcpt)
        if current is None or 200 <= (current.code or 0) < 300:
            replies[rcpt] = failure
    return replies


def _wire_content(data: bytes) -> bytes:
    """``data`` as DATA sends it: CRLF line endings, a final CRLF, leading dots doubled
    (RFC 5321 §4.5.2). Signed messages already have clean CRLFs: no regex pass then."""
    crlf = data.count(b"\r\n")
    if not (crlf == data.count(b"\n") == data.count(b"\r") and data.endswith(b"\r\n")):
        data = normalize_message_line_endings(data)
    if data.startswith(b".") or b"\n." in data:
        data = _LEADING_DOT.sub(b"..", data)
    return data


def _address(address: str) -> bytes:
    """``address`` for a MAIL or RCPT command; control characters would inject commands."""
    encoded = address.encode("ascii")
    if _UNSAFE.search(encoded):
        raise ValueError(f"control character in address {address!r}")
    return encoded


def _command_group(mail_from: str, recipients: Sequence[str]) -> bytes:
    """MAIL, one RCPT per recipient and DATA, as one write."""
    group = [b"MAIL FROM:<%s>\r\n" % _address(mail_from)]
    group += [b"RCPT TO:<%s>\r\n" % _address(rcpt) for rcpt in recipients]
    group.append(b"DATA\r\n")
    return b"".join(group)


def _no_answer(exc: BaseException) -> Reply:
    return Reply(None, f"{type(exc).__name__}: {exc}".strip())


async def _one_by_one(
    connection: Connection, mail_from: str, recipients: Sequence[str], data: bytes
) -> TransactionOutcome:
    """The transaction with a round trip per command (servers without PIPELINING)."""
    client = connection.client
    replies: dict[str, Reply] = {}
    answered = False
    try:
        await client.mail(mail_from)
        answered = True
        accepted: list[str] = []
        for rcpt in recipients:
            try:
                response = await client.rcpt(rcpt)
            except aiosmtplib.SMTPRecipientRefused as exc:
                replies[rcpt] = Reply(exc.code, exc.message)
            else:
                accepted.append(rcpt)
                replies[rcpt] = Reply(response.code, response.message)
        if accepted:
            response = await client.data(data)
            for rcpt in accepted:
                replies[rcpt] = Reply(response.code, response.message)
        else:
            await client.rset()
    except aiosmtplib.SMTPResponseException as exc:
        return TransactionOutcome(_failed(recipients, replies, Reply(exc.code, exc.message)), False)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        failure = _no_answer(exc)
        return TransactionOutcome(_failed(recipients, replies, failure), False, not answered)
    return TransactionOutcome(replies, True)


async def _pipelined(
    connection: Connection,
    mail_from: str,
    recipients: Sequence[str],
    data: bytes,
    reply_timeout: float,
) -> TransactionOutcome:
    """The transaction as one pipelined group (MAIL, RCPT…, DATA), then the content."""
    protocol = connection.client.protocol
    # uvloop's transports are not asyncio.Transport subclasses, but have the same methods.
    transport = cast("asyncio.Transport | None", protocol and protocol.transport)
    if protocol is None or transport is None or transport.is_closing():
        failure = Reply(None, "SMTPServerDisconnected: Connection lost")
        return TransactionOutcome(dict.fromkeys(recipients, failure), False, True)
    reader = ReplyReader(protocol, reply_timeout)
    transport.set_protocol(reader)
    replies: dict[str, Reply] = {}
    answered = False
    try:
        transport.write(_command_group(mail_from, recipients))
        mail = await reader.next()
        answered = True
        if mail.code != 250:
            return TransactionOutcome(_failed(recipients, replies, mail), False)
        accepted: list[str] = []
        for rcpt in recipients:
            reply = await reader.next()
            replies[rcpt] = reply
            if reply.code in _ACCEPTED_RCPT:
                accepted.append(rcpt)
        start = await reader.next()
        if not accepted:
            if start.code == 354:  # content wanted for nobody: drop the connection, since
                connection.client.close()  # a QUIT now would be read as content
                return TransactionOutcome(replies, False)
            transport.write(b"RSET\r\n")
            reset = await reader.next()
            return TransactionOutcome(replies, reset.code == 250)
        if start.code != 354:
            return TransactionOutcome(_failed(recipients, replies, start), False)
        content = _wire_content(data)
        transport.write(content + b".\r\n")
        final = await reader.next()
        if final.code != 250:
            return TransactionOutcome(_failed(recipients, replies, final), False)
        for rcpt in accepted:
            replies[rcpt] = final
        return TransactionOutcome(replies, True)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        failure = _no_answer(exc)
        return TransactionOutcome(_failed(recipients, replies, failure), False, not answered)
    finally:
        if not transport.is_closing():
            transport.set_protocol(protocol)
