"""The main path end to end, in process: POST → queue → MX lookup → SMTP → DKIM → GET."""

from __future__ import annotations

from email import message_from_bytes, policy

from litestar.testing import AsyncTestClient

from simnet.fixtures import SMTPServerFactory
from support.dkim_check import signature_algorithms, verify_all
from support.harness import Herald


async def test_message_is_delivered_to_the_mx_and_signed(
    herald: Herald,
    api: AsyncTestClient,
    smtp_server_factory: SMTPServerFactory,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx1.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")

    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={
            "from": {"email": "app@sender.example", "name": "The App"},
            "to": ["alice@receiver.example"],
            "subject": "Confirm your address",
            "text": "Click the link.",
            "html": "<p>Click the link.</p>",
        },
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert herald.queued_message_ids() == [body["id"]]

    assert await herald.drain_queue() == 1

    assert len(mx.messages) == 1
    received = mx.messages[0]
    assert received.rcpt_tos == ["alice@receiver.example"]
    assert received.mail_from.endswith("@bounces.sender.example")
    assert signature_algorithms(received.data) == ["rsa-sha256", "ed25519-sha256"]
    assert verify_all(received.data, herald.dns) == [True, True]
    parsed = message_from_bytes(received.data, policy=policy.default)
    assert parsed["Subject"] == "Confirm your address"
    assert parsed["Message-ID"].endswith("@mta.herald.example>")

    status = await api.get(f"/v1/messages/{body['id']}", headers=tenant.headers)
    assert status.status_code == 200
    message = status.json()
    assert message["status"] == "delivered"
    (recipient,) = message["recipients"]
    assert recipient["status"] == "delivered"
    (attempt,) = recipient["attempts"]
    assert attempt["mx"] == "mx1.receiver.example"
    assert attempt["code"] == 250
    assert [e["type"] for e in message["events"]] == ["message.accepted", "message.delivered"]
