"""A scriptable SMTP server (aiosmtpd in its own thread) bound to one loopback IP."""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import TracebackType

from aiosmtpd.smtp import Envelope, Session

from ._smtp_proto import STAGES, Reply, SimController, SimSMTP, Stage, abort
from .ports import ensure_loopback, free_port_for
from .tls import ServerCertificate, default_ca

__all__ = ["DEFER", "REJECT", "STAGES", "ReceivedMessage", "Reply", "SMTPServer", "Stage"]

DEFER: dict[Stage, Reply] = {
    "connect": (421, "4.3.2 Service not available, try again later"),
    "ehlo": (421, "4.3.2 Service not available, try again later"),
    "mail": (451, "4.3.0 Temporary failure, try again later"),
    "rcpt": (451, "4.3.0 Temporary failure, try again later"),
    "data": (451, "4.3.0 Temporary failure, try again later"),
    "data_end": (451, "4.3.0 Temporary failure, try again later"),
}
"""Default temporary-failure replies per stage, used by `SMTPServer.defer`."""

REJECT: dict[Stage, Reply] = {
    "connect": (554, "5.7.1 No SMTP service here"),
    "ehlo": (550, "5.7.1 Client host rejected"),
    "mail": (550, "5.7.1 Sender address rejected"),
    "rcpt": (550, "5.1.1 User unknown"),
    "data": (554, "5.5.1 No valid recipients"),
    "data_end": (554, "5.6.0 Message rejected"),
}
"""Default permanent-failure replies per stage, used by `SMTPServer.reject`."""


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server saw it; `data` is the raw content, dot-unstuffed."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    peer: tuple[str, int]
    tls: bool
    ehlo: str | None
    mail_options: list[str] = field(default_factory=list)
    queue_id: str = ""
    pipelined: bool = False
    """Whether the client sent the commands after MAIL without waiting for its reply."""
    received_at: float = field(default_factory=time.time)
    """When the server had the whole message (Unix time)."""
    auth_user: str | None = None  # who the client logged in as (SMTP AUTH), if it did

    def parse(self) -> EmailMessage:
        """The content parsed with the modern `email.policy.default`."""
        return email.message_from_bytes(self.data, policy=email.policy.default)


def _check_stage(stage: str) -> Stage:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {STAGES}")
    return stage


