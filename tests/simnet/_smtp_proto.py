"""aiosmtpd plumbing behind `simnet.smtp.SMTPServer` (protocol subclass, hooks, controller)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, AnyStr, Literal, NoReturn, get_args

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

if TYPE_CHECKING:
    from .smtp import SMTPServer

Stage = Literal["connect", "ehlo", "mail", "rcpt", "data", "data_end"]
"""Where behaviour applies: `data` is the DATA command (before 354), `data_end` the
final reply after the message content has been received."""
STAGES: tuple[Stage, ...] = get_args(Stage)
Reply = tuple[int, str]


def format_reply(reply: Reply) -> str:
    """`(451, "4.3.0 Try later")` -> `"451 4.3.0 Try later"`."""
    code, text = reply
    return f"{code} {text}".rstrip()


def abort(proto: SMTP) -> None:
    """Close a session's socket at once (beneath TLS, if any), sending nothing more."""
    transport = proto._original_transport or proto.transport
    if isinstance(transport, asyncio.Transport):
        transport.abort()
    elif transport is not None:
        transport.close()


class SimSMTP(SMTP):
    """An aiosmtpd SMTP session that consults its `SMTPServer` for stalls, drops and replies."""

    def __init__(self, owner: SMTPServer, handler: Hooks, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.owner = owner
        self.pipelined = False

    async def interrupt(self, stage: Stage) -> None:
        """Sleep if a stall is configured for `stage`; drop the connection if asked to."""
        if not self.owner.live:
            return
        delay = self.owner.stalls.get(stage, 0.0)
        if delay > 0:
            await asyncio.sleep(delay)
        if self.owner.drop_at == stage:
            await self.drop()

    async def drop(self) -> NoReturn:
        """Close the socket without any reply and wait to be cancelled by connection_lost."""
        abort(self)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")  # pragma: no cover

    async def _gate(self, stage: Stage) -> bool:
        """Apply stall/drop, then a configured reply; True when the command is consumed."""
        await self.interrupt(stage)
        reply = self.owner.replies.get(stage) if self.owner.live else None
        if reply is None:
            return False
        await self.push(format_reply(reply))
        return True

    async def push(self, status: AnyStr) -> None:
        """Send a reply; like real servers, close the connection after a 421."""
        await super().push(status)
        head = status[:3] if isinstance(status, bytes) else status[:3].encode()
        if head == b"421" and self.transport is not None:
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None
        super().connection_made(transport)
        if first:
            self.owner.connection_opened(self)

    def connection_lost(self, error: Exception | None) -> None:
        self.owner.connection_closed(self)
        super().connection_lost(error)

    async def _handle_client(self) -> None:
        if await self._gate("connect"):
            if self.transport is not None:
                self.transport.close()
            return
        await super()._handle_client()

    async def smtp_HELO(self, hostname: str) -> None:
        if not await self._gate("ehlo"):
            await super().smtp_HELO(hostname)

    async def smtp_EHLO(self, hostname: str) -> None:
        if not await self._gate("ehlo"):
            await super().smtp_EHLO(hostname)

    async def smtp_MAIL(self, arg: str | None) -> None:
        # Commands already waiting behind MAIL mean the client did not wait for its reply.
        self.pipelined = bool(self._reader._buffer)  # type: ignore[attr-defined]
        if not await self._gate("mail"):
            await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str | None) -> None:
        await self.interrupt("rcpt")  # replies are per recipient, see Hooks.handle_RCPT
        await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg: str) -> None:
        if not await self._gate("data"):
            await super().smtp_DATA(arg)


class Hooks:
    """aiosmtpd handler: per-recipient RCPT replies and message recording at end of data."""

    def __init__(self, owner: SMTPServer) -> None:
        self.owner = owner

    async def handle_EHLO(
        self,
        server: SimSMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        """aiosmtpd's EHLO reply, plus PIPELINING (RFC 2920) unless the server is told not
        to offer it; aiosmtpd reads pipelined commands in order either way."""
        session.host_name = hostname
        if self.owner.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_RCPT(
        self,
        server: SimSMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self.owner.rcpt_reply(address) if self.owner.live else None
        if reply is not None and not 200 <= reply[0] < 300:
            return format_reply(reply)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return format_reply(reply or (250, "2.1.5 OK"))

    async def handle_DATA(self, server: SimSMTP, session: Session, envelope: Envelope) -> str:
        message = self.owner.make_message(session, envelope, server.pipelined)
        self.owner.unacknowledged.append(message)  # until a reply is decided
        await server.interrupt("data_end")
        self.owner.unacknowledged.remove(message)
        reply = self.owner.replies.get("data_end")
        if reply is None:
            reply = (250, f"2.0.0 OK queued as {message.queue_id}")
        if 200 <= reply[0] < 300:
            self.owner.record(message)
        return format_reply(reply)


class Authenticator:
    """aiosmtpd authenticator checking a login and password against the owner's `auth`."""

    def __init__(self, owner: SMTPServer) -> None:
        self.owner = owner

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        users = self.owner.auth or {}
        if isinstance(data, LoginPassword):
            login, password = data.login.decode(), data.password.decode()
            if login in users and users[login] == password:
                return AuthResult(success=True, auth_data=data)
        return AuthResult(success=False, handled=False)


class SimController(Controller):
    """aiosmtpd Controller making `SimSMTP` sessions; STARTTLS and AUTH settings are read
    per connection, implicit TLS when the server starts."""

    def __init__(self, owner: SMTPServer) -> None:
        super().__init__(
            Hooks(owner),
            hostname=owner.host,
            port=owner.port,
            ready_timeout=10,
            ssl_context=owner.tls_context() if owner.implicit_tls else None,
        )
        self.owner = owner

    def factory(self) -> SimSMTP:
        starttls = self.owner.live and self.owner.starttls
        return SimSMTP(
            self.owner,
            self.handler,
            hostname=self.owner.hostname,
            ident="Simnet ESMTP",
            tls_context=self.owner.tls_context() if starttls else None,
            require_starttls=self.owner.require_starttls,
            authenticator=Authenticator(self.owner) if self.owner.auth is not None else None,
            auth_require_tls=self.owner.starttls,
            data_size_limit=self.owner.size_limit,
            enable_SMTPUTF8=self.owner.smtputf8,
            timeout=self.owner.idle_timeout,
        )
