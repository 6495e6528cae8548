"""The delivery engine on the simulated internet: retries, bounces, MX fallback, TLS."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from simnet.fixtures import SMTPServerFactory
from simnet.tls import CertificateAuthority
from support.harness import Herald, Tenant


async def send(api: AsyncTestClient[Any], tenant: Tenant, *to: str) -> str:
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={"from": "app@sender.example", "to": list(to), "subject": "Hi", "text": "Hello"},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def message(api: AsyncTestClient[Any], tenant: Tenant, message_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/messages/{message_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_deferred_twice_then_delivered_with_growing_gaps(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    await herald.reconfigure(retry_schedule=(0.3, 0.9))
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2").defer("rcpt")
    message_id = await send(api, tenant, "ann@receiver.example")

    await herald.drain_queue()
    assert await herald.recipients(message_id) == {"ann@receiver.example": "deferred"}
    while len((await message(api, tenant, message_id))["recipients"][0]["attempts"]) < 2:
        herald.sweep()
        await herald.drain_queue()
    mx.accept()
    assert await herald.settle(message_id) == {"ann@receiver.example": "delivered"}

    body = await message(api, tenant, message_id)
    attempts = body["recipients"][0]["attempts"]
    assert [a["code"] for a in attempts] == [451, 451, 250]
    assert attempts[0]["enhanced_code"] == "4.3.0"
    times = [_seconds(a["at"]) for a in attempts]
    first_gap, second_gap = times[1] - times[0], times[2] - times[1]
    assert 0.2 < first_gap < second_gap
    events = [e["type"] for e in body["events"]]
    assert events == [
        "message.accepted",
        "message.deferred",
        "message.deferred",
        "message.delivered",
    ]
    assert len(mx.messages) == 1


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


async def test_hard_bounce_suppresses_and_next_send_is_dropped(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2").reject("rcpt", rcpt="Gone@receiver.example")
    first = await send(api, tenant, "gone@receiver.example", "here@receiver.example")
    assert await herald.settle(first) == {
        "gone@receiver.example": "bounced",
        "here@receiver.example": "delivered",
    }
    body = await message(api, tenant, first)
    bounce = next(e for e in body["events"] if e["type"] == "message.bounced")
    assert bounce["data"]["enhanced_code"] == "5.1.1"
    assert bounce["data"]["suppressed"] is True
    listed = await api.get("/v1/suppressions", headers=tenant.headers)
    assert [(s["email"], s["reason"]) for s in listed.json()["data"]] == [
        ("gone@receiver.example", "bounce")
    ]

    mx.clear()
    second = await send(api, tenant, "GONE@receiver.example", "here@receiver.example")
    assert await herald.settle(second) == {
        "GONE@receiver.example": "suppressed",
        "here@receiver.example": "delivered",
    }
    assert [m.rcpt_tos for m in mx.messages] == [["here@receiver.example"]]
    body = await message(api, tenant, second)
    assert body["status"] == "partial"
    dropped = next(e for e in body["events"] if e["type"] == "message.dropped")
    assert dropped["recipient"] == "GONE@receiver.example"
    assert dropped["data"]["reason"] == "suppressed"


async def test_null_mx_and_nxdomain_bounce_without_a_connection(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.dns.add_null_mx("nomail.example")
    mx = smtp_server_factory("127.0.0.2")
    message_id = await send(api, tenant, "a@nomail.example", "b@missing.example")
    assert await herald.settle(message_id) == {
        "a@nomail.example": "bounced",
        "b@missing.example": "bounced",
    }
    assert mx.connections == 0
    recipients = {r["email"]: r for r in (await message(api, tenant, message_id))["recipients"]}
    assert recipients["a@nomail.example"]["attempts"][0]["enhanced_code"] == "5.1.10"
    assert "NXDOMAIN" in recipients["b@missing.example"]["attempts"][0]["response"]


async def test_temporary_dns_failure_defers(herald: Herald, api: AsyncTestClient[Any]) -> None:
    tenant = await herald.create_tenant()
    herald.dns.set_servfail("flaky.example")
    message_id = await send(api, tenant, "a@flaky.example")
    await herald.drain_queue()
    assert await herald.recipients(message_id) == {"a@flaky.example": "deferred"}


async def test_first_mx_down_second_used(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx(
        "receiver.example",
        (10, "mx1.receiver.example", "127.0.0.3"),  # nothing listens there
        (20, "mx2.receiver.example", "127.0.0.4"),
    )
    backup = smtp_server_factory("127.0.0.4")
    message_id = await send(api, tenant, "ann@receiver.example")
    assert await herald.settle(message_id) == {"ann@receiver.example": "delivered"}
    assert len(backup.messages) == 1
    (attempt,) = (await message(api, tenant, message_id))["recipients"][0]["attempts"]
    assert attempt["mx"] == "mx2.receiver.example"


async def test_connection_dropped_mid_data_is_deferred_then_delivered(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    await herald.reconfigure(retry_schedule=(0.2,))
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2").drop("data_end")
    message_id = await send(api, tenant, "ann@receiver.example")
    await herald.drain_queue()
    assert await herald.recipients(message_id) == {"ann@receiver.example": "deferred"}
    mx.drop(None)
    assert await herald.settle(message_id) == {"ann@receiver.example": "delivered"}
    attempts = (await message(api, tenant, message_id))["recipients"][0]["attempts"]
    assert [a["code"] for a in attempts] == [None, 250]


async def test_recipients_grouped_per_domain_in_transactions_of_fifty(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    herald.add_mx("other.example", (10, "mx.other.example", "127.0.0.3"))
    mx = smtp_server_factory("127.0.0.2")
    other = smtp_server_factory("127.0.0.3")
    to = [f"user{i}@receiver.example" for i in range(120)] + ["x@other.example"]
    message_id = await send(api, tenant, *to)
    statuses = await herald.settle(message_id)
    assert set(statuses.values()) == {"delivered"}
    assert sorted(len(m.rcpt_tos) for m in mx.messages) == [20, 50, 50]
    assert [m.rcpt_tos for m in other.messages] == [["x@other.example"]]
    assert all("@bounces.sender.example" in m.mail_from for m in mx.messages)


async def test_connections_are_reused_across_messages(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    ids = []
    for i in range(5):
        ids.append(await send(api, tenant, f"u{i}@receiver.example"))
        herald.flush_enqueues()  # a job per message: delivered one after another
    assert herald.queue.count == 5
    assert await herald.drain_queue() == 5
    for message_id in ids:
        assert await herald.settle(message_id) == {
            next(iter(await herald.recipients(message_id))): "delivered"
        }
    assert len(mx.messages) == 5
    assert mx.connections == 1


async def test_starttls_used_when_offered_and_verification_recorded(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    simnet_ca: CertificateAuthority,
) -> None:
    await herald.reconfigure(tls_ca_file=str(simnet_ca.ca_file))
    tenant = await herald.create_tenant()
    herald.add_mx("good.example", (10, "mx.good.example", "127.0.0.2"))
    herald.add_mx("selfish.example", (10, "mx.selfish.example", "127.0.0.3"))
    good = smtp_server_factory(
        "127.0.0.2", starttls=True, certificate=simnet_ca.issue("mx.good.example")
    )
    wrong_name = smtp_server_factory("127.0.0.3", starttls=True)
    message_id = await send(api, tenant, "a@good.example", "b@selfish.example")
    assert set((await herald.settle(message_id)).values()) == {"delivered"}
    assert good.messages[0].tls and wrong_name.messages[0].tls
    attempts = {
        r["email"]: r["attempts"][0] for r in (await message(api, tenant, message_id))["recipients"]
    }
    assert attempts["a@good.example"]["tls"].startswith("TLSv1")
    assert attempts["a@good.example"]["tls_verified"] is True
    assert attempts["b@selfish.example"]["tls"].startswith("TLSv1")
    assert attempts["b@selfish.example"]["tls_verified"] is False


async def test_deferred_until_max_age_then_bounced_as_expired_not_suppressed(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    await herald.reconfigure(retry_schedule=(0.2,), retry_max_age=0.8)
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    smtp_server_factory("127.0.0.2").defer("rcpt")
    message_id = await send(api, tenant, "ann@receiver.example")
    assert await herald.settle(message_id) == {"ann@receiver.example": "bounced"}
    body = await message(api, tenant, message_id)
    attempts = body["recipients"][0]["attempts"]
    assert len(attempts) >= 2
    assert attempts[-1]["enhanced_code"] == "4.4.7"
    bounce = body["events"][-1]
    assert bounce["type"] == "message.bounced"
    assert bounce["data"]["bounce_type"] == "expired"
    listed = await api.get("/v1/suppressions", headers=tenant.headers)
    assert listed.json()["data"] == []
