"""The SDK against a real Herald app (in process), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest
from litestar.testing import AsyncTestClient, TestClient

from herald import (
    APIError,
    AsyncHerald,
    AuthenticationError,
    EmailAddress,
    Herald,
    Message,
    NotFoundError,
    PermissionDeniedError,
    SendResult,
    UnprocessableEntityError,
)
from simnet.fixtures import SMTPServerFactory
from support.harness import Herald as HeraldHarness
from support.harness import Tenant


def test_send_and_get(client: Herald, herald: HeraldHarness) -> None:
    sent = client.messages.send(
        from_=EmailAddress("app@sender.example", "The App"),
        to=["alice@receiver.example", EmailAddress("bob@receiver.example", "Bob")],
        cc="carol@receiver.example",
        reply_to="support@sender.example",
        subject="Confirm your address",
        text="Click the link.",
        html="<p>Click the link.</p>",
        tags=["signup"],
        metadata={"user_id": "42"},
    )

    assert isinstance(sent, SendResult)
    assert sent.id.startswith("msg_")
    assert sent.status == "queued"
    assert herald.queued_message_ids() == [sent.id]

    message = client.messages.get(sent.id)
    assert isinstance(message, Message)
    assert message.id == sent.id
    assert message.status == "queued"
    assert message.from_ == "app@sender.example"
    assert message.subject == "Confirm your address"
    assert message.tags == ["signup"]
    assert message.metadata == {"user_id": "42"}
    assert message.sandbox is False
    assert isinstance(message.created_at, datetime)
    assert {(r.email, r.kind, r.status) for r in message.recipients} == {
        ("alice@receiver.example", "to", "queued"),
        ("bob@receiver.example", "to", "queued"),
        ("carol@receiver.example", "cc", "queued"),
    }
    assert all(r.attempts == [] for r in message.recipients)
    assert sorted((e.type, e.recipient) for e in message.events) == [
        ("message.accepted", "alice@receiver.example"),
        ("message.accepted", "bob@receiver.example"),
        ("message.accepted", "carol@receiver.example"),
    ]
    assert all(isinstance(e.at, datetime) and e.id for e in message.events)


async def test_async_send_and_get(async_client: AsyncHerald, herald: HeraldHarness) -> None:
    sent = await async_client.messages.send(
        from_="app@sender.example",
        to="alice@receiver.example",
        subject="Hello",
        text="Hi there",
    )
    assert sent.status == "queued"
    assert herald.queued_message_ids() == [sent.id]

    message = await async_client.messages.get(sent.id)
    assert message.id == sent.id
    assert [(r.email, r.status) for r in message.recipients] == [
        ("alice@receiver.example", "queued")
    ]
    assert [e.type for e in message.events] == ["message.accepted"]


def test_a_repeated_idempotency_key_returns_the_first_message(
    client: Herald, herald: HeraldHarness
) -> None:
    def send() -> SendResult:
        return client.messages.send(
            from_="app@sender.example",
            to="alice@receiver.example",
            text="Welcome!",
            idempotency_key="welcome-42",
        )

    first, second = send(), send()
    assert second == first
    assert herald.queued_message_ids() == [first.id]


async def test_sandbox_send_is_not_queued(async_client: AsyncHerald, herald: HeraldHarness) -> None:
    sent = await async_client.messages.send(
        from_="app@sender.example", to="alice@receiver.example", text="hi", sandbox=True
    )
    assert herald.queued_message_ids() == []
    assert (await async_client.messages.get(sent.id)).sandbox is True


async def test_delivery_attempts_are_typed(
    async_client: AsyncHerald, herald: HeraldHarness, smtp_server_factory: SMTPServerFactory
) -> None:
    herald.add_mx("receiver.example", (10, "mx1.receiver.example", "127.0.0.2"))
    smtp_server_factory("127.0.0.2")
    sent = await async_client.messages.send(
        from_="app@sender.example", to="alice@receiver.example", subject="Hi", text="Hello"
    )
    assert await herald.drain_queue() == 1

    message = await async_client.messages.get(sent.id)
    assert message.status == "delivered"
    (recipient,) = message.recipients
    assert recipient.status == "delivered"
    (attempt,) = recipient.attempts
    assert attempt.mx == "mx1.receiver.example"
    assert attempt.code == 250
    assert isinstance(attempt.at, datetime)
    assert [e.type for e in message.events] == ["message.accepted", "message.delivered"]


def test_wrong_api_key_is_an_authentication_error(
    tenant: Tenant,
    app_client: TestClient,  # type: ignore[type-arg]
) -> None:
    sdk = Herald(
        api_key="hk_not-a-real-key", base_url=str(app_client.base_url), http_client=app_client
    )
    with pytest.raises(AuthenticationError) as caught:
        sdk.messages.send(from_="app@sender.example", to="alice@receiver.example", text="hi")

    error = caught.value
    assert isinstance(error, APIError)
    assert error.status == 401
    assert error.problem.status == 401
    assert error.problem.title == "Unauthorized"
    assert error.problem.type.startswith("/problems#")
    assert error.errors == []
    assert "401" in str(error)


async def test_invalid_content_is_unprocessable_with_field_errors(
    async_client: AsyncHerald,
) -> None:
    with pytest.raises(UnprocessableEntityError) as caught:
        await async_client.messages.send(
            from_="app@sender.example", to=["alice@receiver.example", "not an address"]
        )

    error = caught.value
    assert error.status == 422
    assert error.problem.title == "Invalid request"
    fields = {e.field for e in error.errors}
    assert fields == {"to[1]", "text"}
    assert all(e.message for e in error.errors)


async def test_unknown_message_is_not_found(async_client: AsyncHerald) -> None:
    with pytest.raises(NotFoundError) as caught:
        await async_client.messages.get("msg_00000000000000000000000000")
    assert caught.value.status == 404
    assert caught.value.problem.title == "Not found"


def test_unknown_message_is_not_found_sync(client: Herald) -> None:
    with pytest.raises(NotFoundError):
        client.messages.get("msg_00000000000000000000000000")


async def test_key_without_send_scope_is_permission_denied(
    herald: HeraldHarness,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    reader = await herald.create_tenant("reader.example", scopes=("read",))
    async with AsyncHerald(
        api_key=reader.api_key, base_url=str(api.base_url), http_client=api
    ) as sdk:
        with pytest.raises(PermissionDeniedError) as caught:
            await sdk.messages.send(from_="app@reader.example", to="a@b.example", text="hi")
    assert caught.value.status == 403
    assert "send" in caught.value.problem.detail