class SMTPServer:
    """SMTP server on `host:port` recording messages, with behaviour changeable at runtime.

    Behaviour (read on every command, so it may be changed while clients are connected):
    `replies[stage]` replaces the normal reply (for `rcpt`/`data_end` a 2xx still accepts),
    `rcpt_replies[address]` overrides `replies["rcpt"]` per recipient (case-insensitive),
    `drop_at` closes the socket without reply, `stalls[stage]` sleeps seconds first.
    A 421 reply closes the connection, as RFC 5321 requires. STARTTLS and PIPELINING
    (offered unless `pipelining=False`) settings apply to connections opened after a change.
    `auth` (user: password) offers AUTH, after STARTTLS if offered; `implicit_tls`: TLS at once.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        hostname: str = "mx.simnet.test",
        replies: Mapping[Stage, Reply] | None = None,
        rcpt_replies: Mapping[str, Reply] | None = None,
        drop_at: Stage | None = None,
        stalls: Mapping[Stage, float] | None = None,
        starttls: bool = False,
        require_starttls: bool = False,
        certificate: ServerCertificate | None = None,
        size_limit: int | None = 33_554_432,
        smtputf8: bool = True,
        pipelining: bool = True,
        idle_timeout: float = 60.0,
        auth: Mapping[str, str] | None = None,
        implicit_tls: bool = False,
    ) -> None:
        ensure_loopback(host)
        self.host = host
        self.port = port or free_port_for([host])
        self.hostname = hostname
        self.replies: dict[Stage, Reply] = dict(replies or {})
        self.rcpt_replies: dict[str, Reply] = dict(rcpt_replies or {})
        self.drop_at: Stage | None = drop_at and _check_stage(drop_at)
        self.stalls: dict[Stage, float] = dict(stalls or {})
        self.starttls = starttls or require_starttls
        self.require_starttls = require_starttls
        self.certificate = certificate
        self.size_limit = size_limit
        self.smtputf8 = smtputf8
        self.pipelining = pipelining
        self.idle_timeout = idle_timeout
        self.auth, self.implicit_tls = (dict(auth) if auth is not None else None), implicit_tls
        self.messages: list[ReceivedMessage] = []
        self.unacknowledged: list[ReceivedMessage] = []
        """Messages fully received but never acknowledged (dropped or client gone)."""
        self.connections = 0
        self.live = False
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._open: set[SimSMTP] = set()
        self._tls_cache: tuple[ServerCertificate, ssl.SSLContext] | None = None
        self._controller: SimController | None = None

    # -- lifecycle ---------------------------------------------------------------

    @property
    def address(self) -> str:
        """`"HOST:PORT"`."""
        return f"{self.host}:{self.port}"

    def start(self) -> SMTPServer:
        """Start serving in a background thread with its own event loop."""
        if self._controller is not None:
            raise RuntimeError("SMTPServer already started")
        controller = SimController(self)
        controller.start()
        self._controller = controller
        self.live = True
        return self

    def stop(self) -> None:
        """Abort open connections, stop the loop and join the thread."""
        controller, self._controller = self._controller, None
        if controller is None:
            return
        self.live = False

        async def abort_all() -> None:
            for proto in list(self._open):
                abort(proto)
            await asyncio.sleep(0.01)

        asyncio.run_coroutine_threadsafe(abort_all(), controller.loop).result(timeout=5)
        controller.stop()

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- behaviour ---------------------------------------------------------------

    def accept(self) -> SMTPServer:
        """Back to normal: accept everything, no drops, stalls or custom replies."""
        self.replies.clear()
        self.rcpt_replies.clear()
        self.stalls.clear()
        self.drop_at = None
        return self

    def defer(
        self, at: Stage = "rcpt", reply: Reply | None = None, *, rcpt: str | None = None
    ) -> SMTPServer:
        """Answer a temporary failure (4xx) at `at`, or for one recipient if `rcpt` is given."""
        return self._set_reply(at, reply or DEFER[_check_stage(at)], rcpt)

    def reject(
        self, at: Stage = "rcpt", reply: Reply | None = None, *, rcpt: str | None = None
    ) -> SMTPServer:
        """Answer a permanent failure (5xx) at `at`, or for one recipient if `rcpt` is given."""
        return self._set_reply(at, reply or REJECT[_check_stage(at)], rcpt)

    def _set_reply(self, at: Stage, reply: Reply, rcpt: str | None) -> SMTPServer:
        if rcpt is not None:
            self.rcpt_replies[rcpt] = reply
        else:
            self.replies[_check_stage(at)] = reply
        return self

    def drop(self, at: Stage | None) -> SMTPServer:
        """Close the connection without a reply at stage `at` (None: stop dropping)."""
        self.drop_at = at and _check_stage(at)
        return self

    def stall(self, at: Stage, seconds: float) -> SMTPServer:
        """Sleep `seconds` before handling stage `at` (0 removes the stall)."""
        self.stalls[_check_stage(at)] = seconds
        return self

    def rcpt_reply(self, address: str) -> Reply | None:
        """The configured reply for RCPT TO:<address>, if any."""
        lowered = address.lower()
        for key, reply in list(self.rcpt_replies.items()):
            if key.lower() == lowered:
                return reply
        return self.replies.get("rcpt")

    def tls_context(self) -> ssl.SSLContext | None:
        """The TLS server context, or None when neither STARTTLS nor implicit TLS is on."""
        if not (self.starttls or self.implicit_tls):
            return None
        if self.certificate is None:
            self.certificate = default_ca().issue(self.hostname, self.host)
        if self._tls_cache is None or self._tls_cache[0] is not self.certificate:
            self._tls_cache = (self.certificate, self.certificate.server_context())
        return self._tls_cache[1]

    # -- recording ---------------------------------------------------------------

    def connection_opened(self, proto: SimSMTP) -> None:
        """Called from the server loop for every new connection."""
        self._open.add(proto)
        if self.live:
            self.connections += 1

    def connection_closed(self, proto: SimSMTP) -> None:
        """Called from the server loop when a connection ends."""
        self._open.discard(proto)

    def make_message(
        self, session: Session, envelope: Envelope, pipelined: bool = False
    ) -> ReceivedMessage:
        """Build a `ReceivedMessage` from aiosmtpd's session and envelope."""
        peer = session.peer if isinstance(session.peer, tuple) else (str(session.peer), 0)
        login = getattr(session.auth_data, "login", None) if session.authenticated else None
        return ReceivedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            data=bytes(envelope.original_content or b""),
            peer=(str(peer[0]), int(peer[1])),
            tls=session.ssl is not None or self.implicit_tls,
            ehlo=session.host_name,
            mail_options=list(envelope.mail_options),
            queue_id=f"SIM{next(self._ids):06d}",
            pipelined=pipelined,
            auth_user=login.decode() if isinstance(login, bytes) else None,
        )

    def record(self, message: ReceivedMessage) -> None:
        """Store an accepted message and wake up `wait_for` callers."""
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Block until at least `count` messages have arrived; raise TimeoutError otherwise."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(
                    f"{self.address}: {len(self.messages)} of {count} messages after {timeout}s"
                )
            return list(self.messages)

    async def wait_for_async(
        self,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[ReceivedMessage]:
        """Like `wait_for`, but polls without blocking the caller's event loop."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{self.address}: {len(self.messages)} of {count} messages after {timeout}s"
                )
            await asyncio.sleep(0.01)
        return list(self.messages)

    def clear(self) -> None:
        """Forget received messages and the connection count (behaviour is kept)."""
        with self._cond:
            self.messages.clear()
            self.unacknowledged.clear()
            self.connections = 0
