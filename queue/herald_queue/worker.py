"""``herald worker``: an rq worker for delivery jobs plus the sweep and domain re-check."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue

from herald_queue.duties import delivery_worker_duties
from herald_queue.runtime import WorkerRuntime
from herald_service.delivery_queue import DeliveryQueue, redis_connection
from herald_service.gc_tuning import frozen_startup_objects, tune_gc
from herald_service.settings import Settings

log = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 1.0
DEQUEUE_SECONDS = 1
"""How long one wait for a job lasts: a stop request is noticed within this."""


class HeraldWorker(SimpleWorker):
    """rq's in-process worker, stopped by ``stop`` (set on SIGTERM or SIGINT).

    rq's own handler raises out of the signal handler, possibly in the middle of a Redis
    reply, and waits for a job up to ``worker_ttl`` at a time; this one only notes the
    request and waits for a job a second at a time, so the worker leaves its loop within
    a second (or as soon as the job it runs has handed out its deliveries).
    """

    def __init__(self, queues: list[Queue], connection: Redis, stop: threading.Event) -> None:
        super().__init__(queues, connection=connection)
        self.stop = stop

    @property
    def dequeue_timeout(self) -> int:
        return DEQUEUE_SECONDS

    def _install_signal_handlers(self) -> None:
        """Leave :func:`run_worker`'s handlers in place."""

    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> tuple[Job, Queue] | None:
        """The next job, or None once a stop is requested (or, in burst mode, if the
        queue is empty)."""
        if timeout is None:  # burst: one look
            return None if self.stop.is_set() else super().dequeue_job_and_maintain_ttl(None)
        while not self.stop.is_set():
            # With a maximum idle time of one wait, rq's loop returns None after it.
            found = super().dequeue_job_and_maintain_ttl(DEQUEUE_SECONDS, DEQUEUE_SECONDS)
            if found is not None:
                return found
        return None

    def subscribe(self) -> None:
        """rq's command channel (``rq`` CLI: shutdown, kill-horse), with a listener that
        wakes four times a second (a wait on its socket, no Redis command), so
        :meth:`unsubscribe` ends it at once."""
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=0.25, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def unsubscribe(self) -> None:
        """Stop the listener, then close its connection. (rq unsubscribes first: its
        listener then waits up to a minute for a new subscription before it looks at the
        stop, and rq gives up joining it after a second.)"""
        if self.pubsub_thread:
            self.pubsub_thread.stop()
            self.pubsub_thread.join(timeout=2)
            self.pubsub.close()


def run_worker(settings: Settings, *, burst: bool = False, sweep: bool = True) -> None:
    """Process delivery jobs until stopped (or, with ``burst``, until the queue is empty).

    ``SimpleWorker`` runs jobs in this process, so the :class:`WorkerRuntime` (event loop,
    database pool, DNS cache, SMTP connections) lives as long as the worker; each job
    starts a delivery on its loop and up to ``HERALD_WORKER_CONCURRENCY`` run at once.
    With ``sweep``, the runtime's scheduler also runs the retry sweep and the periodic
    domain re-check (:mod:`herald_queue.duties`).

    SIGTERM (or SIGINT) stops it gracefully (:mod:`herald_queue.shutdown`): it takes no
    more jobs, lets the deliveries under way finish for up to ``HERALD_SHUTDOWN_TIMEOUT``,
    hands back the recipients of those still running, and returns. (Without a signal, as
    at the end of a burst, it waits for every delivery.)
    """
    tune_gc()
    connection = redis_connection(settings.redis_url)
    queue = DeliveryQueue(connection, settings.queue_name)
    runtime = WorkerRuntime(settings)
    if sweep:
        runtime.duties.add(*delivery_worker_duties(runtime, queue))
    WorkerRuntime.install(runtime)
    with stopped_by_signals(runtime) as stop:
        runtime.start()
        try:
            with frozen_startup_objects():
                _work(queue, connection, stop, burst=burst)
        finally:
            runtime.close(settings.shutdown_timeout if stop.is_set() else None)
            WorkerRuntime.install(None)


@contextmanager
def stopped_by_signals(runtime: WorkerRuntime) -> Iterator[threading.Event]:
    """An event that SIGTERM or SIGINT sets (for :class:`HeraldWorker`), while the block
    runs; the signal also tells ``runtime`` to start no more deliveries."""
    stop = threading.Event()
    timeout = runtime.settings.shutdown_timeout

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if not stop.is_set():
            name = signal.Signals(signum).name
            log.warning("%s: stopping (work under way gets %g s to finish)", name, timeout)
        stop.set()
        runtime.stopping.set()  # a job waiting for a free slot starts no more deliveries

    if threading.current_thread() is not threading.main_thread():
        yield stop  # only the main thread may handle signals (tests run workers in others)
        return
    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _work(queue: DeliveryQueue, connection: Redis, stop: threading.Event, *, burst: bool) -> None:
    """Take jobs until stopped (or the queue is empty, with ``burst``), through outages."""
    while not stop.is_set():
        try:
            worker = HeraldWorker([queue.queue], connection, stop)
            worker.work(burst=burst, logging_level="WARNING")
            return
        except RedisError:
            # Redis restarting: deliveries in flight go on; take jobs again once it is back.
            log.warning("lost Redis; reconnecting", exc_info=True)
            time.sleep(REDIS_RETRY_SECONDS)  # not Event.wait: SIGTERM sets the event
