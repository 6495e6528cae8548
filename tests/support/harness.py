"""Herald wired to real test servers: settings, tenants, DNS publication, queue draining."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from functools import partial

import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient, TestClient
from rq import Queue
from sqlalchemy import Engine, select

from herald_queue.delivery import deliver_messages
from herald_queue.runtime import WorkerRuntime
from herald_queue.sweeper import sweep_once
from herald_service.accounts.service import create_account
from herald_service.core.jobs import job_message_ids
from herald_service.delivery_queue import DeliveryQueue, redis_connection
from herald_service.domains.service import add_domain, dns_records
from herald_service.keys.service import create_api_key
from herald_service.settings import Settings
from herald_service.storage.database import (
    async_session_factory,
    make_async_engine,
    make_engine,
    session_factory,
)
from herald_service.storage.models import Recipient
from herald_service.storage.types import utcnow
from simnet.dns import DNSServer


class Tenant(msgspec.Struct, frozen=True):
    """An account with an API key and (usually) a verified sending domain."""

    account_id: str
    key_id: str
    api_key: str
    domain: str
    domain_id: str

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header for this tenant's key."""
        return {"Authorization": f"Bearer {self.api_key}"}


class Herald:
    """One Herald installation under test (database, Redis queue, simulated DNS)."""

    def __init__(self, settings: Settings, dns: DNSServer) -> None:
        self.settings = settings
        self.dns = dns
        self.engine: Engine = make_engine(settings.database_url)
        self.queue = Queue(settings.queue_name, connection=redis_connection(settings.redis_url))
        self.runtime = WorkerRuntime(settings)
        self._flushers: list[Callable[[], None]] = []

    @contextmanager
    def serving(
        self,
        client: TestClient[Litestar] | AsyncTestClient[Litestar],
    ) -> Iterator[None]:
        """While the block runs, the queue is inspected only after ``client``'s app (in
        this process, started) has written the jobs of every message it accepted.

        The API answers before it enqueues; its app runs on the client's portal thread, so
        its ``Sender.flush_enqueues`` is called through that portal.
        """
        sender = client.app.state.herald.sender
        flush = partial(client.blocking_portal.call, sender.flush_enqueues)
        self._flushers.append(flush)
        try:
            yield
        finally:
            self._flushers.remove(flush)

    def flush_enqueues(self) -> None:
        """Wait until the in-process API apps have enqueued every message they accepted."""
        for flush in list(self._flushers):
            flush()

    async def create_tenant(
        self,
        domain: str = "sender.example",
        *,
        scopes: tuple[str, ...] = ("send", "read", "admin"),
        verified: bool = True,
        publish: bool = True,
    ) -> Tenant:
        """An account, a key with ``scopes`` and a domain whose DNS records are published."""
        engine = make_async_engine(self.settings.database_url)
        try:
            async with async_session_factory(engine).begin() as session:
                account = await create_account(session, f"tenant of {domain}")
                key, token = await create_api_key(session, account.id, scopes)
                row = await add_domain(
                    session, self.settings, account.id, domain, verified=verified
                )
                records = dns_records(row, self.settings)
        finally:
            await engine.dispose()
        if publish:
            for record in records:
                if record.type == "TXT":
                    self.dns.add_txt(record.host, record.value)
                elif record.type == "MX":
                    preference, host = record.value.split()
                    self.dns.add_mx(record.host, [(int(preference), host)])
        return Tenant(account.id, key.id, token, row.name, row.id)

    def add_mx(self, domain: str, *hosts: tuple[int, str, str]) -> None:
        """Publish MX records ``(preference, name, ip)`` for ``domain`` and A records."""
        self.dns.add_mx(domain, [(pref, name) for pref, name, _ in hosts])
        for _, name, ip in hosts:
            self.dns.add_a(name, ip)

    def queued_message_ids(self) -> list[str]:
        """Message ids of the delivery jobs waiting in Redis (once the in-process API apps
        have enqueued what they accepted)."""
        self.flush_enqueues()
        ids = []
        for job_id in self.queue.get_job_ids():
            job = self.queue.fetch_job(job_id)
            if job is not None:
                ids.extend(job_message_ids(job.func_name, job.args))
        return ids

    def empty_queue(self) -> None:
        """Drop every waiting delivery job, once the in-process API apps have written
        theirs (so none turns up afterwards)."""
        self.flush_enqueues()
        self.queue.empty()

    async def wait_queued(self, expected: Collection[str], timeout: float = 10.0) -> list[str]:
        """:meth:`queued_message_ids` once every id of ``expected`` is among them, or once
        ``timeout`` seconds have passed: for an API in a child process, whose background
        enqueues this harness cannot wait for."""
        deadline = time.monotonic() + timeout
        while True:
            queued = self.queued_message_ids()
            if set(expected) <= set(queued) or time.monotonic() > deadline:
                return queued
            await asyncio.sleep(0.02)

    async def drain_queue(self) -> int:
        """Run every waiting delivery job on this event loop (once the in-process API apps
        have enqueued what they accepted); returns how many message ids the jobs carried."""
        self.flush_enqueues()
        ran = 0
        while raw_id := self.queue.connection.lpop(self.queue.key):
            job = self.queue.fetch_job(raw_id.decode() if isinstance(raw_id, bytes) else raw_id)
            if job is None:
                continue
            message_ids = job_message_ids(job.func_name, job.args)
            await deliver_messages(self.runtime, message_ids)
            ran += len(message_ids)
        return ran

    async def reconfigure(self, **changes: object) -> None:
        """Replace the worker runtime with one built from settings changed by ``changes``."""
        await self.runtime.smtp.close()
        await self.runtime.engine.dispose()
        self.settings = msgspec.structs.replace(self.settings, **changes)
        self.runtime = WorkerRuntime(self.settings)

    def sweep(self) -> int:
        """Run the sweeper once: enqueue messages whose retry or lease is due."""
        return sweep_once(
            session_factory(self.engine),
            DeliveryQueue(self.queue.connection, self.settings.queue_name),
            utcnow(),
        )

    async def recipients(self, message_id: str) -> dict[str, str]:
        """Each recipient's status, by address."""
        async with self.runtime.sessions() as session:
            rows = await session.execute(
                select(Recipient.email, Recipient.status).where(Recipient.message_id == message_id)
            )
            return {str(email): str(status) for email, status in rows.all()}

    async def settle(self, message_id: str, timeout: float = 10.0) -> dict[str, str]:
        """Sweep and deliver until every recipient of ``message_id`` is final."""
        deadline = time.monotonic() + timeout
        while True:
            self.sweep()
            await self.drain_queue()
            statuses = await self.recipients(message_id)
            if all(s not in ("queued", "deferred") for s in statuses.values()):
                return statuses
            if time.monotonic() > deadline:
                raise TimeoutError(f"{message_id} not settled: {statuses}")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        """Release connections."""
        await self.runtime.smtp.close()
        await self.runtime.engine.dispose()
        self.engine.dispose()
