"""Job functions rq calls by dotted name (see ``herald_service.jobs``)."""

from __future__ import annotations

from herald_queue.delivery import deliver_message as _deliver
from herald_queue.runtime import WorkerRuntime


def deliver_message(message_id: str) -> None:
    """Attempt every recipient of ``message_id`` that is ready to be tried."""
    runtime = WorkerRuntime.current()
    runtime.run(_deliver(runtime, message_id))
