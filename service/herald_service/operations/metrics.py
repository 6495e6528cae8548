"""``GET /metrics`` in the Prometheus text format."""

from __future__ import annotations

import asyncio

from litestar import Response, get
from litestar.di import NamedDependency
from sqlalchemy import func, select

from herald_service.api.context import ApiContext
from herald_service.core.states import PENDING_STATUSES
from herald_service.metrics import QUEUE_JOBS, RECIPIENTS_PENDING, render
from herald_service.storage.models import Recipient


@get("/metrics", summary="Prometheus metrics", tags=["operations"], include_in_schema=False)
async def metrics(herald: NamedDependency[ApiContext]) -> Response[bytes]:
    """Counters of this process and queue/backlog gauges read from Redis and the database."""
    queue = herald.delivery_queue.queue
    QUEUE_JOBS.labels(queue.name).set(await asyncio.to_thread(lambda: queue.count))
    async with herald.sessions() as session:
        rows = await session.execute(
            select(Recipient.status, func.count())
            .where(Recipient.status.in_(PENDING_STATUSES))
            .group_by(Recipient.status)
        )
        counts = dict(rows.all())
    for status in PENDING_STATUSES:
        RECIPIENTS_PENDING.labels(status.value).set(counts.get(status.value, 0))
    body, content_type = render()
    return Response(content=body, media_type=content_type)
