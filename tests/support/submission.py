"""``herald submission`` for tests: the real server on loopback, in a thread of its own.

The server runs on its own event loop, so tests talk to it with blocking clients
(``smtplib``, ``swaks``, Postfix) straight from the test, and the server keeps serving
while they wait. Ports are picked by the system; the certificate is a self-signed one for
``localhost`` and the loopback addresses, which clients are told to trust.
"""

from __future__ import annotations

import asyncio
import secrets
import smtplib
import ssl
import threading
from collections.abc import Awaitable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from herald_service.api.context import ApiContext, api_context
from herald_service.submission.certificates import ReloadingCertificate, write_self_signed
from herald_service.submission.lockout import Lockout
from herald_service.submission.server import SubmissionServer
from herald_service.submission.service import SubmissionService
from support.harness import Herald

T = TypeVar("T")


class RunningSubmission:
    """A started submission server and what tests need to reach it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, cert_file: Path) -> None:
        self.loop = loop
        self.host = "127.0.0.1"
        self.cert_file = cert_file
        self.server: SubmissionServer
        self.context: ApiContext
        self.lockout: Lockout
        self.port = 0
        self.tls_port = 0

    def call(self, coroutine: Awaitable[T], timeout: float = 30.0) -> T:
        """Run ``coroutine`` on the server's loop and wait for its result."""

        async def run() -> T:
            return await coroutine

        future: Future[T] = asyncio.run_coroutine_threadsafe(run(), self.loop)
        return future.result(timeout)

    def flush(self) -> None:
        """Wait until every message accepted so far has been handed to the queue."""
        self.call(self.context.sender.flush_enqueues())

    def client_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts the server's certificate."""
        return ssl.create_default_context(cafile=str(self.cert_file))

    def starttls(self, password: str | None = None) -> smtplib.SMTP:
        """A client on the STARTTLS port, after EHLO and STARTTLS (and AUTH if given)."""
        client = smtplib.SMTP(self.host, self.port, timeout=10)
        client.ehlo("client.example")
        client.starttls(context=self.client_context())
        client.ehlo("client.example")
        if password is not None:
            client.login("apikey", password)
        return client

    def implicit_tls(self, password: str | None = None) -> smtplib.SMTP_SSL:
        """A client on the implicit TLS port (465), after EHLO (and AUTH if given)."""
        client = smtplib.SMTP_SSL(
            self.host, self.tls_port, timeout=10, context=self.client_context()
        )
        client.ehlo("client.example")
        if password is not None:
            client.login("apikey", password)
        return client


@contextmanager
def running_submission(
    herald: Herald, tmp_path: Path, **changes: Any
) -> Iterator[RunningSubmission]:
    """The submission server for ``herald``'s settings changed by ``changes`` (its stop,
    graceful, is part of leaving the block)."""
    cert_file, key_file = tmp_path / "submission.crt", tmp_path / "submission.key"
    if not cert_file.exists():
        write_self_signed(cert_file, key_file, "localhost")
    settings = msgspec.structs.replace(
        herald.settings,
        **{"submission_cert_file": str(cert_file), "submission_key_file": str(key_file), **changes},
    )
    loop = asyncio.new_event_loop()
    running = RunningSubmission(loop, cert_file)
    ready = threading.Event()
    stop = asyncio.Event()
    failure: list[BaseException] = []

    async def serve() -> None:
        async with api_context(settings) as context:
            prefix = f"herald:smtp-lockout:test-{secrets.token_hex(4)}"
            lockout = Lockout(
                context.quota_redis,
                failures=settings.submission_lockout_failures,
                window=settings.submission_lockout_window,
                duration=settings.submission_lockout_duration,
                prefix=prefix,
            )
            service = SubmissionService(context, lockout)
            certificate = ReloadingCertificate(cert_file, key_file)
            server = SubmissionServer(service, settings, certificate, await service.trusted())
            await server.start(running.host, 0, 0)
            running.server, running.context, running.lockout = server, context, lockout
            running.port, running.tls_port = server.ports
            ready.set()
            await stop.wait()
            await server.stop(grace=5)
            await context.sender.flush_enqueues()

    def thread_main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(serve())
        except BaseException as exc:  # reported to the test below
            failure.append(exc)
            ready.set()
        finally:  # sessions the stop closed may still have their reader task pending
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    thread = threading.Thread(target=thread_main, name="submission", daemon=True)
    thread.start()
    ready.wait(30)
    if failure:
        raise failure[0]
    try:
        yield running
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        if failure:
            raise failure[0]
