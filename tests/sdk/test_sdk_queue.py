"""``client.queue``: deferred mail retried now, blocking and asyncio, against the real app."""

from __future__ import annotations

import pytest

from herald import AsyncHerald, ConflictError, Herald, RetryResult
from simnet.fixtures import SMTPServerFactory
from support.harness import Herald as HeraldHarness

SENDER = "app@sender.example"


async def test_retry_a_deferred_message_and_every_deferred_one(
    client: Herald,
    async_client: AsyncHerald,
    herald: HeraldHarness,
    smtp_server_factory: SMTPServerFactory,
) -> None:
    await herald.reconfigure(retry_schedule=(3600.0,))
    herald.add_mx("slow.example", (10, "mx.slow.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2").defer("rcpt")
    first = client.messages.send(from_=SENDER, to="ann@slow.example", text="1")
    second = client.messages.send(from_=SENDER, to="bob@slow.example", text="2")
    await herald.drain_queue()
    assert herald.sweep() == 0
    mx.accept()

    retried = client.queue.retry(first.id)
    assert retried.id == first.id
    assert herald.sweep() == 1
    await herald.drain_queue()
    assert client.messages.get(first.id).status == "delivered"
    with pytest.raises(ConflictError):
        client.queue.retry(first.id)

    assert await async_client.queue.retry_deferred("other.example") == RetryResult(retried=0)
    assert await async_client.queue.retry_deferred() == RetryResult(retried=1)
    assert herald.sweep() == 1
    await herald.drain_queue()
    assert (await async_client.messages.get(second.id)).status == "delivered"
    assert sorted(r for m in mx.messages for r in m.rcpt_tos) == [
        "ann@slow.example",
        "bob@slow.example",
    ]


async def test_the_queue_per_destination_blocking_and_asyncio(
    client: Herald,
    async_client: AsyncHerald,
    herald: HeraldHarness,
    smtp_server_factory: SMTPServerFactory,
) -> None:
    await herald.reconfigure(retry_schedule=(3600.0,))
    herald.add_mx("slow.example", (10, "mx.slow.example", "127.0.0.2"))
    herald.add_mx("gmail.com", (10, "mx.gmail.test", "127.0.0.3"))  # a stand-in on loopback
    smtp_server_factory("127.0.0.2").defer("rcpt")
    smtp_server_factory("127.0.0.3").defer("rcpt")
    client.messages.send(from_=SENDER, to="ann@slow.example", text="1")
    client.messages.send(from_=SENDER, to="bob@gmail.com", text="2")
    await herald.drain_queue()

    listed = client.queue.destinations()
    rows = {row.domain: row for row in listed.data}
    assert set(rows) == {"slow.example", "gmail.com"}
    slow = rows["slow.example"]
    assert (slow.deferred, slow.per_minute, slow.halved, slow.rule) == (1, None, False, None)
    assert slow.last_reply is not None and slow.last_reply.code == 451
    gmail = rows["gmail.com"]
    assert gmail.rule is not None and gmail.rule.name == "gmail"
    assert (gmail.deferred, gmail.per_minute) == (1, gmail.rule.per_minute)
    assert await async_client.queue.destinations() == listed
