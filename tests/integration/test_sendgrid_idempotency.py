"""``Idempotency-Key`` on ``/v3/mail/send`` as on ``/v1/messages``; 409 says when to retry."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from herald_service.api.context import ApiContext
from herald_service.messages import idempotency
from herald_service.messages.schemas import SendMessageRequest
from herald_service.messages.sendgrid.service import SGMail
from herald_service.storage.models import Message
from support.harness import Herald

MAIL: dict[str, Any] = {
    "personalizations": [
        {"to": [{"email": "ann@r.example"}]},
        {"to": [{"email": "bob@r.example"}]},
    ],
    "from": {"email": "app@sender.example"},
    "subject": "Your receipt",
    "content": [{"type": "text/plain", "value": "Thanks"}],
}
V1 = {"from": "app@sender.example", "to": "user@r.example", "subject": "Hi", "text": "x"}


def message_count(herald: Herald) -> int:
    with herald.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(Message)).scalar_one())


async def test_same_key_and_body_replay_the_first_answer(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    headers = {**tenant.headers, "Idempotency-Key": "receipt-42"}
    first = await api.post("/v3/mail/send", json=MAIL, headers=headers)
    again = await api.post("/v3/mail/send", json=dict(reversed(MAIL.items())), headers=headers)
    assert first.status_code == again.status_code == 202, again.text
    assert first.headers["X-Message-Id"] == again.headers["X-Message-Id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert message_count(herald) == 2
    assert len(herald.queued_message_ids()) == 2

    changed = await api.post("/v3/mail/send", json={**MAIL, "subject": "Other"}, headers=headers)
    assert changed.status_code == 400
    assert changed.json()["errors"][0]["field"] == "Idempotency-Key"
    on_v1 = await api.post("/v1/messages", json=V1, headers=headers)
    assert on_v1.status_code == 422  # the key belongs to another request
    bad_key = await api.post(
        "/v3/mail/send", json=MAIL, headers={**tenant.headers, "Idempotency-Key": "has space"}
    )
    assert bad_key.status_code == 400
    assert message_count(herald) == 2

    sandbox = {**MAIL, "mail_settings": {"sandbox_mode": {"enable": True}}}
    sandbox_headers = {**tenant.headers, "Idempotency-Key": "sandbox-1"}
    replies = [await api.post("/v3/mail/send", json=sandbox, headers=sandbox_headers) for _ in "ab"]
    assert [r.status_code for r in replies] == [200, 200]
    assert message_count(herald) == 4


async def test_a_refused_request_does_not_burn_its_key(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    headers = {**tenant.headers, "Idempotency-Key": "k1"}
    unknown_domain = {**MAIL, "from": {"email": "app@elsewhere.example"}}
    refused = await api.post("/v3/mail/send", json=unknown_domain, headers=headers)
    assert refused.status_code == 400
    accepted = await api.post("/v3/mail/send", json=unknown_domain, headers=headers)
    assert accepted.status_code == 400  # refused again, not replayed as if it had worked
    good = await api.post(
        "/v3/mail/send", json=MAIL, headers={**tenant.headers, "Idempotency-Key": "k2"}
    )
    assert good.status_code == 202


async def test_concurrent_identical_requests_make_one_set_of_messages(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    headers = {**tenant.headers, "Idempotency-Key": "burst-1"}
    responses = await asyncio.gather(
        *(api.post("/v3/mail/send", json=MAIL, headers=headers) for _ in range(10))
    )
    assert {r.status_code for r in responses} <= {202, 409}
    assert len({r.headers["X-Message-Id"] for r in responses if r.status_code == 202}) == 1
    assert all(r.headers.get("Retry-After") for r in responses if r.status_code == 409)
    assert message_count(herald) == 2


async def test_a_request_still_in_flight_gets_409_with_retry_after(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    context: ApiContext = api.app.state.herald
    in_flight = {
        "/v1/messages": (V1, SendMessageRequest),
        "/v3/mail/send": (MAIL, SGMail),
    }
    for path, (body, body_type) in in_flight.items():
        key = f"in-flight{path.replace('/', '-')}"
        decoded = msgspec.convert(body, body_type)
        fingerprint = idempotency.request_fingerprint("POST", path, decoded)
        # Another process has claimed the key and not yet answered.
        await idempotency.claim(context.sessions, tenant.account_id, key, fingerprint)
        response = await api.post(
            path, json=body, headers={**tenant.headers, "Idempotency-Key": key}
        )
        assert response.status_code == 409, (path, response.text)
        assert response.headers["Retry-After"] == "1", path
    assert message_count(herald) == 0
