"""``herald worker``: an rq worker for delivery jobs plus the retry/lease sweeper."""

from __future__ import annotations

import logging
import time

from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker

from herald_queue.domain_checker import DomainChecker
from herald_queue.runtime import WorkerRuntime
from herald_queue.sweeper import REQUEUE_LEASE, Sweeper
from herald_service.gc_tuning import frozen_startup_objects, tune_gc
from herald_service.jobs import DeliveryQueue, redis_connection
from herald_service.settings import Settings
from herald_service.storage.database import make_engine, session_factory

log = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 1.0


def run_worker(settings: Settings, *, burst: bool = False, sweep: bool = True) -> None:
    """Process delivery jobs until stopped (or, with ``burst``, until the queue is empty).

    ``SimpleWorker`` runs jobs in this process, so the :class:`WorkerRuntime` (event loop,
    database pool, DNS cache, SMTP connections) lives as long as the worker; each job
    starts a delivery on its loop and up to ``HERALD_WORKER_CONCURRENCY`` run at once.
    With ``sweep``, two threads run beside it: the retry sweeper and the periodic domain
    re-check.
    """
    tune_gc()
    connection = redis_connection(settings.redis_url)
    queue = DeliveryQueue(connection, settings.queue_name)
    runtime = WorkerRuntime(settings)
    WorkerRuntime.install(runtime)
    runtime.start()
    engine = make_engine(settings.database_url)
    sweeper = Sweeper(session_factory(engine), queue, settings.sweep_interval, REQUEUE_LEASE)
    domain_checker = DomainChecker(settings)
    if sweep:
        sweeper.start()
        if settings.delivery_mode != "capture":  # captured mail never meets real DNS
            domain_checker.start()
    try:
        with frozen_startup_objects():
            _work(queue, connection, burst=burst)
    finally:
        sweeper.stop()
        domain_checker.stop()
        runtime.close()
        WorkerRuntime.install(None)
        engine.dispose()


def _work(queue: DeliveryQueue, connection: Redis, *, burst: bool) -> None:
    """Take jobs until stopped (or the queue is empty, with ``burst``), through outages."""
    while True:
        try:
            worker = SimpleWorker([queue.queue], connection=connection)
            worker.work(burst=burst, logging_level="WARNING")
            return
        except RedisError:
            # Redis restarting: deliveries in flight go on; take jobs again once it is back.
            log.warning("lost Redis; reconnecting", exc_info=True)
            time.sleep(REDIS_RETRY_SECONDS)
