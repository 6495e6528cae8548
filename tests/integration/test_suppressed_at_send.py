"""A suppressed recipient is dropped when the message is accepted: the ``202`` lists it as
``suppressed``, its ``message.dropped`` event follows ``message.accepted``, and it is never
queued; the rest of the message goes."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from simnet.fixtures import SMTPServerFactory
from support.harness import Herald, Tenant

SENDER = "app@sender.example"


async def suppress(api: AsyncTestClient[Any], tenant: Tenant, email: str) -> None:
    added = await api.post(
        "/v1/suppressions", headers=tenant.headers, json={"email": email, "reason": "complaint"}
    )
    assert added.status_code == 201, added.text


def body(*to: str, **extra: Any) -> dict[str, Any]:
    return {"from": SENDER, "to": list(to), "subject": "Hi", "text": "Hello", **extra}


async def test_the_202_reports_the_suppressed_recipient_and_the_rest_is_delivered(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    await suppress(api, tenant, "gone@receiver.example")

    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json=body("GONE@receiver.example", "here@receiver.example", cc=["cc@receiver.example"]),
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "queued"
    assert accepted["recipients"] == [
        {"email": "GONE@receiver.example", "status": "suppressed"},
        {"email": "here@receiver.example", "status": "queued"},
        {"email": "cc@receiver.example", "status": "queued"},
    ]
    message = (await api.get(f"/v1/messages/{accepted['id']}", headers=tenant.headers)).json()
    assert {r["email"]: r["status"] for r in message["recipients"]}["GONE@receiver.example"] == (
        "suppressed"
    )
    timeline = [(e["type"], e["recipient"]) for e in message["events"]]
    gone = [t for t, r in timeline if r == "GONE@receiver.example"]
    assert gone == ["message.accepted", "message.dropped"]
    dropped = next(e for e in message["events"] if e["type"] == "message.dropped")
    assert dropped["data"] == {"reason": "suppressed", "suppression_reason": "complaint"}

    assert await herald.settle(accepted["id"]) == {
        "GONE@receiver.example": "suppressed",
        "here@receiver.example": "delivered",
        "cc@receiver.example": "delivered",
    }
    delivered_to = sorted(r for m in mx.messages for r in m.rcpt_tos)
    assert delivered_to == ["cc@receiver.example", "here@receiver.example"]


async def test_a_message_whose_recipients_are_all_suppressed_is_never_queued(
    herald: Herald, api: AsyncTestClient[Any], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    await suppress(api, tenant, "a@receiver.example")
    await suppress(api, tenant, "b@receiver.example")
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json=body("a@receiver.example", bcc=["B@receiver.example"]),
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "suppressed"
    assert [r["status"] for r in response.json()["recipients"]] == ["suppressed", "suppressed"]
    assert herald.queued_message_ids() == []
    herald.sweep()
    assert await herald.drain_queue() == 0
    assert mx.messages == []


async def test_sandbox_idempotent_replay_and_other_accounts(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    other = await herald.create_tenant("other.example")
    await suppress(api, tenant, "gone@receiver.example")

    sandboxed = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json=body("gone@receiver.example", "here@receiver.example", sandbox=True),
    )
    assert [r["status"] for r in sandboxed.json()["recipients"]] == ["suppressed", "captured"]
    assert sandboxed.json()["status"] == "partial"

    key = {**tenant.headers, "Idempotency-Key": "order-42"}
    first = await api.post("/v1/messages", headers=key, json=body("gone@receiver.example"))
    again = await api.post("/v1/messages", headers=key, json=body("gone@receiver.example"))
    assert first.status_code == again.status_code == 202
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert first.json()["recipients"] == [
        {"email": "gone@receiver.example", "status": "suppressed"}
    ]

    # Another account's list does not apply.
    theirs = await api.post(
        "/v1/messages",
        headers=other.headers,
        json={**body("gone@receiver.example"), "from": "app@other.example"},
    )
    assert theirs.json()["recipients"] == [{"email": "gone@receiver.example", "status": "queued"}]


async def test_sendgrid_sends_drop_suppressed_recipients_too(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant()
    await suppress(api, tenant, "gone@receiver.example")
    mail = {
        "personalizations": [
            {"to": [{"email": "gone@receiver.example"}]},
            {"to": [{"email": "here@receiver.example"}]},
        ],
        "from": {"email": SENDER},
        "subject": "s",
        "content": [{"type": "text/plain", "value": "hello"}],
    }
    response = await api.post("/v3/mail/send", headers=tenant.headers, json=mail)
    assert response.status_code == 202, response.text
    listed = (await api.get("/v1/messages", headers=tenant.headers)).json()["data"]
    statuses = {m["recipients"][0]["email"]: m["status"] for m in listed}
    assert statuses == {"gone@receiver.example": "suppressed", "here@receiver.example": "queued"}
    queued = herald.queued_message_ids()
    assert [m["id"] for m in listed if m["status"] == "queued"] == queued


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_one_lookup_per_batch_of_sends(herald: Herald, api: AsyncTestClient[Any]) -> None:
    """The suppression check is one indexed query for a whole batch, whatever its size
    (SQLite: PostgreSQL runs it on a raw cursor, which engine events do not see)."""
    tenant = await herald.create_tenant()
    await suppress(api, tenant, "r7@receiver.example")
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    mail = {
        "personalizations": [{"to": [{"email": f"r{i}@receiver.example"}]} for i in range(20)],
        "from": {"email": SENDER},
        "subject": "s",
        "content": [{"type": "text/plain", "value": "hello"}],
    }
    event.listen(Engine, "before_cursor_execute", seen)  # the API app's engine among them
    try:
        response = await api.post("/v3/mail/send", headers=tenant.headers, json=mail)
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert response.status_code == 202, response.text
    lookups = [s for s in statements if s.lstrip().startswith("SELECT") and "suppressions" in s]
    assert len(lookups) == 1
