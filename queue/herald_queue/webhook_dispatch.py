"""Hands due webhook deliveries (the outbox rows ``add_events`` writes) to the webhook queue.

The database decides what is due: a pending delivery carries ``next_attempt_at``. Each
dispatch claims due rows with a fresh lease token and pushes one rq job per row; a job
whose token no longer matches does nothing, so a lost job (Redis restart, killed worker)
only delays its delivery until the lease runs out and the row is dispatched again. Every
webhook worker dispatches every ``HERALD_SWEEP_INTERVAL`` (a duty in
:mod:`herald_queue.duties`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from herald_service.core.jobs import SEND_WEBHOOK
from herald_service.core.states import WebhookDeliveryStatus
from herald_service.storage.models import WebhookDelivery
from herald_service.storage.types import utcnow

BATCH = 500
FAILED_JOB_TTL = 24 * 3600
_PENDING = WebhookDeliveryStatus.PENDING

log = logging.getLogger(__name__)


class WebhookQueue:
    """The rq queue webhook jobs go to (separate from delivery, so neither slows the other)."""

    def __init__(self, connection: Redis, name: str) -> None:
        self.queue = Queue(name, connection=connection)

    def enqueue(self, claims: Sequence[tuple[str, str]]) -> bool:
        """One job per ``(delivery_id, lease_token)``; False (logged) if Redis is away."""
        if not claims:
            return True
        jobs = [
            Queue.prepare_data(
                SEND_WEBHOOK.name, args=claim, result_ttl=0, failure_ttl=FAILED_JOB_TTL
            )
            for claim in claims
        ]
        try:
            self.queue.enqueue_many(jobs)
        except RedisError:
            log.warning("webhook enqueue failed; the lease will run out and retry", exc_info=True)
            return False
        return True


def dispatch_once(
    sessions: sessionmaker[Session], queue: WebhookQueue, now: datetime, lease: timedelta
) -> int:
    """Claim due deliveries and enqueue them; returns how many."""
    token = secrets.token_hex(8)
    with sessions.begin() as session:
        due = (
            session.execute(
                select(WebhookDelivery.id)
                .where(WebhookDelivery.status == _PENDING, WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(BATCH)
            )
            .scalars()
            .all()
        )
        if not due:
            return 0
        claimed = (
            session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id.in_(due),
                    WebhookDelivery.status == _PENDING,
                    WebhookDelivery.next_attempt_at <= now,
                )
                .values(lease_token=token, next_attempt_at=now + lease)
                .returning(WebhookDelivery.id)
                .execution_options(synchronize_session=False)
            )
            .scalars()
            .all()
        )
    queue.enqueue([(delivery_id, token) for delivery_id in claimed])
    return len(claimed)


def dispatch_due(sessions: sessionmaker[Session], queue: WebhookQueue, lease: timedelta) -> int:
    """Dispatch until less than a full batch is due (a webhook worker's duty); how many."""
    dispatched = 0
    while True:
        count = dispatch_once(sessions, queue, utcnow(), lease)
        dispatched += count
        if count < BATCH:
            return dispatched
