"""The background enqueue: ``submit`` never waits for Redis, ids gathered within the window
share jobs, ``flush``/``close`` write everything, and a failed enqueue is logged and left
to the sweeper (real Redis; a closed port for the outage)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Sequence
from datetime import timedelta

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from rq import Queue
from sqlalchemy.orm import Session, sessionmaker

from herald_queue.sweeper import sweep_once
from herald_service.api.app import create_app
from herald_service.core.jobs import job_message_ids
from herald_service.delivery_queue import DeliveryQueue, redis_connection
from herald_service.messages.enqueue_batcher import EnqueueBatcher
from herald_service.messages.store import ENQUEUE_GRACE
from herald_service.storage.database import session_factory
from herald_service.storage.types import utcnow
from simnet.fixtures import SMTPServerFactory
from support.harness import Herald
from support.processes import free_port

FAILED = "enqueue failed; the sweeper will retry"


@pytest.fixture
def queue(redis_url: str) -> DeliveryQueue:
    """A delivery queue of its own on the test Redis."""
    return DeliveryQueue(redis_connection(redis_url), f"enqueue-test-{secrets.token_hex(3)}")


def jobs(queue: DeliveryQueue) -> list[list[str]]:
    """The message ids of each waiting job, in queue order."""
    return [job_message_ids(job.func_name, job.args) for job in queue.queue.jobs]


def written_ids(queue: DeliveryQueue) -> list[str]:
    """Every message id of the waiting jobs."""
    return [message_id for job in jobs(queue) for message_id in job]


def ids(count: int, prefix: str = "msg") -> list[str]:
    return [f"{prefix}_{n:04d}" for n in range(count)]


async def wait_until_written(queue: Queue, at_least: int, timeout: float = 5.0) -> None:
    """Poll until ``queue`` holds ``at_least`` jobs (for writes that no flush triggers)."""
    deadline = time.monotonic() + timeout
    while queue.count < at_least:
        assert time.monotonic() < deadline, f"{queue.count} jobs after {timeout} s"
        await asyncio.sleep(0.005)


async def test_submit_returns_at_once_and_flush_writes_what_was_submitted(
    queue: DeliveryQueue,
) -> None:
    batcher = EnqueueBatcher(queue, window=60.0)  # a window that outlasts the test
    batcher.submit(["msg_a", "msg_b"])
    batcher.submit([])
    batcher.submit(["msg_c"])
    await asyncio.sleep(0.05)  # the flusher runs, but the window holds the write
    assert jobs(queue) == []
    await batcher.flush()
    assert jobs(queue) == [["msg_a", "msg_b", "msg_c"]]
    await batcher.flush()  # nothing waiting: returns at once
    await batcher.close()
    assert jobs(queue) == [["msg_a", "msg_b", "msg_c"]]


async def test_ids_submitted_within_the_window_go_out_together_in_full_jobs(
    queue: DeliveryQueue,
) -> None:
    window = 0.3
    batcher = EnqueueBatcher(queue, window=window)
    submitted = ids(250)

    async def request(index: int) -> None:  # arrivals spread over ~20 ms, as requests are
        await asyncio.sleep(0.002 * (index % 10))
        batcher.submit([submitted[index]])

    started = time.monotonic()
    await asyncio.gather(*(request(i) for i in range(250)))
    await wait_until_written(queue.queue, 1)  # no flush: the window ends by itself
    assert time.monotonic() - started >= window
    written = jobs(queue)
    assert [len(job) for job in written] == [100, 100, 50]  # one write of 250 ids
    assert sorted(message_id for job in written for message_id in job) == submitted
    await batcher.close()


async def test_a_full_batch_goes_at_once_and_close_writes_the_rest(queue: DeliveryQueue) -> None:
    batcher = EnqueueBatcher(queue, window=60.0, max_batch=150)
    submitted = ids(400)
    batcher.submit(submitted)
    await wait_until_written(queue.queue, 4)  # two full batches of 150: 2 jobs each
    await asyncio.sleep(0.05)
    assert sorted(len(job) for job in jobs(queue)) == [50, 50, 100, 100]  # 100 still wait
    await batcher.close()  # does not wait out the window
    written = jobs(queue)
    assert sorted(len(job) for job in written) == [50, 50, 100, 100, 100]
    assert sorted(message_id for job in written for message_id in job) == submitted


async def test_flush_waits_for_the_write_under_way_and_close_for_later_ones(
    queue: DeliveryQueue,
) -> None:
    batcher = EnqueueBatcher(queue)
    first, second, third = ids(40, "a"), ids(40, "b"), ids(40, "c")
    for message_id in first:
        batcher.submit([message_id])
    flushing = asyncio.create_task(batcher.flush())
    await asyncio.sleep(0)  # the flush is under way
    batcher.submit(second)  # arrives meanwhile: this flush need not wait for it
    await flushing
    assert set(first) <= set(written_ids(queue))
    await batcher.flush()
    assert sorted(written_ids(queue)) == first + second
    batcher.submit(third)
    await batcher.close()
    assert sorted(written_ids(queue)) == first + second + third


async def test_a_refused_enqueue_is_logged_and_the_flusher_goes_on(
    queue: DeliveryQueue, caplog: pytest.LogCaptureFixture
) -> None:
    down = DeliveryQueue(redis_connection(f"redis://127.0.0.1:{free_port()}/0"), "down")
    batcher = EnqueueBatcher(down)
    batcher.submit(["msg_a"])
    await batcher.flush()  # returns; nothing raised
    assert FAILED in caplog.text
    caplog.clear()

    class Broken(DeliveryQueue):
        def enqueue(self, message_ids: Sequence[str]) -> bool:
            raise RuntimeError("not Redis")

    broken = EnqueueBatcher(Broken(queue.queue.connection, "broken"))
    with caplog.at_level(logging.ERROR):
        async with asyncio.timeout(5):  # a dead flusher would leave these waiting forever
            broken.submit(["msg_b"])
            await broken.flush()
            broken.submit(["msg_c"])
            await broken.close()
    assert caplog.text.count("enqueue of 1 messages failed; the sweeper will retry") == 2
    await batcher.close()


async def test_202_while_redis_is_down_then_the_sweeper_enqueues_the_message(
    herald: Herald,
    smtp_server_factory: SMTPServerFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    no_redis = msgspec.structs.replace(
        herald.settings, redis_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    body = {"from": "app@sender.example", "to": "ann@receiver.example", "text": "Hello"}
    async with AsyncTestClient(create_app(no_redis)) as client:
        with herald.serving(client):
            response = await client.post("/v1/messages", json=body, headers=tenant.headers)
            assert response.status_code == 202, response.text
            herald.flush_enqueues()  # the enqueue was tried (and refused)
    message_id = response.json()["id"]
    assert FAILED in caplog.text
    assert herald.queued_message_ids() == []
    assert await herald.recipients(message_id) == {"ann@receiver.example": "queued"}

    sessions: sessionmaker[Session] = session_factory(herald.engine)
    live = DeliveryQueue(herald.queue.connection, herald.settings.queue_name)
    assert sweep_once(sessions, live, utcnow()) == 0  # within the grace period: left alone
    later = utcnow() + ENQUEUE_GRACE + timedelta(seconds=1)
    assert sweep_once(sessions, live, later) == 1
    assert herald.queued_message_ids() == [message_id]
    assert await herald.drain_queue() == 1
    assert await herald.recipients(message_id) == {"ann@receiver.example": "delivered"}
    assert len(mx.messages) == 1
