"""Herald's Redis clients through a real Sentinel: they find the master, put rq jobs there,
follow a failover to the promoted replica, and fail as Redis errors when no master is
known. (tests/reliability/test_sentinel_failover.py runs the whole API and workers.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis.exceptions import RedisError

from herald_service.delivery_queue import DeliveryQueue, redis_connection
from herald_service.keys.quotas import quota_redis
from support.sentinel import SERVICE, SentinelGroup


@pytest.fixture
def sentinels() -> Iterator[SentinelGroup]:
    group = SentinelGroup()
    yield group
    group.stop()


async def test_clients_reach_the_master_and_follow_a_failover(sentinels: SentinelGroup) -> None:
    sync = redis_connection(sentinels.url)
    asynchronous = quota_redis(sentinels.url)
    master = sentinels.client(sentinels.master_port)
    replica = sentinels.client(sentinels.replica_port)
    try:
        assert DeliveryQueue(sync, "sentinel-test").enqueue(["msg_a", "msg_b"])
        await asynchronous.set("herald:test", "before")
        assert master.llen("rq:queue:sentinel-test") == 1
        assert master.get("herald:test") == b"before"
        assert master.execute_command("WAIT", 1, 2000) == 1  # the replica has both

        sentinels.kill_master()
        sentinels.wait_promoted()

        # The same clients, with their pooled connections to the dead master, carry on
        # against the promoted replica, which kept what the master had.
        assert DeliveryQueue(sync, "sentinel-test").enqueue(["msg_c"])
        assert await asynchronous.get("herald:test") == b"before"
        await asynchronous.set("herald:test", "after")
        assert replica.llen("rq:queue:sentinel-test") == 2
        assert replica.get("herald:test") == b"after"
    finally:
        sync.close()
        await asynchronous.aclose()


def test_an_unknown_service_is_a_redis_error(sentinels: SentinelGroup) -> None:
    url = sentinels.url.replace(f"/{SERVICE}/", "/no-such-service/")
    client = redis_connection(url)
    try:
        with pytest.raises(RedisError, match="no-such-service"):
            client.ping()
        # What the API does with it: the enqueue is logged and left to the sweeper.
        assert DeliveryQueue(client, "sentinel-test").enqueue(["msg_a"]) is False
    finally:
        client.close()


def test_wrong_sentinel_password_is_a_redis_error(sentinels: SentinelGroup) -> None:
    client = redis_connection(sentinels.url.replace("sentinel_password=", "sentinel_password=x"))
    try:
        with pytest.raises(RedisError):
            client.ping()
    finally:
        client.close()
