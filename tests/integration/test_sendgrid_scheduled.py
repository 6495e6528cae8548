"""``send_at`` on ``/v3/mail/send`` (SQLite and PostgreSQL): SendGrid's UNIX time schedules
every message of the request, a personalization's own ``send_at`` wins, the messages can be
canceled on ``/v1``, and a bad time is refused in SendGrid's shape naming where it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from support.harness import Herald


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """A bound other than the default 72 h, to show /v3 applies the configured one."""
    return {**settings_env, "HERALD_MAX_SCHEDULE_AHEAD": "2h"}


def mail(*personalizations: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "personalizations": list(personalizations),
        "from": {"email": "app@sender.example"},
        "subject": "s",
        "content": [{"type": "text/plain", "value": "v"}],
        **extra,
    }


def to(address: str, **extra: Any) -> dict[str, Any]:
    return {"to": [{"email": address}], **extra}


def unix(at: datetime) -> int:
    return int(at.timestamp())


async def test_send_at_schedules_each_message_and_a_personalizations_own_wins(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    now = datetime.now(UTC).replace(microsecond=0)
    shared, own = now + timedelta(hours=1), now + timedelta(minutes=90)
    body = mail(to("ann@r.example"), to("bob@r.example", send_at=unix(own)), to("cy@r.example"))
    response = await api.post(
        "/v3/mail/send", json={**body, "send_at": unix(shared)}, headers=tenant.headers
    )
    assert response.status_code == 202, response.text
    assert herald.queued_message_ids() == []

    listed = await api.get("/v1/messages?status=scheduled", headers=tenant.headers)
    by_recipient = {m["recipients"][0]["email"]: m for m in listed.json()["data"]}
    assert {to: datetime.fromisoformat(m["send_at"]) for to, m in by_recipient.items()} == {
        "ann@r.example": shared,
        "bob@r.example": own,
        "cy@r.example": shared,
    }
    first = response.headers["X-Message-Id"]
    assert by_recipient["ann@r.example"]["id"] == first

    canceled = await api.post(f"/v1/messages/{first}/cancel", headers=tenant.headers)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    assert await herald.recipients(first) == {"ann@r.example": "canceled"}
    assert await herald.recipients(by_recipient["bob@r.example"]["id"]) == {
        "bob@r.example": "scheduled"
    }


async def test_a_bad_send_at_is_refused_naming_where_it_was(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    now = datetime.now(UTC)
    soon, past, too_far = (
        unix(now + timedelta(hours=1)),
        unix(now - timedelta(minutes=1)),
        unix(now + timedelta(hours=3)),
    )
    sandbox = {"mail_settings": {"sandbox_mode": {"enable": True}}}
    cases: list[tuple[dict[str, Any], str, str]] = [
        (mail(to("a@r.example"), to("b@r.example"), send_at=past), "send_at", "in the past"),
        (mail(to("a@r.example"), send_at=too_far), "send_at", "more than 2 h ahead"),
        (
            mail(to("a@r.example"), to("b@r.example", send_at=too_far), send_at=soon),
            "personalizations[1].send_at",
            "more than 2 h ahead",
        ),
        (mail(to("a@r.example"), send_at="tomorrow"), "send_at", "Expected `int"),
        (mail(to("a@r.example", send_at=soon + 0.5)), "personalizations[0].send_at", "got `float`"),
        (mail(to("a@r.example"), send_at=-1), "send_at", ">= 0"),
        (mail(to("a@r.example"), send_at=soon, **sandbox), "send_at", "sandbox"),
    ]
    for body, field, reason in cases:
        response = await api.post("/v3/mail/send", json=body, headers=tenant.headers)
        assert response.status_code == 400, (body, response.text)
        (error,) = response.json()["errors"]  # once, however many messages share the time
        assert error["field"] == field, (body, error)
        assert reason in error["message"], (body, error)
    assert herald.queued_message_ids() == []
    listed = await api.get("/v1/messages", headers=tenant.headers)
    assert listed.json()["data"] == []
