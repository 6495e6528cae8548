"""Delivery leases: short, renewed by the worker's heartbeat while a delivery lasts."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select

from herald_queue.delivery import deliver_message
from herald_queue.leases import LeaseKeeper
from herald_service.settings import Settings
from herald_service.storage.models import Recipient
from herald_service.storage.types import utcnow
from simnet.fixtures import SMTPServerFactory
from support.harness import Herald


async def _send(api: AsyncTestClient[Any], headers: dict[str, str], to: str) -> str:
    response = await api.post(
        "/v1/messages",
        headers=headers,
        json={"from": "app@sender.example", "to": [to], "subject": "Hi", "text": "Hello"},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def _lease_of(herald: Herald, message_id: str) -> tuple[str | None, datetime | None]:
    async with herald.runtime.sessions() as session:
        row = (
            await session.execute(
                select(Recipient.lease_token, Recipient.next_attempt_at).where(
                    Recipient.message_id == message_id
                )
            )
        ).one()
    return row[0], row[1]


def test_the_default_lease_is_short() -> None:
    assert Settings().delivery_lease == 30.0


async def test_a_delivery_longer_than_its_lease_keeps_it_while_the_worker_lives(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    await herald.reconfigure(delivery_lease=1.0)  # renewed every third of a second
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2").stall("data_end", 3.0)  # three leases long
    message_id = await _send(api, tenant.headers, "slow@receiver.example")
    herald.empty_queue()
    runtime = herald.runtime

    runtime.dispatch(deliver_message(runtime, message_id))  # on the worker's own loop
    claimed_at = utcnow()
    swept = []
    deadline = time.monotonic() + 10
    while not mx.unacknowledged and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert mx.unacknowledged, "the delivery never reached DATA"
    for _ in range(10):  # 2 s: twice the lease, while the MX sits on the message
        await asyncio.sleep(0.2)
        swept.append(herald.sweep())
        token, next_attempt_at = await _lease_of(herald, message_id)
        assert token is not None and next_attempt_at is not None
        assert next_attempt_at > utcnow()  # never lapses while the worker works
    assert swept == [0] * 10  # nothing due: no second delivery was handed out
    assert next_attempt_at > claimed_at
    assert runtime.leases.held() == 1

    await asyncio.to_thread(runtime.wait_idle, 10)
    assert await herald.recipients(message_id) == {"slow@receiver.example": "delivered"}
    assert len(mx.messages) == 1
    assert runtime.leases.held() == 0  # released once the delivery ended
    assert runtime.leases.beats >= 3
    runtime.close()


async def test_a_lease_nobody_renews_runs_out_and_the_sweeper_hands_it_out(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    """What a killed worker leaves behind: leased recipients whose heartbeat stopped."""
    await herald.reconfigure(delivery_lease=0.5)
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    message_id = await _send(api, tenant.headers, "orphan@receiver.example")
    herald.empty_queue()
    (started,) = await herald.runtime.starts.submit_many([message_id])  # then "dies"
    assert started is not None
    keeper = LeaseKeeper(herald.runtime.sessions.begin, herald.runtime.leases.lease)
    keeper.hold(started.token, [r.id for r in started.recipients])
    assert await keeper.beat() == 1  # renewed while "alive"
    assert herald.sweep() == 0

    await asyncio.sleep(0.6)  # no beat any more: the lease runs out
    assert herald.sweep() == 1
    assert await herald.drain_queue() == 1
    assert await herald.recipients(message_id) == {"orphan@receiver.example": "delivered"}
    assert len(mx.messages) == 1
    assert await keeper.beat() == 0  # the old token holds nothing any more
