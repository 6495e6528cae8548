"""Finds work whose time has come and hands it to the delivery queue.

The database, not Redis, decides when a recipient is tried: deferred recipients carry
``next_attempt_at``; queued recipients carry a lease. Every delivery worker sweeps every
``HERALD_SWEEP_INTERVAL`` (a duty in :mod:`herald_queue.duties`); the conditional UPDATE
makes each due row go to exactly one sweep.

Scheduled recipients (``send_at``) wait with status ``scheduled`` and ``next_attempt_at =
send_at``; the sweep queues them at that time. Each status is read by its own range of
``ix_recipients_due (status, next_attempt_at)``, so a million scheduled rows in the future
cost the sweep nothing: the range ``scheduled, <= now`` holds only the due ones.

This is what makes the API's enqueue safe to lose: the API answers ``202`` once a message
is committed, with ``next_attempt_at = now + ENQUEUE_GRACE``, and writes its job in the
background afterwards (``herald_service/messages/enqueue_batcher.py``). If that write never
happens (the API crashed, Redis refused it) or the job is lost with Redis, the message is
due here once the grace period has passed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from herald_service.core.states import RecipientStatus
from herald_service.delivery_queue import DeliveryQueue
from herald_service.storage.models import Recipient
from herald_service.storage.types import utcnow

# How long a message handed to the queue may wait for a worker before it is handed again.
REQUEUE_LEASE = timedelta(minutes=2)
BATCH = 500
# Each read on its own index range (an IN list over the three would sort their union).
_SWEPT = (RecipientStatus.QUEUED, RecipientStatus.DEFERRED, RecipientStatus.SCHEDULED)

log = logging.getLogger(__name__)


def sweep_once(
    sessions: sessionmaker[Session],
    queue: DeliveryQueue,
    now: datetime,
    requeue_after: timedelta = REQUEUE_LEASE,
) -> int:
    """Enqueue messages with due retries, expired leases or a ``send_at`` come; how many.

    A message handed to the queue is due again after ``requeue_after`` unless a worker
    claims it first (so a job lost with Redis, or never picked up, is handed out again).
    """
    with sessions.begin() as session:
        due = [
            row.id
            for status in _SWEPT
            for row in session.execute(
                select(Recipient.id)
                .where(Recipient.status == status, Recipient.next_attempt_at <= now)
                .order_by(Recipient.next_attempt_at)
                .limit(BATCH)
            )
        ][:BATCH]
        if not due:
            return 0
        claimed = session.execute(
            update(Recipient)
            .where(
                Recipient.id.in_(due),
                Recipient.status.in_(_SWEPT),  # not one canceled meanwhile
                Recipient.next_attempt_at <= now,
            )
            .values(
                status=RecipientStatus.QUEUED,
                lease_token=None,
                next_attempt_at=now + requeue_after,
            )
            .returning(Recipient.message_id)
            .execution_options(synchronize_session=False)
        ).scalars()
        message_ids = sorted(set(claimed))
    queue.enqueue(message_ids)
    return len(message_ids)


def sweep_due(
    sessions: sessionmaker[Session],
    queue: DeliveryQueue,
    requeue_after: timedelta = REQUEUE_LEASE,
) -> int:
    """Sweep until less than a full batch is due (a worker's sweep duty); how many."""
    swept = 0
    while True:
        count = sweep_once(sessions, queue, utcnow(), requeue_after)
        swept += count
        if count < BATCH:
            return swept
