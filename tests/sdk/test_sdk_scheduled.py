"""``send_at=`` and ``messages.cancel`` of the SDK, blocking and asyncio, against the real
app in process (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from herald import AsyncHerald, ConflictError, Herald, NotFoundError, UnprocessableEntityError
from support.harness import Herald as HeraldHarness

SENDER, TO = "app@sender.example", "ann@receiver.example"


async def test_send_at_and_cancel(client: Herald, herald: HeraldHarness) -> None:
    send_at = datetime.now(timezone(timedelta(hours=-5))) + timedelta(hours=2)
    sent = client.messages.send(from_=SENDER, to=TO, text="Later", send_at=send_at)
    assert sent.status == "scheduled"
    assert [r.status for r in sent.recipients] == ["scheduled"]
    assert client.messages.get(sent.id).send_at == send_at
    assert [m.id for m in client.messages.list(status="scheduled").data] == [sent.id]
    assert herald.queued_message_ids() == []

    canceled = client.messages.cancel(sent.id)
    assert canceled.status == "canceled"
    assert "message.canceled" in [e.type for e in canceled.events]
    with pytest.raises(ConflictError) as again:
        client.messages.cancel(sent.id)
    assert "already canceled" in str(again.value.problem.detail)
    with pytest.raises(NotFoundError):
        client.messages.cancel("msg_00000000000000000000000000")


async def test_send_at_refusals(client: Herald) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        client.messages.send(from_=SENDER, to=TO, text="x", send_at=datetime(2030, 1, 1, 9))
    too_far = datetime.now(UTC) + timedelta(days=4)
    with pytest.raises(UnprocessableEntityError) as caught:
        client.messages.send(from_=SENDER, to=TO, text="x", send_at=too_far)
    assert [e.field for e in caught.value.errors] == ["send_at"]


async def test_async_send_at_and_cancel(async_client: AsyncHerald) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=30)
    sent = await async_client.messages.send(from_=SENDER, to=TO, text="Soon", send_at=soon)
    assert sent.status == "scheduled"
    canceled = await async_client.messages.cancel(sent.id)
    assert [r.status for r in canceled.recipients] == ["canceled"]
    with pytest.raises(ValueError, match="timezone-aware"):
        await async_client.messages.send(
            from_=SENDER, to=TO, text="x", send_at=datetime(2030, 1, 1)
        )
