"""Hand work to the delivery workers through rq, by dotted job name.

The API never imports ``herald_queue``: jobs are referenced by name and carry only ids,
so message bodies stay in the database and a Redis restart loses no content.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

DELIVER_MESSAGE_JOB = "herald_queue.jobs.deliver_message"
FAILED_JOB_TTL = 7 * 24 * 3600

log = logging.getLogger(__name__)


def redis_connection(url: str) -> Redis:
    """A Redis client for rq (bytes replies, short timeouts so outages fail fast)."""
    return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=30)


class DeliveryQueue:
    """The rq queue that delivery jobs go to."""

    def __init__(self, connection: Redis, name: str) -> None:
        self.queue = Queue(name, connection=connection)

    def enqueue(self, message_ids: Sequence[str]) -> bool:
        """Enqueue one delivery job per message id; False (logged) if Redis is unreachable.

        A message that could not be enqueued is still safe: it is committed with a short
        lease, and the worker's sweeper enqueues it once the lease runs out.
        """
        if not message_ids:
            return True
        jobs = [
            Queue.prepare_data(
                DELIVER_MESSAGE_JOB,
                args=(message_id,),
                result_ttl=0,
                failure_ttl=FAILED_JOB_TTL,
            )
            for message_id in message_ids
        ]
        try:
            self.queue.enqueue_many(jobs)
        except RedisError:
            log.warning("enqueue failed; the sweeper will retry", exc_info=True)
            return False
        return True
