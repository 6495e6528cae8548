"""``herald submission``: the listeners on 587 (STARTTLS) and 465 (implicit TLS).

At most ``HERALD_SUBMISSION_MAX_SESSIONS`` sessions run at once per process; one more is
told ``421`` and closed (the client retries, as it does with Postfix's
``smtpd_client_connection_count_limit``). On stop the listeners close first, idle
sessions are told ``421``, and sessions in a transaction may finish it (their ``250``
comes after the commit) within the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import tempfile
from pathlib import Path

from herald_service.api.context import api_context
from herald_service.keys.service import AuthContext
from herald_service.metrics import SUBMISSION_SESSIONS
from herald_service.settings import Settings
from herald_service.submission.certificates import ReloadingCertificate, write_self_signed
from herald_service.submission.handler import SubmissionHandler
from herald_service.submission.lockout import LockoutGate
from herald_service.submission.protocol import SubmissionSMTP
from herald_service.submission.service import SubmissionService

log = logging.getLogger("herald.submission")


class _TooBusy(asyncio.Protocol):
    """The session over the cap: told so, and closed."""

    def __init__(self, hostname: str) -> None:
        self._hostname = hostname

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(f"421 4.7.0 {self._hostname} Too many sessions, try later\r\n".encode())
        transport.close()


class SubmissionServer:
    """The submission listeners of one process and their open sessions."""

    def __init__(
        self,
        service: SubmissionService,
        settings: Settings,
        certificate: ReloadingCertificate,
        trusted: AuthContext | None = None,
    ) -> None:
        self._service = service
        self._settings = settings
        self._certificate = certificate
        self._trusted = trusted
        self._handler = SubmissionHandler(service)
        self._hostname = settings.submission_public_host or settings.hostname
        self._sessions: set[SubmissionSMTP] = set()
        self._servers: list[asyncio.Server] = []
        self.ports: list[int] = []

    def _session(self, implicit_tls: bool) -> asyncio.BaseProtocol:
        if len(self._sessions) >= self._settings.submission_max_sessions:
            return _TooBusy(self._hostname)
        session = SubmissionSMTP(
            self._handler,
            service=self._service,
            trusted=self._trusted,
            on_close=self._closed,
            hostname=self._hostname,
            data_size_limit=self._settings.submission_max_message_bytes,
            enable_SMTPUTF8=True,
            tls_context=None if implicit_tls else self._certificate.context(),
            timeout=self._settings.submission_timeout,
            implicit_tls=implicit_tls,
        )
        self._sessions.add(session)
        SUBMISSION_SESSIONS.inc()
        return session

    def _closed(self, session: SubmissionSMTP) -> None:
        if session in self._sessions:
            self._sessions.discard(session)
            SUBMISSION_SESSIONS.dec()

    async def start(self, host: str, port: int, tls_port: int | None) -> None:
        """Listen on ``port`` (STARTTLS) and, if given, ``tls_port`` (implicit TLS); port 0
        picks a free one (:attr:`ports` tells which)."""
        loop = asyncio.get_running_loop()
        plain = await loop.create_server(lambda: self._session(False), host, port)
        self._servers.append(plain)
        if tls_port is not None:
            context = self._certificate.implicit_tls_context()
            secure = await loop.create_server(
                lambda: self._session(True), host, tls_port, ssl=context
            )
            self._servers.append(secure)
        self.ports = [s.sockets[0].getsockname()[1] for s in self._servers]
        log.info("SMTP submission listening on %s ports %s", host, self.ports)

    @property
    def session_count(self) -> int:
        """Sessions open now."""
        return len(self._sessions)

    async def stop(self, grace: float = 30.0) -> None:
        """Stop listening, let open transactions finish (at most ``grace`` seconds), then
        close every session with a 421."""
        for server in self._servers:
            server.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self._sessions and loop.time() < deadline:
            for session in list(self._sessions):
                if not session.in_transaction:
                    session.close_for_shutdown()
                    self._closed(session)
            if self._sessions:
                await asyncio.sleep(0.05)
        for session in list(self._sessions):
            session.close_for_shutdown()
            self._closed(session)
        for server in self._servers:
            await server.wait_closed()


def certificate_for(settings: Settings, fallback_dir: Path | None = None) -> ReloadingCertificate:
    """The configured certificate, or a self-signed one made for this run (logged: clients
    must then be told not to verify, which only suits development)."""
    if settings.submission_cert_file and settings.submission_key_file:
        return ReloadingCertificate(settings.submission_cert_file, settings.submission_key_file)
    folder = fallback_dir or Path(tempfile.mkdtemp(prefix="herald-tls-"))
    cert, key = folder / "submission.crt", folder / "submission.key"
    if not (cert.exists() and key.exists()):
        write_self_signed(cert, key, settings.submission_public_host or settings.hostname)
    log.warning(
        "HERALD_SUBMISSION_CERT_FILE/KEY_FILE unset: using a self-signed certificate (%s)", cert
    )
    return ReloadingCertificate(cert, key)


async def serve(
    settings: Settings,
    host: str,
    port: int,
    tls_port: int | None,
    ready: asyncio.Event | None = None,
    lockout: LockoutGate | None = None,
) -> None:
    """Run the submission server until SIGTERM or SIGINT (or cancellation)."""
    async with api_context(settings) as context:
        gate = lockout or context.lockout
        service = SubmissionService(context, gate)
        trusted = await service.trusted()
        server = SubmissionServer(service, settings, certificate_for(settings), trusted)
        await server.start(host, port, tls_port)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError, RuntimeError):  # not the main thread
                loop.add_signal_handler(signum, stopping.set)
        if ready is not None:
            ready.set()
        try:
            await stopping.wait()
        finally:
            log.info("SMTP submission stopping")
            await server.stop()
            await context.sender.flush_enqueues()
