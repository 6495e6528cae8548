"""Deferred mail delivered now (``POST /v1/messages/{id}/retry``, ``POST /v1/messages/retry``,
``herald queue``), against a real MX that first defers and then accepts."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from simnet.fixtures import SMTPServerFactory
from support.harness import Herald, Tenant
from support.processes import herald_json

HOUR = 3600.0


async def send(api: AsyncTestClient[Any], tenant: Tenant, *to: str) -> str:
    body = {"from": f"app@{tenant.domain}", "to": list(to), "subject": "Hi", "text": "Hello"}
    response = await api.post("/v1/messages", headers=tenant.headers, json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def deferred(herald: Herald, message_id: str) -> None:
    await herald.drain_queue()
    statuses = await herald.recipients(message_id)
    assert set(statuses.values()) == {"deferred"}, statuses


async def test_a_retried_message_is_delivered_now_and_others_wait(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    await herald.reconfigure(retry_schedule=(HOUR,))  # nothing comes due by itself here
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("slow.example", (10, "mx.slow.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2").defer("rcpt")
    first = await send(api, tenant, "ann@slow.example")
    second = await send(api, tenant, "bob@slow.example")
    await deferred(herald, first)
    await deferred(herald, second)
    assert herald.sweep() == 0
    mx.accept()

    viewer = await herald.create_tenant("viewer.example", scopes=("send", "read"))
    refused = await api.post(f"/v1/messages/{first}/retry", headers=viewer.headers)
    assert refused.status_code == 403  # admin scope
    foreign = await herald.create_tenant("other.example")
    hidden = await api.post(f"/v1/messages/{first}/retry", headers=foreign.headers)
    assert hidden.status_code == 404

    retried = await api.post(f"/v1/messages/{first}/retry", headers=tenant.headers)
    assert retried.status_code == 200, retried.text
    assert retried.json()["id"] == first
    assert herald.sweep() == 1  # only the retried one is due
    await herald.drain_queue()
    assert await herald.recipients(first) == {"ann@slow.example": "delivered"}
    assert await herald.recipients(second) == {"bob@slow.example": "deferred"}
    assert [m.rcpt_tos for m in mx.messages] == [["ann@slow.example"]]

    again = await api.post(f"/v1/messages/{first}/retry", headers=tenant.headers)
    assert again.status_code == 409
    assert again.json()["type"] == "/problems#nothing-to-retry"


async def test_retry_every_deferred_recipient_of_one_domain(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    await herald.reconfigure(retry_schedule=(HOUR,))
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("a.example", (10, "mx.a.example", "127.0.0.2"))
    herald.add_mx("b.example", (10, "mx.b.example", "127.0.0.3"))
    smtp_server_factory("127.0.0.2").defer("rcpt")
    smtp_server_factory("127.0.0.3").defer("rcpt")
    ids = [await send(api, tenant, f"{n}@a.example") for n in ("x", "y")]
    other = await send(api, tenant, "z@b.example")
    for message_id in [*ids, other]:
        await deferred(herald, message_id)

    bad = await api.post("/v1/messages/retry", headers=tenant.headers, json={"recipient_domain": 5})
    assert bad.status_code == 400
    assert [e["field"] for e in bad.json()["errors"]] == ["recipient_domain"]
    answer = await api.post(
        "/v1/messages/retry", headers=tenant.headers, json={"recipient_domain": "A.example"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"retried": 2}
    assert herald.sweep() == 2
    everything = await api.post("/v1/messages/retry", headers=tenant.headers, json={})
    assert everything.json() == {"retried": 1}  # z@b.example: the other two are queued now
    foreign = await herald.create_tenant("other.example")
    theirs = await api.post("/v1/messages/retry", headers=foreign.headers, json={})
    assert theirs.json() == {"retried": 0}


async def test_herald_queue_lists_shows_and_retries(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    settings_env: dict[str, str],
) -> None:
    await herald.reconfigure(retry_schedule=(HOUR,))
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("slow.example", (10, "mx.slow.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2").defer("rcpt")
    message_id = await send(api, tenant, "ann@slow.example")
    await deferred(herald, message_id)

    listed = herald_json(settings_env, "queue", "list", "--status", "deferred")
    mine = [r for r in listed["data"] if r["message_id"] == message_id]
    assert len(mine) == 1
    assert mine[0]["email"] == "ann@slow.example" and mine[0]["attempts"] == 1
    assert mine[0]["last_response"].startswith("451")
    assert mine[0]["account_id"] == tenant.account_id
    elsewhere = herald_json(settings_env, "queue", "list", "--domain", "elsewhere.example")
    assert elsewhere["data"] == []

    shown = herald_json(settings_env, "queue", "show", message_id)
    assert shown["recipients"][0]["status"] == "deferred"

    mx.accept()
    retried = herald_json(settings_env, "queue", "retry", message_id)
    assert retried == {"id": message_id, "retried": ["ann@slow.example"]}
    assert await herald.settle(message_id) == {"ann@slow.example": "delivered"}
    after = herald_json(settings_env, "queue", "list", "--status", "deferred")
    assert [r for r in after["data"] if r["message_id"] == message_id] == []
