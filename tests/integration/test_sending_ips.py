"""Sending IPs: mail leaves from its pool's address with that address's EHLO name, each
attempt records it, and a warming address takes no more than today's cap: the rest waits
(deferred, with the reason) for the next UTC day and is delivered then."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from herald_queue.sweeper import sweep_once
from herald_service.delivery_queue import DeliveryQueue
from herald_service.ip_pools.service import create_pool, set_warmup
from herald_service.storage.database import session_factory
from simnet.fixtures import SMTPServerFactory
from support.harness import Herald, Tenant

SENDING_IPS = "127.0.0.10=mta1.sender.test,127.0.0.11"


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "HERALD_SENDING_IPS": SENDING_IPS, "HERALD_WARMUP_SCHEDULE": "3,10"}


async def send(api: AsyncTestClient[Any], tenant: Tenant, to: str, **extra: object) -> str:
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={"from": f"app@{tenant.domain}", "to": [to], "subject": "Hi", "text": "Hello"} | extra,
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def attempts(api: AsyncTestClient[Any], tenant: Tenant, message_id: str) -> list[Any]:
    message = (await api.get(f"/v1/messages/{message_id}", headers=tenant.headers)).json()
    return list(message["recipients"][0]["attempts"])


async def test_mail_leaves_from_the_pools_address_with_its_ehlo_name(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    herald.dns.add_ptr("127.0.0.11", "mta2.sender.test")
    server = smtp_server_factory("127.0.0.2")
    async with herald.runtime.sessions.begin() as session:
        await create_pool(session, herald.settings, "bulk", "newsletters", ["127.0.0.11"])

    plain = await send(api, tenant, "a@receiver.example")
    pooled = await send(api, tenant, "b@receiver.example", ip_pool="bulk")
    assert await herald.settle(plain) == {"a@receiver.example": "delivered"}
    assert await herald.settle(pooled) == {"b@receiver.example": "delivered"}

    seen = {m.rcpt_tos[0]: (m.peer[0], m.ehlo) for m in server.messages}
    assert seen == {
        "a@receiver.example": ("127.0.0.10", "mta1.sender.test"),  # the configured name
        "b@receiver.example": ("127.0.0.11", "mta2.sender.test"),  # its PTR name
    }
    assert [a["source_ip"] for a in await attempts(api, tenant, plain)] == ["127.0.0.10"]
    assert [a["source_ip"] for a in await attempts(api, tenant, pooled)] == ["127.0.0.11"]


async def test_an_unknown_pool_is_refused_naming_the_field(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant()
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={
            "from": f"app@{tenant.domain}",
            "to": ["a@receiver.example"],
            "text": "Hello",
            "ip_pool": "nosuchpool",
        },
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["ip_pool"]
    assert "nosuchpool" in response.text


async def test_sendgrids_ip_pool_name_chooses_the_pool(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    server = smtp_server_factory("127.0.0.2")
    async with herald.runtime.sessions.begin() as session:
        await create_pool(session, herald.settings, "bulk", ips=["127.0.0.11"])
    mail = {
        "personalizations": [{"to": [{"email": "c@receiver.example"}]}],
        "from": {"email": f"app@{tenant.domain}"},
        "subject": "Hi",
        "content": [{"type": "text/plain", "value": "Hello"}],
    }
    unknown = await api.post(
        "/v3/mail/send", json=mail | {"ip_pool_name": "nope"}, headers=tenant.headers
    )
    assert unknown.status_code == 400
    assert [e["field"] for e in unknown.json()["errors"]] == ["ip_pool_name"]
    sent = await api.post(
        "/v3/mail/send", json=mail | {"ip_pool_name": "bulk"}, headers=tenant.headers
    )
    assert sent.status_code == 202, sent.text
    message_id = sent.headers["X-Message-Id"]
    assert await herald.settle(message_id) == {"c@receiver.example": "delivered"}
    assert [m.peer[0] for m in server.messages] == ["127.0.0.11"]


class MovableClock:
    """The warm-up clock: a UTC time the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def sweep_at(herald: Herald, now: datetime) -> int:
    return sweep_once(
        session_factory(herald.engine),
        DeliveryQueue(herald.queue.connection, herald.settings.queue_name),
        now,
    )


