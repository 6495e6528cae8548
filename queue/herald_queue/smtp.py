"""SMTP client side: connections to one destination, reused across messages, with TLS.

A :class:`SmtpPool` keeps idle connections per destination (address, port, MX name, TLS
policy) and limits how many are open to each at once. STARTTLS is used whenever offered:
first with certificate verification against the MX name, and, when that fails and the
policy allows it, again without (opportunistic TLS, RFC 7435). A destination that requires
verified TLS (MTA-STS ``enforce``, a relay with ``starttls``) gets no mail in clear or over
unverified TLS; one with implicit TLS (a relay on port 465) speaks TLS from the first byte,
verified. A relay with credentials is logged in to once TLS is up (:mod:`.smtp_auth`).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

import aiosmtplib
from msgspec import Struct

from herald_queue.smtp_auth import AuthenticationFailed, Credentials, authenticate
from herald_queue.smtp_transaction import Connection, Reply, run_transaction

__all__ = ["RECIPIENTS_PER_TRANSACTION", "Destination", "Reply", "SmtpPool", "TransactionResult"]

RECIPIENTS_PER_TRANSACTION = 50

log = logging.getLogger(__name__)


class TransactionResult(Struct, frozen=True):
    """Per-recipient replies plus what the connection looked like."""

    replies: dict[str, Reply]
    tls: str = ""
    tls_verified: bool = False
    reused: bool = False


class Destination(Struct, frozen=True):
    """Where a connection goes, what TLS it must have and whom it logs in as."""

    address: str
    port: int
    mx_name: str
    require_verified_tls: bool = False
    implicit_tls: bool = False
    credentials: Credentials | None = None
    source_ip: str = ""
    """The local address to connect from (``HERALD_SENDING_IPS``); "": the system's."""
    helo_name: str = ""
    """The EHLO name that goes with ``source_ip``; "": the pool's (``HERALD_HOSTNAME``)."""


class TlsUnavailable(Exception):
    """Verified TLS is required but the server cannot provide it."""


def verified_tls_context(extra_ca_file: str = "") -> ssl.SSLContext:
    """Checks the certificate chain and the MX name; trusts ``extra_ca_file`` too."""
    context = ssl.create_default_context()
    if extra_ca_file:
        context.load_verify_locations(cafile=extra_ca_file)
    return context


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


async def _connect(
    destination: Destination,
    helo_name: str,
    command_timeout: float,
    implicit_tls: ssl.SSLContext | None = None,
) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(
        hostname=destination.address,
        port=destination.port,
        local_hostname=destination.helo_name or helo_name,
        source_address=(destination.source_ip, 0) if destination.source_ip else None,
        timeout=command_timeout,
        use_tls=implicit_tls is not None,
        start_tls=False,
        validate_certs=implicit_tls is not None,
        tls_context=implicit_tls,
    )
    await client.connect()
    await client.ehlo()
    return client


async def open_connection(
    destination: Destination, helo_name: str, command_timeout: float, verified: ssl.SSLContext
) -> Connection:
    """Connect with the TLS the destination asks for, then log in if it has credentials."""
    connection = await _secure_connection(destination, helo_name, command_timeout, verified)
    if destination.credentials is not None:
        try:
            await authenticate(
                connection.client,
                destination.credentials,
                destination.mx_name,
                encrypted=bool(connection.tls),
            )
        except AuthenticationFailed:
            await connection.close()
            raise
    return connection


async def _implicit_tls(
    destination: Destination, helo_name: str, command_timeout: float, verified: ssl.SSLContext
) -> Connection:
    """TLS from the first byte, verified against the destination's name (port 465)."""
    try:
        client = await _connect(destination, helo_name, command_timeout, verified)
    except aiosmtplib.SMTPConnectError as exc:
        if isinstance(exc.__cause__, ssl.SSLError):
            raise TlsUnavailable(f"TLS to {destination.mx_name} not verified: {exc}") from exc
        raise
    return Connection(client, _tls_version(client), True)


