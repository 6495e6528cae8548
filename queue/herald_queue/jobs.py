"""The job functions rq calls, one per name of the job contract.

rq imports these by the dotted names in :mod:`herald_service.core.jobs` (which is where
the API takes them from), so their module, names and parameters are fixed by jobs that
may already wait in Redis; ``tests/unit/test_job_contract.py`` checks they match. Each
runs on the rq worker's main thread and hands its work to the process's
:class:`~herald_queue.runtime.WorkerRuntime` loop.
"""

from __future__ import annotations

from rq import get_current_job

from herald_queue.delivery import deliver_message as _deliver
from herald_queue.runtime import WorkerRuntime
from herald_queue.webhooks import send_webhook as _send_webhook
from herald_service.delivery_queue import DeliveryQueue


def deliver_messages(message_ids: list[str]) -> None:
    """Start delivering every ready recipient of each of ``message_ids`` on the worker's
    loop.

    Returns as soon as the deliveries are under way (it blocks while the worker already
    runs ``HERALD_WORKER_CONCURRENCY`` deliveries, and enqueues again those it has not
    started when the worker is asked to stop meanwhile). The recipients' database lease, not
    this job, makes sure each delivery finishes even if the process dies.
    """
    runtime = WorkerRuntime.current()
    left = runtime.dispatch_each(
        lambda message_id: _deliver(runtime, message_id), dict.fromkeys(message_ids)
    )
    job = get_current_job()
    if left and job is not None:
        # The worker is stopping: the messages it did not start go back to the queue for
        # another worker now, rather than to the sweeper once their time runs out.
        DeliveryQueue(job.connection, job.origin).enqueue(left)


def deliver_message(message_id: str) -> None:
    """:func:`deliver_messages` for one id (the job shape of earlier versions)."""
    deliver_messages([message_id])


def send_webhook(delivery_id: str, lease_token: str) -> None:
    """Make one attempt at a webhook delivery, if this job still holds its lease."""
    runtime = WorkerRuntime.current()
    runtime.run(_send_webhook(runtime, delivery_id, lease_token))