async def test_a_warming_ip_takes_todays_cap_and_the_rest_waits_for_tomorrow(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    server = smtp_server_factory("127.0.0.2")
    today = datetime.now(UTC)
    midnight = datetime.combine(today.date() + timedelta(days=1), time(), UTC)
    async with herald.runtime.sessions.begin() as session:
        # Only the warming address in the pool: day 1 of the schedule, a cap of 3.
        await create_pool(session, herald.settings, "warm", ips=["127.0.0.10"])
        await set_warmup(
            session, herald.settings, "127.0.0.10", warming=True, started_on=today.date()
        )
    sources = herald.runtime.source_ips
    assert sources is not None
    clock = MovableClock(today)
    sources.clock = clock

    ids = [await send(api, tenant, f"user{i}@receiver.example", ip_pool="warm") for i in range(5)]
    await herald.drain_queue()
    statuses = {i: await herald.recipients(i) for i in ids}
    delivered = [i for i in ids if "delivered" in statuses[i].values()]
    waiting = [i for i in ids if "deferred" in statuses[i].values()]
    assert (len(delivered), len(waiting)) == (3, 2)
    assert {m.peer[0] for m in server.messages} == {"127.0.0.10"}
    for message_id in waiting:
        attempt = (await attempts(api, tenant, message_id))[-1]
        assert attempt["response"] == (
            "warm-up: IP daily cap of 3 (127.0.0.10) reached; waiting for tomorrow's allowance"
        )
        assert attempt["source_ip"] is None
        detail = (await api.get(f"/v1/messages/{message_id}", headers=tenant.headers)).json()
        retry = datetime.fromisoformat(detail["recipients"][0]["next_attempt_at"])
        assert abs(retry - midnight) < timedelta(seconds=30)  # the next UTC day

    assert sweep_at(herald, midnight - timedelta(minutes=1)) == 0  # not before midnight
    clock.now = midnight + timedelta(minutes=1)  # day 2: a cap of 10
    assert sweep_at(herald, clock.now) == 2
    await herald.drain_queue()
    for message_id in waiting:
        assert set((await herald.recipients(message_id)).values()) == {"delivered"}
    assert len(server.messages) == 5


async def test_a_worker_binds_only_the_addresses_its_host_has(herald: Herald) -> None:
    # 192.0.2.1 (TEST-NET-1) is another host's: listed for SPF, never bound here.
    await herald.reconfigure(sending_ips=("192.0.2.1", "127.0.0.11"))
    sources = herald.runtime.source_ips
    assert sources is not None and sources.configured == ("127.0.0.11",)
    await herald.reconfigure(sending_ips=("192.0.2.1",))
    assert herald.runtime.source_ips is None  # the system picks, as without the setting
    await herald.reconfigure(sending_ips=("127.0.0.10",), delivery_mode="capture")
    assert herald.runtime.source_ips is None


async def test_over_the_cap_a_batch_goes_on_through_the_pools_warm_ip(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    server = smtp_server_factory("127.0.0.2")
    today = datetime.now(UTC)
    async with herald.runtime.sessions.begin() as session:
        await set_warmup(
            session, herald.settings, "127.0.0.10", warming=True, started_on=today.date()
        )
    sources = herald.runtime.source_ips
    assert sources is not None
    sources.clock = MovableClock(today)
    to = [f"user{i}@receiver.example" for i in range(5)]
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={"from": f"app@{tenant.domain}", "to": to, "subject": "Hi", "text": "Hello"},
    )
    assert response.status_code == 202, response.text
    message_id = response.json()["id"]
    await herald.drain_queue()
    assert set((await herald.recipients(message_id)).values()) == {"delivered"}
    by_source = {m.peer[0]: sorted(m.rcpt_tos) for m in server.messages}
    assert by_source == {"127.0.0.10": to[:3], "127.0.0.11": to[3:]}  # the cap is 3 on day 1
