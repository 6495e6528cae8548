"""Delivery jobs that carry many message ids, and the set-based starts and records."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from rq import Queue, SimpleWorker
from sqlalchemy import event, select, update

from herald_queue.delivery import deliver_messages
from herald_queue.delivery_store import Outcomes, Tried
from herald_queue.runtime import WorkerRuntime
from herald_queue.smtp import Reply
from herald_queue.sweeper import sweep_once
from herald_service.core.jobs import DELIVER_MESSAGE
from herald_service.delivery_queue import DeliveryQueue
from herald_service.storage.database import session_factory
from herald_service.storage.models import DeliveryAttempt, Event, Recipient
from herald_service.storage.types import utcnow
from simnet.fixtures import SMTPServerFactory
from support.harness import Herald, Tenant


async def send(api: AsyncTestClient[Any], tenant: Tenant, to: str) -> str:
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={"from": "app@sender.example", "to": [to], "subject": "Hi", "text": "Hello"},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def events_of(herald: Herald, message_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    async with herald.runtime.sessions() as session:
        rows = await session.execute(
            select(Event.type, Event.recipient, Event.data)
            .where(Event.message_id == message_id)
            .order_by(Event.at, Event.id)
        )
        return [(str(t), str(r), dict(d)) for t, r, d in rows.all()]


async def test_one_job_carries_many_messages_with_mixed_outcomes(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    mx.reject("rcpt", rcpt="gone@receiver.example").defer("rcpt", rcpt="later@receiver.example")
    names = ("ok", "blocked", "gone", "later", "taken")
    ids = {name: await send(api, tenant, f"{name}@receiver.example") for name in names}
    # Suppressed after its message was accepted: the worker drops it before delivery.
    added = await api.post(
        "/v1/suppressions",
        headers=tenant.headers,
        json={"email": "Blocked@receiver.example", "reason": "manual"},
    )
    assert added.status_code in (200, 201), added.text
    herald.empty_queue()
    # Another delivery holds the lease of "taken": this batch must leave it alone.
    async with herald.runtime.sessions.begin() as session:
        await session.execute(
            update(Recipient)
            .where(Recipient.message_id == ids["taken"])
            .values(lease_token="other", next_attempt_at=utcnow() + timedelta(minutes=5))
        )
    queue = DeliveryQueue(herald.queue.connection, herald.settings.queue_name)
    assert queue.enqueue([ids[n] for n in names] + [ids["ok"]])  # a repeated id too
    assert herald.queue.count == 1
    assert herald.queued_message_ids() == [ids[n] for n in names]

    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(herald.runtime.engine.sync_engine, "before_cursor_execute", seen)
    try:
        assert await herald.drain_queue() == 5
    finally:
        event.remove(herald.runtime.engine.sync_engine, "before_cursor_execute", seen)

    claims = [s for s in statements if s.startswith("UPDATE recipients") and "message_id IN" in s]
    assert len(claims) == 1  # every message of the job leased by one statement
    assert {name: await herald.recipients(ids[name]) for name in names} == {
        "ok": {"ok@receiver.example": "delivered"},
        "blocked": {"blocked@receiver.example": "suppressed"},
        "gone": {"gone@receiver.example": "bounced"},
        "later": {"later@receiver.example": "deferred"},
        "taken": {"taken@receiver.example": "queued"},
    }
    assert sorted(r for m in mx.messages for r in m.rcpt_tos) == ["ok@receiver.example"]

    types = {name: [t for t, _, _ in await events_of(herald, ids[name])] for name in names}
    assert types == {
        "ok": ["message.accepted", "message.delivered"],
        "blocked": ["message.accepted", "message.dropped"],
        "gone": ["message.accepted", "message.bounced"],
        "later": ["message.accepted", "message.deferred"],
        "taken": ["message.accepted"],
    }
    dropped = (await events_of(herald, ids["blocked"]))[-1][2]
    assert dropped == {"reason": "suppressed", "suppression_reason": "manual"}
    bounced = (await events_of(herald, ids["gone"]))[-1][2]
    assert bounced["suppressed"] is True and bounced["bounce_type"] == "hard"
    deferred = (await events_of(herald, ids["later"]))[-1][2]
    assert deferred["attempt"] == 1 and "next_attempt_at" in deferred
    listed = await api.get("/v1/suppressions", headers=tenant.headers)
    assert sorted(s["email"] for s in listed.json()["data"]) == [
        "blocked@receiver.example",
        "gone@receiver.example",
    ]
    async with herald.runtime.sessions() as session:
        taken = (
            await session.execute(
                select(Recipient.lease_token, Recipient.attempt_count).where(
                    Recipient.message_id == ids["taken"]
                )
            )
        ).one()
        later = (
            await session.execute(
                select(Recipient.attempt_count, Recipient.next_attempt_at).where(
                    Recipient.message_id == ids["later"]
                )
            )
        ).one()
    assert tuple(taken) == ("other", 0)
    assert later[0] == 1 and later[1] > utcnow() + timedelta(seconds=30)


async def test_repeated_ids_are_started_once(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    a = await send(api, tenant, "a@receiver.example")
    b = await send(api, tenant, "b@receiver.example")
    herald.empty_queue()
    started = await herald.runtime.starts.submit_many([a, b, a, a])
    assert [s is not None for s in started] == [True, True, False, False]
    assert started[0] is not None and started[1] is not None
    assert started[0].token == started[1].token
    assert [r.email for r in started[0].recipients] == ["a@receiver.example"]
    again = await herald.runtime.starts.submit_many([a, b])
    assert again == [None, None]  # already leased

    # Concurrent jobs naming the same message: it is sent once.
    async with herald.runtime.sessions.begin() as session:
        await session.execute(
            update(Recipient).where(Recipient.message_id.in_([a, b])).values(lease_token=None)
        )
    await asyncio.gather(
        deliver_messages(herald.runtime, [a, b, a]), deliver_messages(herald.runtime, [b, a])
    )
    assert sorted(r for m in mx.messages for r in m.rcpt_tos) == [
        "a@receiver.example",
        "b@receiver.example",
    ]
    assert await herald.recipients(a) == {"a@receiver.example": "delivered"}


async def test_outcome_is_not_recorded_once_the_lease_moved_on(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant()
    first = await send(api, tenant, "x@receiver.example")
    second = await send(api, tenant, "y@receiver.example")
    started = await herald.runtime.starts.submit_many([first, second])
    assert started[0] is not None and started[1] is not None
    # The lease of the first ran out and another delivery leased it again.
    async with herald.runtime.sessions.begin() as session:
        await session.execute(
            update(Recipient).where(Recipient.message_id == first).values(lease_token="thief")
        )
    units = [
        Outcomes(s.message, s.recipients, {s.recipients[0].email: Tried(Reply(250, "ok"))}, s.token)
        for s in (started[0], started[1])
    ]
    await herald.runtime.outcomes.submit_many(units)
    assert await herald.recipients(first) == {"x@receiver.example": "queued"}
    assert await herald.recipients(second) == {"y@receiver.example": "delivered"}
    assert [t for t, _, _ in await events_of(herald, first)] == ["message.accepted"]
    assert [t for t, _, _ in await events_of(herald, second)][-1] == "message.delivered"
    async with herald.runtime.sessions() as session:
        thief = (
            await session.execute(
                select(Recipient.lease_token).where(Recipient.message_id == first)
            )
        ).scalar_one()
        attempts = (
            await session.execute(
                select(DeliveryAttempt.outcome)
                .join(Recipient, Recipient.id == DeliveryAttempt.recipient_id)
                .where(Recipient.message_id.in_([first, second]))
            )
        ).scalars()
    assert thief == "thief"
    assert sorted(attempts) == ["delivered", "delivered"]  # both tries happened


async def test_rq_worker_runs_old_single_id_jobs_and_batch_jobs(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    ids = [await send(api, tenant, f"u{i}@receiver.example") for i in range(4)]
    herald.empty_queue()
    old = Queue.prepare_data(DELIVER_MESSAGE.name, args=(ids[0],), result_ttl=0)
    herald.queue.enqueue_many([old])
    DeliveryQueue(herald.queue.connection, herald.settings.queue_name).enqueue(ids[1:])
    assert herald.queue.count == 2

    runtime = WorkerRuntime(herald.settings)
    WorkerRuntime.install(runtime)

    def work() -> None:
        worker = SimpleWorker([herald.queue], connection=herald.queue.connection)
        worker.work(burst=True, logging_level="WARNING")
        runtime.close()

    try:
        work()  # rq installs signal handlers: main thread only (the SMTP server has its own)
    finally:
        WorkerRuntime.install(None)
    assert herald.queue.count == 0
    assert {m: await herald.recipients(m) for m in ids} == {
        m: {f"u{i}@receiver.example": "delivered"} for i, m in enumerate(ids)
    }
    assert len(mx.messages) == 4


async def test_sweeper_enqueues_due_messages_in_batches(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant()
    ids = [await send(api, tenant, f"u{i}@receiver.example") for i in range(5)]
    herald.empty_queue()
    async with herald.runtime.sessions.begin() as session:
        await session.execute(
            update(Recipient).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
    queue = DeliveryQueue(herald.queue.connection, herald.settings.queue_name, ids_per_job=2)
    assert sweep_once(session_factory(herald.engine), queue, utcnow()) == 5
    assert herald.queue.count == 3
    assert sorted(herald.queued_message_ids()) == sorted(ids)


def test_a_queued_message_costs_little_redis_memory(herald: Herald) -> None:
    connection = herald.queue.connection
    herald.queue.empty()
    ids = [f"msg_{i:026d}" for i in range(100)]
    DeliveryQueue(connection, herald.settings.queue_name).enqueue(ids)
    keys = [f"rq:job:{job_id}" for job_id in herald.queue.get_job_ids()]
    assert len(keys) == 1
    used = sum(int(connection.memory_usage(k) or 0) for k in [*keys, herald.queue.key])
    assert used / len(ids) < 100  # bytes per queued message
    herald.queue.empty()
