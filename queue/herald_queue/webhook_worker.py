"""``herald webhooks-worker``: an rq worker for webhook jobs plus the outbox dispatch.

Webhook sending runs in its own processes on its own queue, so a slow or dead receiver
(up to ``HERALD_WEBHOOK_TIMEOUT`` per request) never holds up mail delivery. Run as many
of these processes as the webhook volume needs; each one also dispatches due deliveries
(a duty in :mod:`herald_queue.duties`).
"""

from __future__ import annotations

from herald_queue.duties import webhook_worker_duties
from herald_queue.runtime import WorkerRuntime
from herald_queue.webhook_dispatch import WebhookQueue
from herald_queue.worker import HeraldWorker, stopped_by_signals
from herald_service.delivery_queue import redis_connection
from herald_service.settings import Settings


def run_webhooks_worker(settings: Settings, *, burst: bool = False) -> None:
    """Send webhooks until stopped (or, with ``burst``, until the queue is empty); on
    SIGTERM it finishes the request under way and returns."""
    settings.require_secret_key()
    connection = redis_connection(settings.redis_url)
    queue = WebhookQueue(connection, settings.webhook_queue_name)
    runtime = WorkerRuntime(settings)
    runtime.duties.add(*webhook_worker_duties(runtime, queue))
    WorkerRuntime.install(runtime)
    with stopped_by_signals(runtime) as stop:
        runtime.start()
        try:
            worker = HeraldWorker([queue.queue], connection, stop)
            worker.work(burst=burst, logging_level="WARNING")
        finally:
            runtime.close(settings.shutdown_timeout if stop.is_set() else None)
            WorkerRuntime.install(None)
