"""Hand work to the delivery workers through rq, by dotted job name.

The API never imports ``herald_queue``: jobs are referenced by the names of the job
contract (:mod:`herald_service.core.jobs`) and carry only ids, so message bodies stay in
the database and a Redis restart loses no content. One job carries up to
:data:`IDS_PER_JOB` message ids, so rq's per-job bookkeeping (hash, registries, round
trips) is shared by many messages.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from herald_service.core.jobs import DELIVER_MESSAGES
from herald_service.redis_urls import redis_client

IDS_PER_JOB = 100
FAILED_JOB_TTL = 7 * 24 * 3600

log = logging.getLogger(__name__)


def redis_connection(url: str) -> Redis:
    """A Redis client for rq (bytes replies, short timeouts so outages fail fast); ``url``
    may name the master through Sentinels (:mod:`herald_service.redis_urls`)."""
    return redis_client(url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=30)


class DeliveryQueue:
    """The rq queue that delivery jobs go to."""

    def __init__(self, connection: Redis, name: str, ids_per_job: int = IDS_PER_JOB) -> None:
        self.queue = Queue(name, connection=connection)
        self.ids_per_job = ids_per_job

    def enqueue(self, message_ids: Sequence[str]) -> bool:
        """Enqueue delivery jobs of up to ``ids_per_job`` message ids each, in one
        pipeline; False (logged) if Redis is unreachable.

        A message that could not be enqueued is still safe: it is committed with a short
        lease, and the worker's sweeper enqueues it once the lease runs out.
        """
        unique = list(dict.fromkeys(message_ids))
        if not unique:
            return True
        size = self.ids_per_job
        jobs = [
            Queue.prepare_data(
                DELIVER_MESSAGES.name,
                args=(unique[i : i + size],),
                # rq's default description repeats every argument; a short one keeps the
                # job hash (and Redis memory per queued message) small.
                description=f"deliver {len(unique[i : i + size])} messages",
                result_ttl=0,
                failure_ttl=FAILED_JOB_TTL,
            )
            for i in range(0, len(unique), size)
        ]
        try:
            self.queue.enqueue_many(jobs)
        except RedisError:
            log.warning("enqueue failed; the sweeper will retry", exc_info=True)
            return False
        return True
