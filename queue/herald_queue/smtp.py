"""One SMTP transaction to one host with aiosmtplib, with an answer per recipient."""

from __future__ import annotations

import ssl
from collections.abc import Sequence

import aiosmtplib
from msgspec import Struct


class Reply(Struct, frozen=True):
    """The server's answer for one recipient; ``code`` None means no answer at all."""

    code: int | None
    text: str


class TransactionResult(Struct, frozen=True):
    """Per-recipient replies plus what the connection looked like."""

    replies: dict[str, Reply]
    tls: str = ""
    tls_verified: bool = False


def _opportunistic_tls_context() -> ssl.SSLContext:
    """Encrypt whenever offered, without insisting on a valid certificate (RFC 7435)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


_OPPORTUNISTIC = _opportunistic_tls_context()


def _tls_version(client: aiosmtplib.SMTP) -> str:
    transport = client.transport
    if transport is None:
        return ""
    ssl_object = transport.get_extra_info("ssl_object")
    return str(ssl_object.version()) if ssl_object is not None else ""


async def send_transaction(
    *,
    address: str,
    port: int,
    helo_name: str,
    mail_from: str,
    recipients: Sequence[str],
    data: bytes,
    command_timeout: float,
) -> TransactionResult:
    """Deliver ``data`` to ``recipients`` through the server at ``address:port``.

    Connection-level failures (refused, dropped, timed out, a reply to MAIL or DATA that
    is not 2xx) apply to every recipient not yet answered; RCPT replies apply to one.
    """
    replies: dict[str, Reply] = {}
    client = aiosmtplib.SMTP(
        hostname=address,
        port=port,
        local_hostname=helo_name,
        timeout=command_timeout,
        start_tls=None,
        tls_context=_OPPORTUNISTIC,
        validate_certs=False,
    )
    tls = ""
    try:
        await client.connect()
        tls = _tls_version(client)
        await client.mail(mail_from)
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
    except aiosmtplib.SMTPResponseException as exc:
        for rcpt in recipients:
            if rcpt not in replies or 200 <= (replies[rcpt].code or 0) < 300:
                replies[rcpt] = Reply(exc.code, exc.message)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        failure = Reply(None, f"{type(exc).__name__}: {exc}".strip())
        for rcpt in recipients:
            current = replies.get(rcpt)
            if current is None or 200 <= (current.code or 0) < 300:
                replies[rcpt] = failure
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()
    return TransactionResult(replies=replies, tls=tls, tls_verified=False)
