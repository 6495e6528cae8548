"""``messages.send_batch`` against the real app in process (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from herald import AsyncHerald, BatchResult, EmailAddress, Herald, Problem, SendResult
from support.harness import Herald as HeraldHarness


def test_send_batch_mixes_keyword_and_json_messages_and_keeps_their_order(
    client: Herald, herald: HeraldHarness
) -> None:
    result = client.messages.send_batch(
        [
            {"from_": EmailAddress("app@sender.example", "App"), "to": "a@r.example", "text": "1"},
            {"from": "app@sender.example", "to": ["b@r.example"], "text": "2"},
            {"from_": "app@sender.example", "to": "not an address", "text": "3"},
            {"from_": "app@sender.example", "to": "c@r.example", "html": "<p>4</p>"},
        ],
        idempotency_key="sdk-batch-1",
    )
    assert isinstance(result, BatchResult)
    assert (result.accepted, result.refused) == (3, 1)
    assert [type(r) for r in result.results] == [SendResult, SendResult, Problem, SendResult]
    problem = result.problems[2]
    assert problem.status == 422 and problem.errors[0].field == "messages[2].to[0]"
    assert [r.recipients[0].email for r in result.sent] == [
        "a@r.example",
        "b@r.example",
        "c@r.example",
    ]
    assert client.messages.get(result.sent[0].id).recipients[0].email == "a@r.example"
    assert sorted(herald.queued_message_ids()) == sorted(r.id for r in result.sent)
    again = client.messages.send_batch(
        [{"from_": "app@sender.example", "to": "a@r.example", "text": "1"}],
        idempotency_key="sdk-batch-2",
    )
    replayed = client.messages.send_batch(
        [{"from_": "app@sender.example", "to": "a@r.example", "text": "1"}],
        idempotency_key="sdk-batch-2",
    )
    assert replayed == again


async def test_async_send_batch(async_client: AsyncHerald) -> None:
    result = await async_client.messages.send_batch(
        [{"from_": "app@sender.example", "to": f"u{i}@r.example", "text": "x"} for i in range(3)]
    )
    assert result.accepted == 3 and not result.problems
    assert all(r.status == "queued" for r in result.sent)
    later = datetime.now(UTC) + timedelta(hours=2)
    scheduled = await async_client.messages.send_batch(
        [
            {"from_": "app@sender.example", "to": "s@r.example", "text": "x"},
            {"from_": "app@sender.example", "to": "t@r.example", "text": "x", "send_at": later},
        ],
        send_at=later - timedelta(hours=1),
    )
    first, second = [await async_client.messages.get(r.id) for r in scheduled.sent]
    assert [r.status for r in scheduled.sent] == ["scheduled", "scheduled"]
    assert first.send_at is not None and second.send_at is not None
    assert round((second.send_at - first.send_at).total_seconds()) == 3600


def test_send_batch_refuses_bad_arguments_before_sending(client: Herald) -> None:
    with pytest.raises(TypeError, match="'form_'"):
        client.messages.send_batch([{"form_": "app@sender.example", "to": "a@r.example"}])
    with pytest.raises(TypeError, match="timeout"):
        client.messages.send_batch([{"from_": "app@sender.example", "timeout": 3}])
    with pytest.raises(ValueError, match="1 to 500"):
        client.messages.send_batch([])
    with pytest.raises(ValueError, match="1 to 500"):
        client.messages.send_batch([{"from": "app@sender.example"}] * 501)
    with pytest.raises(ValueError, match="timezone-aware"):
        client.messages.send_batch([{"from": "a@sender.example"}], send_at=datetime(2030, 1, 1))