async def _secure_connection(
    destination: Destination, helo_name: str, command_timeout: float, verified: ssl.SSLContext
) -> Connection:
    """Connect, EHLO and STARTTLS when offered (verified if possible, as policy demands)."""
    if destination.implicit_tls:
        return await _implicit_tls(destination, helo_name, command_timeout, verified)
    client = await _connect(destination, helo_name, command_timeout)
    if not client.supports_extension("starttls"):
        if destination.require_verified_tls:
            client.close()
            raise TlsUnavailable(f"{destination.mx_name} does not offer STARTTLS")
        return Connection(client, "", False)
    try:
        await client.starttls(server_hostname=destination.mx_name, tls_context=verified)
    except (ssl.SSLError, aiosmtplib.SMTPException, OSError) as exc:
        client.close()
        if destination.require_verified_tls:
            raise TlsUnavailable(f"TLS to {destination.mx_name} not verified: {exc}") from exc
    else:
        await client.ehlo()  # the extensions offered inside TLS may differ (RFC 3207 §4.2)
        return Connection(client, _tls_version(client), True)
    client = await _connect(destination, helo_name, command_timeout)
    if client.supports_extension("starttls"):
        try:
            await client.starttls(server_hostname=destination.mx_name, tls_context=_OPPORTUNISTIC)
        except (ssl.SSLError, aiosmtplib.SMTPException) as exc:
            # TLS itself is broken there: opportunistic means plain text beats no delivery.
            log.info("STARTTLS with %s failed (%s); sending in plain text", destination, exc)
            client.close()
            client = await _connect(destination, helo_name, command_timeout)
            return Connection(client, "", False)
        await client.ehlo()
    return Connection(client, _tls_version(client), False)


class SmtpPool:
    """Open connections per destination: reused across messages, limited in number."""

    def __init__(
        self,
        *,
        helo_name: str,
        command_timeout: float,
        per_destination: int = 10,
        verified_context: ssl.SSLContext | None = None,
        max_idle: float = 30.0,
        max_age: float = 300.0,
        max_transactions: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.helo_name = helo_name
        self.command_timeout = command_timeout
        self.per_destination = per_destination
        self.verified_context = verified_context or verified_tls_context()
        self.max_idle = max_idle
        self.max_age = max_age
        self.max_transactions = max_transactions
        self._clock = clock
        self._idle: dict[Destination, list[Connection]] = defaultdict(list)
        self._limits: dict[Destination, asyncio.Semaphore] = {}
        self.opened = 0

    def _fresh(self, connection: Connection) -> bool:
        now = self._clock()
        return (
            connection.client.is_connected
            and now - connection.last_used < self.max_idle
            and now - connection.opened_at < self.max_age
            and connection.transactions < self.max_transactions
        )

    async def _take_idle(self, destination: Destination) -> Connection | None:
        idle = self._idle[destination]
        while idle:
            connection = idle.pop()
            if self._fresh(connection):
                return connection
            await connection.close()
        return None

    async def send(
        self,
        destination: Destination,
        mail_from: str,
        recipients: Sequence[str],
        data: bytes,
        reuse_limit: int | None = None,
    ) -> TransactionResult:
        """Deliver ``data`` to ``recipients`` (at most one transaction's worth) there; a
        connection that has carried ``reuse_limit`` messages is closed (traffic shaping)."""
        limit = self._limits.setdefault(destination, asyncio.Semaphore(self.per_destination))
        async with limit:
            connection = await self._take_idle(destination)
            reused = connection is not None
            for _ in range(2):
                if connection is None:
                    try:
                        connection = await open_connection(
                            destination, self.helo_name, self.command_timeout, self.verified_context
                        )
                    except (TlsUnavailable, AuthenticationFailed) as exc:
                        return TransactionResult(dict.fromkeys(recipients, Reply(None, str(exc))))
                    except aiosmtplib.SMTPResponseException as exc:
                        return TransactionResult(
                            {r: Reply(exc.code, exc.message) for r in recipients}
                        )
                    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                        failure = Reply(None, f"{type(exc).__name__}: {exc}".strip())
                        return TransactionResult(dict.fromkeys(recipients, failure))
                    self.opened += 1
                try:
                    outcome = await run_transaction(
                        connection, mail_from, recipients, data, self.command_timeout
                    )
                except asyncio.CancelledError:  # a stopping worker gave up on it
                    connection.abort()
                    raise
                replies = outcome.replies
                if outcome.reusable and (
                    reuse_limit is None or connection.transactions < reuse_limit
                ):
                    self._idle[destination].append(connection)
                else:
                    await connection.close()
                if reused and outcome.unanswered:
                    # The server closed an idle connection: try once on a new one.
                    connection, reused = None, False
                    continue
                break
            assert connection is not None
            return TransactionResult(
                replies, connection.tls, connection.tls_verified, reused=reused
            )

    async def close(self) -> None:
        """Close every idle connection."""
        for idle in self._idle.values():
            while idle:
                await idle.pop().close()
