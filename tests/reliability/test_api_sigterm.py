"""SIGTERM to ``herald api`` while requests are under way: they finish with 202 and their
messages are enqueued (then delivered exactly once), new connections are refused, and the
process exits 0.

Each request sends its headers and the first part of its JSON body, then holds the rest
until after the signal, so the signal finds every one of them in flight.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx

from simnet.fixtures import SMTPServerFactory
from support.harness import Herald, Tenant
from support.outages import assert_delivered_once, wait_delivered
from support.processes import free_port, start, stop, wait_http_ok

REQUESTS = 5


def _slow_send(
    base: str,
    tenant: Tenant,
    index: int,
    release: threading.Event,
    sending: list[int],
    results: list[object],
) -> None:
    """POST one message whose body is held back until ``release`` is set (``index`` goes
    into ``sending`` once the headers and the first part are out)."""
    body = json.dumps(
        {
            "from": f"app@{tenant.domain}",
            "to": f"user{index}@receiver.example",
            "subject": f"Message {index}",
            "text": "Hello",
        }
    ).encode()

    def chunks() -> Iterator[bytes]:
        yield body[:10]
        sending.append(index)
        release.wait(10)
        yield body[10:]

    headers = {**tenant.headers, "Content-Type": "application/json"}
    try:
        response = httpx.post(f"{base}/v1/messages", headers=headers, content=chunks(), timeout=20)
        results.append(response)
    except httpx.HTTPError as exc:
        results.append(exc)


async def test_sigterm_finishes_requests_in_flight_and_refuses_new_ones(
    herald: Herald,
    settings_env: dict[str, str],
    smtp_server_factory: SMTPServerFactory,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    sink = smtp_server_factory("127.0.0.2")
    env = {**settings_env, "HERALD_SHUTDOWN_TIMEOUT": "10s"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = start(env, "api", "--host", "127.0.0.1", "--port", str(port))
    release = threading.Event()
    sending: list[int] = []
    results: list[object] = []
    senders = [
        threading.Thread(target=_slow_send, args=(base, tenant, i, release, sending, results))
        for i in range(REQUESTS)
    ]
    try:
        await asyncio.to_thread(wait_http_ok, f"{base}/healthz", api)
        for sender in senders:
            sender.start()
        deadline = time.monotonic() + 10
        while len(sending) < REQUESTS and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # the API has read their headers: the requests are open
        assert results == []
        api.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        assert api.poll() is None, "it waits for the requests under way"
        try:
            httpx.get(f"{base}/healthz", timeout=2)
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError("a new connection was accepted after SIGTERM")
        release.set()
        released = time.monotonic()
        for sender in senders:
            await asyncio.to_thread(sender.join, 20)
        _, err = await asyncio.to_thread(api.communicate, timeout=10)
        assert time.monotonic() - released < 5, "it exits once the requests are done"
    except subprocess.TimeoutExpired:
        api.kill()
        raise AssertionError(f"the API did not exit:\n{api.communicate()[1]}") from None
    finally:
        release.set()
        if api.poll() is None:
            stop(api)
    assert api.returncode == 0, err

    responses = [r for r in results if isinstance(r, httpx.Response)]
    assert len(responses) == REQUESTS, results
    assert [r.status_code for r in responses] == [202] * REQUESTS, [r.text for r in responses]
    accepted = [r.json()["id"] for r in responses]
    # Enqueued before the process exited (not left for the sweeper, 30 s later).
    assert sorted(herald.queued_message_ids()) == sorted(accepted)

    worker = start(env, "worker")
    try:
        await wait_delivered(herald.engine, accepted, timeout=10)
    finally:
        stop(worker)
    assert_delivered_once(herald.engine, sink, accepted)
