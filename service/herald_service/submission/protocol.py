"""One SMTP submission session: aiosmtpd's protocol with Herald's AUTH and limits.

aiosmtpd parses the commands (AUTH PLAIN/LOGIN, STARTTLS, SIZE, 8BITMIME, SMTPUTF8); this
class adds what its hooks cannot:

- AUTH checks an API key, which needs the database: aiosmtpd's authenticator is
  synchronous, so the PLAIN and LOGIN exchanges are left to aiosmtpd and the decoded
  credentials are checked here, asynchronously.
- A client on a trusted network (``HERALD_SUBMISSION_TRUSTED_NETWORKS``) sends without
  AUTH, as ``HERALD_SUBMISSION_TRUSTED_KEY`` (Postfix's ``mynetworks``).
- An idle session is told why it is closed (``421``), as Postfix does, instead of having
  its connection dropped.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from herald_service.keys.service import AuthContext
from herald_service.submission.envelope_addresses import plain_address
from herald_service.submission.replies import Refusal
from herald_service.submission.service import SubmissionService

log = logging.getLogger("herald.submission")


class SubmissionSMTP(SMTP):
    """A submission session; ``on_close`` tells the server it ended."""

    def __init__(
        self,
        handler: Any,
        *,
        service: SubmissionService,
        trusted: AuthContext | None,
        on_close: Callable[[SubmissionSMTP], None],
        implicit_tls: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(handler, auth_required=True, auth_require_tls=True, **options)
        if implicit_tls:
            # Encrypted before the first command: aiosmtpd only knows of STARTTLS, and
            # would refuse AUTH (538) waiting for one.
            self._auth_require_tls = False
        self._service = service
        self._trusted_auth = trusted
        self._on_close = on_close
        self.trusted = False

    @property
    def peer_address(self) -> str:
        """The client's IP address ('' if unknown)."""
        peer = self.session.peer if self.session is not None else None
        return str(peer[0]) if isinstance(peer, tuple) and peer else ""

    @property
    def auth(self) -> AuthContext | None:
        """The key this session sends as: the authenticated one, or the trusted one."""
        data = self.session.auth_data if self.session is not None else None
        if isinstance(data, AuthContext):
            return data
        return self._trusted_auth if self.trusted else None

    @property
    def in_transaction(self) -> bool:
        """Whether a MAIL FROM is open (a message under way, DATA included)."""
        return self.envelope is not None and self.envelope.mail_from is not None

    def connection_made(self, transport: Any) -> None:
        """Mark a session from a trusted network (once, before any STARTTLS)."""
        first = self.transport is None
        super().connection_made(transport)
        if first and self._trusted_auth is not None:
            self.trusted = _in_networks(self.peer_address, self._trusted_networks())

    def connection_lost(self, error: Exception | None) -> None:
        """Tell the server the session ended."""
        try:
            super().connection_lost(error)
        finally:
            self._on_close(self)

    def _trusted_networks(self) -> tuple[str, ...]:
        networks: tuple[str, ...] = self._service.trusted_networks
        return networks

    async def check_auth_needed(self, caller_method: str) -> bool:
        """No AUTH needed from a trusted network; 530 for anyone else without it."""
        if self.trusted:
            return False
        needed: bool = await super().check_auth_needed(caller_method)
        return needed

    def _authenticate(self, mechanism: str, auth_data: Any) -> AuthResult:
        """Keep the decoded credentials: :meth:`_check` verifies them asynchronously."""
        del mechanism
        return AuthResult(success=False, handled=False, auth_data=auth_data)

    async def _check(self, result: AuthResult) -> AuthResult:
        credentials = result.auth_data
        if result.success or result.handled or not isinstance(credentials, LoginPassword):
            return result  # aiosmtpd refused the exchange itself (bad base64, abort)
        password = credentials.password.decode("utf-8", "replace")
        try:
            auth = await self._service.authenticate(password, self.peer_address)
        except Refusal as refusal:
            if refusal.code == 421:  # locked out: end the session, as Postfix does
                await self.push(refusal.reply)
                if self.transport is not None:
                    self.transport.close()
                return AuthResult(success=False, handled=True)
            return AuthResult(success=False, handled=False, message=refusal.reply)
        return AuthResult(success=True, auth_data=auth)

    async def auth_PLAIN(self, _: Any, args: list[str]) -> AuthResult:
        """AUTH PLAIN (RFC 4616): any user name; the password is an API key."""
        return await self._check(await super().auth_PLAIN(_, args))

    async def auth_LOGIN(self, _: Any, args: list[str]) -> AuthResult:
        """AUTH LOGIN: any user name; the password is an API key."""
        return await self._check(await super().auth_LOGIN(_, args))

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """The address of MAIL or RCPT: a plain ``<local@domain>`` read cheaply, anything
        else by aiosmtpd's full parser (see :mod:`.envelope_addresses`)."""
        plain = plain_address(arg, self.local_part_limit)
        if plain is not None:
            return plain
        parsed: tuple[str | None, str | None] = super()._getaddr(arg)
        return parsed

    def _say_and_close(self, reply: str) -> None:
        transport = self.transport
        if isinstance(transport, asyncio.WriteTransport) and not transport.is_closing():
            transport.write(f"{reply}\r\n".encode())
            transport.close()

    def _timeout_cb(self) -> None:
        """Close an idle session with a 421 saying why (aiosmtpd just drops it)."""
        self._say_and_close(f"421 4.4.2 {self.hostname} Error: timeout exceeded")

    def close_for_shutdown(self) -> None:
        """End an idle session: the server is stopping (421, RFC 5321 §3.8)."""
        self._say_and_close(f"421 4.3.2 {self.hostname} Service shutting down, try again later")


def _in_networks(address: str, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(n) for n in networks)
