"""What one worker process shares: its event loop, engines, resolver and SMTP pool.

A worker process (``herald worker`` or ``herald webhooks-worker``) has three threads:

- **the main thread** runs rq's ``SimpleWorker``: it pops a job from Redis, imports its
  function by the dotted name of the job contract (:mod:`herald_service.core.jobs`) and
  calls it, one job at a time. Left to itself rq would run each coroutine job in a fresh
  event loop and throw away every warm connection, so the job functions
  (:mod:`herald_queue.jobs`) hand their work to the loop below instead.
- **herald-delivery-loop** runs one uvloop event loop for the life of the process: the
  deliveries and webhook sends, their batched database writes, and the periodic duties
  that are coroutines (lease heartbeat, journal adoption, domain re-check). All share one
  async engine, one DNS cache and one SMTP pool.
- **herald-duty** runs the periodic duties that make synchronous database and Redis
  calls (the sweep, the webhook dispatch) on the process's one synchronous engine, so a
  slow round trip in them never stalls the loop.

Every periodic duty and its interval is listed in :mod:`herald_queue.duties`; the
:class:`~herald_queue.scheduler.Scheduler` starts them with the loop. (Database drivers
may add threads of their own: aiosqlite runs one per connection.)

How a job reaches the loop (:mod:`herald_queue.dispatcher`): ``deliver_messages`` takes
one of ``HERALD_WORKER_CONCURRENCY`` slots per message and submits its delivery with
``run_coroutine_threadsafe``; it returns as soon as every delivery has started (blocking
only while all slots are taken), and a slot is freed when its delivery ends. Deliveries
that start together write together.
``send_webhook`` submits its coroutine the same way and waits for the result.

The database lease taken by each delivery, not the rq job, is what guarantees the work is
finished: a heartbeat on the loop renews the leases of the recipients this process holds
(:mod:`herald_queue.leases`); if the process dies, they run out within one lease and the
sweeper enqueues the messages again. Outcomes are journalled on local disk as they arrive
(:mod:`herald_queue.journal`), so those a killed process had not committed yet are
recorded by the next worker to start (or the next heartbeat of another) instead of being
sent again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, TypeVar

import dns.asyncresolver
import uvloop
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from herald_queue.delivery_store import Outcomes, Started, record_many, start_many
from herald_queue.dispatcher import Dispatcher
from herald_queue.duties import runtime_duties
from herald_queue.journal import OutcomeJournal, journal_directory
from herald_queue.leases import LeaseKeeper
from herald_queue.mta_sts import MtaStsPolicies
from herald_queue.mx import RouteCache
from herald_queue.relay import Plan, relay_plan
from herald_queue.scheduler import Scheduler
from herald_queue.shaping import Shaper
from herald_queue.shutdown import SmtpInterrupts, interrupt
from herald_queue.smtp import SmtpPool, verified_tls_context
from herald_queue.source_ips import SourceIps, local_addresses
from herald_service.dns import make_resolver
from herald_service.reputation.cooldowns import CooldownBook
from herald_service.settings import Settings, get_settings
from herald_service.shaping.rules import shaping_rules
from herald_service.storage.batched_writes import BatchedWriter
from herald_service.storage.database import (
    async_session_factory,
    make_async_engine,
    make_engine,
    session_factory,
)

T = TypeVar("T")
A = TypeVar("A")

# Deliveries start (per job) and finish (per SMTP reply) spread out in time. Gathering
# their starts and records for this long (seconds) before each transaction puts many in
# one set of statements: under load it cut the worker's CPU per message by about a third.
WRITE_WINDOW = 0.02
_HOLDS = "herald.journal_holds"  # session.info key: the tokens a start journalled

log = logging.getLogger(__name__)


class WorkerRuntime:
    """What the jobs and periodic duties of one worker process share."""

    _current: WorkerRuntime | None = None

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()
        """Set once :meth:`close` begins: deliveries waiting to start give up."""
        self.dispatcher = Dispatcher(settings.worker_concurrency, self._ensure_loop, self.stopping)
        self.engine: AsyncEngine = make_async_engine(settings.database_url)
        self.sessions: async_sessionmaker[AsyncSession] = async_session_factory(self.engine)
        # Only the blocking duties use it; it opens no connection until they do.
        self.sync_engine: Engine = make_engine(settings.database_url)
        self.sync_sessions: sessionmaker[Session] = session_factory(self.sync_engine)
        self.resolver: dns.asyncresolver.Resolver = make_resolver(settings)
        # SQLite has one writer at a time: more transactions would only queue on its lock.
        parallel = 1 if self.engine.dialect.name == "sqlite" else 2
        lease = timedelta(seconds=settings.delivery_lease)
        self.leases = LeaseKeeper(self.sessions.begin, lease)
        self.journal = OutcomeJournal(journal_directory(settings))
        self.starts: BatchedWriter[AsyncSession, str, Started | None] = BatchedWriter(
            self._starting,
            self._start_many,
            max_items=200,
            parallel=parallel,
            window=WRITE_WINDOW,
        )
        self.outcomes: BatchedWriter[AsyncSession, Outcomes, int] = BatchedWriter(
            self.sessions.begin,
            lambda session, units: record_many(session, settings, units, cooldowns=self.cooldowns),
            max_items=200,
            parallel=parallel,
            window=WRITE_WINDOW,
        )
        self.routes = RouteCache(self.resolver)
        self.cooldowns = CooldownBook()
        # None in capture mode: captured mail meets no real destination.
        self.shaper: Shaper | None = None
        if settings.delivery_mode != "capture":
            self.shaper = Shaper(shaping_rules(settings), settings.redis_url)
        self.relay_plan: Plan = relay_plan(settings)
        # Only in ``mx`` mode, and None without routes: nothing to check per domain then.
        self.relay_routes = settings.relay_routes or None
        tls = verified_tls_context(settings.tls_ca_file)
        self.smtp = SmtpPool(
            helo_name=settings.hostname,
            command_timeout=settings.smtp_timeout,
            per_destination=settings.smtp_destination_concurrency,
            verified_context=tls,
        )
        # Only with HERALD_SENDING_IPS on this host, in ``mx`` mode: otherwise the system
        # picks the address (at no cost per message).
        self.source_ips: SourceIps | None = None
        if settings.sending_ips and settings.delivery_mode == "mx":
            if local := local_addresses(settings.sending_ips):
                self.source_ips = SourceIps(settings, self.sessions, self.resolver, local=local)
            else:
                log.warning("none of HERALD_SENDING_IPS is on this host: not binding any")
        self.mta_sts = MtaStsPolicies(self.resolver, tls, port=settings.mta_sts_port)
        self.interrupts = SmtpInterrupts()
        self.duties = Scheduler()
        self.duties.add(*runtime_duties(self))

    @asynccontextmanager
    async def _starting(self) -> AsyncIterator[AsyncSession]:
        """The transaction of a start; if it fails (the database went away), what it
        journalled as held is void: nothing was leased."""
        tokens: list[str] = []
        try:
            async with self.sessions.begin() as session:
                session.info[_HOLDS] = tokens
                yield session
        except BaseException:
            for token in tokens:
                self.journal.void(token)
            raise

    async def _start_many(self, session: AsyncSession, ids: list[str]) -> list[Started | None]:
        """Start deliveries, journalling what they leased before the transaction commits."""
        started = await start_many(session, ids, self.leases.lease)
        begun = [s for s in started if s is not None]
        if begun:  # one start, one token
            held = [r.id for s in begun for r in s.recipients]
            self.journal.hold(begun[0].token, held, len(begun))
            session.info.setdefault(_HOLDS, []).append(begun[0].token)
        return started

    @classmethod
    def current(cls) -> WorkerRuntime:
        """The runtime of this process, created from the environment on first use."""
        if cls._current is None:
            cls._current = WorkerRuntime(get_settings())
        return cls._current

    @classmethod
    def install(cls, runtime: WorkerRuntime | None) -> None:
        """Use ``runtime`` for the jobs of this process (None: forget it)."""
        cls._current = runtime

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            # uvloop: the deliveries' socket work (SMTP, PostgreSQL, DNS) at a fraction of
            # the default loop's CPU.
            loop = uvloop.new_event_loop()
            self._thread = threading.Thread(
                target=loop.run_forever, name="herald-delivery-loop", daemon=True
            )
            self._thread.start()
            self._loop = loop
            self.duties.start(loop)
        return self._loop

    def start(self) -> None:
        """Start the loop and its duties now (a worker does at start-up, so it takes over
        the journal of the process it replaces at once); otherwise the first job does."""
        self._ensure_loop()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on this process's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._ensure_loop()).result()

    def dispatch(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Start ``coroutine`` on the loop; blocks only while all slots are taken."""
        if self.dispatch_each(lambda c: c, [coroutine]):
            coroutine.close()  # the worker is stopping: never started

    def dispatch_each(
        self, start: Callable[[A], Coroutine[Any, Any, Any]], items: Iterable[A]
    ) -> list[A]:
        """See :meth:`Dispatcher.dispatch_each`: the items it could not start."""
        return self.dispatcher.dispatch_each(start, items)

    def in_flight(self) -> int:
        """How many dispatched deliveries have not finished."""
        return self.dispatcher.in_flight()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Whether every dispatched delivery finished within ``timeout`` seconds."""
        return self.dispatcher.wait_idle(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stop: let in-flight deliveries finish (for at most ``timeout`` seconds), hand
        back those still in an SMTP transaction then (:mod:`herald_queue.shutdown`),
        write what is pending, close connections, stop the loop."""
        self.stopping.set()  # first: starts waiting out a database outage give up
        if self._loop is None:
            return
        handed: dict[str, set[int]] = {}
        if not self.wait_idle(timeout):
            handed = self.leases.snapshot()
            if not interrupt(self, self._loop):
                # Outcomes still wait for the database: their journal stays on disk for
                # the next worker to record (as after a crash); only the loop stops.
                self._stop_loop()
                return
        self.duties.stop()
        self.run(self.starts.close())
        self.run(self.outcomes.close())
        if handed:
            ended = self.run(self.leases.hand_back(handed))
            log.warning("stopping: handed back %d recipients for another worker", ended)
        self.journal.close()
        self.run(self.smtp.close())
        if self.shaper is not None:
            self.run(self.shaper.close())
        self.run(self.engine.dispose())
        self.sync_engine.dispose()
        self._stop_loop()

    def _stop_loop(self) -> None:
        loop = self._loop
        assert loop is not None
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not loop.is_running():
            loop.close()
        self._loop = None
