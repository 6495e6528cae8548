"""``herald webhooks-worker``: an rq worker for webhook jobs plus the outbox dispatcher.

Webhook sending runs in its own processes on its own queue, so a slow or dead receiver
(up to ``HERALD_WEBHOOK_TIMEOUT`` per request) never holds up mail delivery. Run as many
of these processes as the webhook volume needs; each one also dispatches due deliveries.
"""

from __future__ import annotations

from datetime import timedelta

from rq import SimpleWorker

from herald_queue.runtime import WorkerRuntime
from herald_queue.webhook_dispatch import WebhookDispatcher, WebhookQueue
from herald_service.jobs import redis_connection
from herald_service.settings import Settings
from herald_service.storage.database import make_engine, session_factory


def run_webhooks_worker(settings: Settings, *, burst: bool = False) -> None:
    """Send webhooks until stopped (or, with ``burst``, until the queue is empty)."""
    settings.require_secret_key()
    connection = redis_connection(settings.redis_url)
    queue = WebhookQueue(connection, settings.webhook_queue_name)
    runtime = WorkerRuntime(settings)
    WorkerRuntime.install(runtime)
    engine = make_engine(settings.database_url)
    dispatcher = WebhookDispatcher(
        session_factory(engine),
        queue,
        settings.sweep_interval,
        timedelta(seconds=settings.webhook_lease),
    )
    dispatcher.start()
    try:
        worker = SimpleWorker([queue.queue], connection=connection)
        worker.work(burst=burst, logging_level="WARNING")
    finally:
        dispatcher.stop()
        runtime.close()
        WorkerRuntime.install(None)
        engine.dispose()
