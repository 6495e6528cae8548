"""Webhook endpoints through the SDK, and ``herald.webhooks.verify`` on what the server sends.

The events are real: the server's webhook sender signs them and POSTs them to a loopback
receiver. Verification is cross-checked both ways with the ``standardwebhooks`` package.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

import herald
from herald import AsyncHerald, Herald, WebhookEvent, WebhookVerificationError
from simnet.fixtures import SMTPServerFactory
from support.harness import Herald as HeraldHarness
from support.webhooks import WebhookReceiver, drain_webhooks

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """Loopback receivers allowed; retries due at once."""
    return {
        **settings_env,
        "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
        "HERALD_WEBHOOK_RETRY_SCHEDULE": "0s,0s",
    }


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver("127.0.0.1")
    yield server
    server.stop()


async def test_endpoint_lifecycle_and_real_events_verify(
    client: Herald,
    herald: HeraldHarness,
    receiver: WebhookReceiver,
    smtp_server_factory: SMTPServerFactory,
) -> None:
    endpoint = client.webhooks.create(
        receiver.url(), event_types=["message.delivered"], description="tracking"
    )
    assert endpoint.secret and endpoint.secret.startswith("whsec_")
    assert endpoint.event_types == ["message.delivered"]
    assert client.webhooks.get(endpoint.id).secret is None
    assert [w.id for w in client.webhooks.list()] == [endpoint.id]

    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    smtp_server_factory("127.0.0.2")
    sent = client.messages.send(
        from_="app@sender.example",
        to="ann@receiver.example",
        text="hi",
        tags=["welcome"],
        metadata={"user": "42"},
    )
    assert await herald.drain_queue() == 1
    assert await drain_webhooks(herald) == 1
    (request,) = receiver.wait_for(1)

    event = herald_verify(request.body, request.headers, endpoint.secret)
    assert isinstance(event, WebhookEvent)
    assert event.type == "message.delivered"
    assert event.id == request.headers["webhook-id"] == event.data.id
    assert event.data.message_id == sent.id
    assert event.data.recipient == "ann@receiver.example"
    assert event.data.tags == ["welcome"]
    assert event.data.metadata == {"user": "42"}
    assert event.data.details["mx"] == "mx.receiver.example"
    # The same request, as the reference implementation sees it.
    assert Webhook(endpoint.secret).verify(request.body, request.headers)["type"] == event.type

    # A test event, then a rotated secret: both secrets sign during the overlap.
    delivery = client.webhooks.test(endpoint.id)
    assert delivery.event_type == "webhook.test"
    rotated = client.webhooks.rotate_secret(endpoint.id, overlap_seconds=600)
    assert rotated.secret != endpoint.secret
    assert rotated.previous_secret_expires_at is not None
    assert await drain_webhooks(herald) == 1
    test_request = receiver.wait_for(2)[1]
    assert len(test_request.headers["webhook-signature"].split()) == 2
    for secret in (endpoint.secret, rotated.secret):
        test_event = herald_verify(test_request.body, test_request.headers, secret)
        assert test_event.type == "webhook.test"
        assert test_event.data.webhook_id == endpoint.id

    page = client.webhooks.deliveries.list(endpoint.id)
    assert {d.event_type for d in page.data} == {"message.delivered", "webhook.test"}
    assert all(d.status == "succeeded" and d.attempts for d in page.data)
    assert [d.id for d in client.webhooks.deliveries.iter(endpoint.id, limit=1)] == [
        d.id for d in page.data
    ]
    assert client.webhooks.deliveries.list(endpoint.id, status="failed").data == []

    updated = client.webhooks.update(endpoint.id, enabled=False, description="paused")
    assert (updated.enabled, updated.description) == (False, "paused")
    assert updated.event_types == ["message.delivered"]
    client.webhooks.delete(endpoint.id)
    assert client.webhooks.list() == []


async def test_async_webhooks_and_replay(
    async_client: AsyncHerald, herald: HeraldHarness, receiver: WebhookReceiver
) -> None:
    receiver.default.status = 500
    endpoint = await async_client.webhooks.create(receiver.url())
    assert endpoint.secret
    assert (await async_client.webhooks.get(endpoint.id)).url == receiver.url()
    assert len(await async_client.webhooks.list()) == 1
    await async_client.webhooks.test(endpoint.id)
    await drain_webhooks(herald, rounds=3)
    (failed,) = (await async_client.webhooks.deliveries.list(endpoint.id, status="failed")).data
    assert failed.last_status_code == 500

    receiver.default.status = 204
    replayed = await async_client.webhooks.deliveries.replay(endpoint.id, failed.id)
    assert replayed.id == failed.id and replayed.status == "pending"
    await drain_webhooks(herald)
    statuses = [d.status async for d in async_client.webhooks.deliveries.iter(endpoint.id)]
    assert statuses == ["succeeded"]
    herald_verify(receiver.requests[-1].body, receiver.requests[-1].headers, endpoint.secret)

    rotated = await async_client.webhooks.rotate_secret(endpoint.id)
    assert rotated.secret.startswith("whsec_")
    assert (await async_client.webhooks.update(endpoint.id, url=receiver.url("/v2"))).url.endswith(
        "/v2"
    )
    await async_client.webhooks.delete(endpoint.id)
    assert await async_client.webhooks.list() == []


def herald_verify(body: bytes, headers: dict[str, str], secret: str) -> WebhookEvent:
    """Verify at the time the request was signed (the drains can take a moment)."""
    return herald.webhooks.verify(body, headers, secret)


def signed(body: bytes, *, at: float | None = None, msg_id: str = "msg_x") -> dict[str, str]:
    timestamp = int(time.time() if at is None else at)
    signature = herald.webhooks.sign(body, SECRET, msg_id=msg_id, timestamp=timestamp)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


BODY = (
    b'{"type":"message.bounced","timestamp":"2030-01-01T00:00:00Z","data":{"id":"evt_1",'
    b'"type":"message.bounced","at":"2030-01-01T00:00:00Z","recipient":"a@b.example",'
    b'"details":{"code":550},"added_later":true}}'
)


def test_standardwebhooks_signatures_verify_here() -> None:
    when = datetime.now(UTC)
    signature = Webhook(SECRET).sign("msg_2", when, BODY.decode())
    headers = {
        "Webhook-Id": "msg_2",
        "Webhook-Timestamp": str(int(when.timestamp())),
        "Webhook-Signature": f"v1,bm90IHRoaXMgb25l {signature}",
    }
    event = herald.webhooks.verify(BODY, headers, SECRET)
    assert (event.id, event.type) == ("msg_2", "message.bounced")
    assert event.data.details == {"code": 550}
    assert herald.webhooks.verify(BODY.decode(), headers, SECRET) == event


def test_signatures_made_here_verify_with_standardwebhooks() -> None:
    headers = signed(BODY, msg_id="msg_3")
    assert Webhook(SECRET).verify(BODY, headers)["data"]["id"] == "evt_1"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"webhook-signature": "v1,AAAA"}, "no matching signature"),
        ({"webhook-signature": "v2,whatever"}, "no matching signature"),
        ({"webhook-id": "msg_other"}, "no matching signature"),
        ({"webhook-timestamp": "yesterday"}, "Unix time"),
        ({"webhook-id": ""}, "missing"),
    ],
)
def test_tampered_headers_are_refused(change: dict[str, str], reason: str) -> None:
    headers = {**signed(BODY), **change}
    with pytest.raises(WebhookVerificationError, match=reason):
        herald.webhooks.verify(BODY, headers, SECRET)


def test_tampered_body_wrong_secret_and_stale_or_future_timestamps_are_refused() -> None:
    headers = signed(BODY)
    with pytest.raises(WebhookVerificationError, match="signature"):
        herald.webhooks.verify(BODY.replace(b"550", b"250"), headers, SECRET)
    other = "whsec_" + base64.b64encode(b"z" * 32).decode()
    with pytest.raises(WebhookVerificationError, match="signature"):
        herald.webhooks.verify(BODY, headers, other)
    with pytest.raises(WebhookVerificationError, match="secret"):
        herald.webhooks.verify(BODY, headers, "whsec_not base64!")

    now = time.time()
    with pytest.raises(WebhookVerificationError, match="too old"):
        herald.webhooks.verify(BODY, signed(BODY, at=now - 301), SECRET)
    with pytest.raises(WebhookVerificationError, match="future"):
        herald.webhooks.verify(BODY, signed(BODY, at=now + 301), SECRET)
    assert herald.webhooks.verify(BODY, signed(BODY, at=now - 290), SECRET).type
    assert herald.webhooks.verify(BODY, signed(BODY, at=now - 3000), SECRET, tolerance=3600).type
    assert herald.webhooks.verify(BODY, signed(BODY, at=now - 3000), SECRET, now=now - 3000).type


def test_a_signed_body_that_is_not_an_event_is_refused() -> None:
    body = b'{"hello": "world"}'
    with pytest.raises(WebhookVerificationError, match="not a Herald event"):
        herald.webhooks.verify(body, signed(body), SECRET)
