"""``herald worker``: an rq worker for delivery jobs plus the sweep and domain re-check."""

from __future__ import annotations

import logging
import time

from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker

from herald_queue.duties import delivery_worker_duties
from herald_queue.runtime import WorkerRuntime
from herald_service.delivery_queue import DeliveryQueue, redis_connection
from herald_service.gc_tuning import frozen_startup_objects, tune_gc
from herald_service.settings import Settings

log = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 1.0


def run_worker(settings: Settings, *, burst: bool = False, sweep: bool = True) -> None:
    """Process delivery jobs until stopped (or, with ``burst``, until the queue is empty).

    ``SimpleWorker`` runs jobs in this process, so the :class:`WorkerRuntime` (event loop,
    database pool, DNS cache, SMTP connections) lives as long as the worker; each job
    starts a delivery on its loop and up to ``HERALD_WORKER_CONCURRENCY`` run at once.
    With ``sweep``, the runtime's scheduler also runs the retry sweep and the periodic
    domain re-check (:mod:`herald_queue.duties`).
    """
    tune_gc()
    connection = redis_connection(settings.redis_url)
    queue = DeliveryQueue(connection, settings.queue_name)
    runtime = WorkerRuntime(settings)
    if sweep:
        runtime.duties.add(*delivery_worker_duties(runtime, queue))
    WorkerRuntime.install(runtime)
    runtime.start()
    try:
        with frozen_startup_objects():
            _work(queue, connection, burst=burst)
    finally:
        runtime.close()
        WorkerRuntime.install(None)


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
