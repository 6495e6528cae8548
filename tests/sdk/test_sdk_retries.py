"""Retries, Retry-After and idempotency keys, against real loopback HTTP servers that fail."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from loopback_http import DROP, FAST_RETRIES, STALL, Reply, ScriptedHTTPServer, problem

from herald import (
    APIConnectionError,
    APITimeoutError,
    AsyncHerald,
    ConflictError,
    Herald,
    InternalServerError,
    RateLimitError,
    SendResult,
    UnprocessableEntityError,
)

ACCEPTED = Reply(202, {"id": "msg_1", "status": "queued"})
UNAVAILABLE = Reply(503, problem(503, "Service unavailable"), {"Retry-After": "1"})


def sdk(server: ScriptedHTTPServer, **options: Any) -> Herald:
    """A blocking client of ``server`` with near-zero backoff."""
    return Herald(api_key="hk_test", base_url=server.base_url, retry_policy=FAST_RETRIES, **options)


def async_sdk(server: ScriptedHTTPServer) -> AsyncHerald:
    """An asyncio client of ``server`` with near-zero backoff."""
    return AsyncHerald(api_key="hk_test", base_url=server.base_url, retry_policy=FAST_RETRIES)


def send(client: Herald, **options: Any) -> SendResult:
    """Send a minimal valid message."""
    return client.messages.send(
        from_="app@sender.example", to="alice@receiver.example", text="hi", **options
    )


async def async_send(client: AsyncHerald) -> SendResult:
    """Send a minimal valid message."""
    return await client.messages.send(
        from_="app@sender.example", to="alice@receiver.example", text="hi"
    )


def test_503_is_retried_after_the_retry_after_seconds() -> None:
    with ScriptedHTTPServer(UNAVAILABLE, ACCEPTED) as server, sdk(server) as client:
        sent = send(client)

    assert (sent.id, sent.status) == ("msg_1", "queued")
    assert len(server.received) == 2
    (gap,) = server.gaps()
    assert gap >= 0.95, "Retry-After: 1 was not honoured"
    keys = server.idempotency_keys()
    assert keys[0] and keys[0] == keys[1]


async def test_429_with_an_http_date_retry_after_is_honoured() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    limited = Reply(429, problem(429, "Too many requests"), {"Retry-After": when})
    with ScriptedHTTPServer(limited, ACCEPTED) as server:
        async with async_sdk(server) as client:
            sent = await async_send(client)

    assert sent.id == "msg_1"
    (gap,) = server.gaps()
    assert 0.9 <= gap <= 3.5
    assert len(set(server.idempotency_keys())) == 1


def test_a_long_retry_after_is_not_waited_for() -> None:
    daily_cap = Reply(429, problem(429, "Too many requests"), {"Retry-After": "3600"})
    started = time.monotonic()
    with (
        ScriptedHTTPServer(daily_cap) as server,
        sdk(server) as client,
        pytest.raises(RateLimitError) as caught,
    ):
        send(client)

    assert time.monotonic() - started < 5
    assert len(server.received) == 1
    assert caught.value.retry_after == 3600
    assert caught.value.problem.title == "Too many requests"


def test_retries_stop_after_max_retries() -> None:
    failing = Reply(500, problem(500, "Internal error"))
    with ScriptedHTTPServer(failing) as server, sdk(server, max_retries=3) as client:
        with pytest.raises(InternalServerError) as caught:
            send(client)
        assert len(server.received) == 4
        assert caught.value.status == 500

        with pytest.raises(InternalServerError):
            client.messages.get("msg_1", max_retries=0)
        assert len(server.received) == 5


def test_each_send_gets_its_own_key_and_an_explicit_key_is_kept() -> None:
    with ScriptedHTTPServer(ACCEPTED) as server, sdk(server) as client:
        send(client)
        send(client)
        send(client, idempotency_key="welcome-42")

    first, second, third = server.idempotency_keys()
    assert first and second and first != second
    assert third == "welcome-42"


def test_conflict_is_retried_and_client_errors_are_not() -> None:
    conflict = Reply(409, problem(409, "Conflict", "a request with this key is in flight"))
    with ScriptedHTTPServer(conflict, ACCEPTED) as server, sdk(server) as client:
        send(client)
        assert len(server.received) == 2

    invalid = Reply(422, {**problem(422, "Invalid request"), "errors": []})
    with ScriptedHTTPServer(invalid) as server, sdk(server) as client:
        with pytest.raises(UnprocessableEntityError):
            send(client)
        assert len(server.received) == 1

    with (
        ScriptedHTTPServer(conflict) as server,
        sdk(server, max_retries=0) as client,
        pytest.raises(ConflictError),
    ):
        send(client)


def test_a_dropped_connection_is_retried_with_the_same_idempotency_key() -> None:
    with ScriptedHTTPServer(DROP, ACCEPTED) as server, sdk(server) as client:
        sent = send(client)

    assert sent.id == "msg_1"
    assert len(server.received) == 2
    first, second = server.received
    assert first.body == second.body
    key = first.headers["idempotency-key"]
    assert len(key) >= 16 and second.headers["idempotency-key"] == key


async def test_async_dropped_connection_is_retried_with_the_same_key() -> None:
    with ScriptedHTTPServer(DROP, DROP, ACCEPTED) as server:
        async with async_sdk(server) as client:
            sent = await async_send(client)

    assert sent.status == "queued"
    assert len(server.received) == 3
    assert len(set(server.idempotency_keys())) == 1


def test_connection_errors_surface_after_the_retries() -> None:
    with (
        ScriptedHTTPServer(DROP) as server,
        sdk(server) as client,
        pytest.raises(APIConnectionError) as caught,
    ):
        send(client)
    assert not isinstance(caught.value, APITimeoutError)
    assert len(server.received) == 3


def test_refused_connection_is_a_connection_error() -> None:
    with ScriptedHTTPServer(ACCEPTED) as server:
        base_url = server.base_url
    client = Herald(api_key="hk_test", base_url=base_url, retry_policy=FAST_RETRIES)
    with client, pytest.raises(APIConnectionError):
        client.messages.get("msg_1")


def test_a_stalled_server_times_out() -> None:
    with ScriptedHTTPServer(STALL) as server, sdk(server, timeout=0.3) as client:
        with pytest.raises(APITimeoutError):
            send(client, max_retries=1)
        assert len(server.received) == 2
