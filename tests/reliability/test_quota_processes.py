"""Two real ``herald api`` processes sharing one Redis: quotas are never spent twice, and a
revoked key stops working on both within five seconds."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from support.harness import Herald
from support.processes import free_port, start, stop, wait_http_ok


@pytest.fixture
def two_apis(settings_env: dict[str, str]) -> Iterator[list[str]]:
    ports = [free_port(), free_port()]
    processes = [
        start(settings_env, "api", "--host", "127.0.0.1", "--port", str(port)) for port in ports
    ]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, process in zip(bases, processes, strict=True):
            wait_http_ok(f"{base}/healthz", process)
        yield bases
    finally:
        for process in processes:
            stop(process)


async def test_quotas_hold_across_two_api_processes(herald: Herald, two_apis: list[str]) -> None:
    admin = await herald.create_tenant("sender.example")
    async with httpx.AsyncClient(timeout=30) as client:

        async def new_key(**quotas: float) -> dict[str, str]:
            response = await client.post(
                f"{two_apis[0]}/v1/api-keys",
                headers=admin.headers,
                json={"scopes": ["send", "read"], "quotas": quotas},
            )
            assert response.status_code == 201, response.text
            return {"Authorization": f"Bearer {response.json()['key']}"}

        # A burst of 10 and almost no refill: exactly 10 requests pass, whichever process.
        rate_key = await new_key(requests_per_second=0.001, burst=10)
        for base in two_apis:  # first use of the key on each process (argon2 once each)
            await client.get(f"{base}/v1/messages/msg_warmup", headers=rate_key)
        gets = [
            client.get(f"{two_apis[i % 2]}/v1/messages/msg_x", headers=rate_key) for i in range(40)
        ]
        statuses = Counter(r.status_code for r in await asyncio.gather(*gets))
        assert statuses == {404: 8, 429: 32}  # 10 allowed: 2 warm-ups + 8

        # A daily cap of 12 recipients: exactly 12 single-recipient messages are accepted.
        cap_key = await new_key(daily_recipients=12)
        for base in two_apis:  # both processes ready to accept at once
            await client.get(f"{base}/v1/messages/msg_warmup", headers=cap_key)
        body = {"from": "app@sender.example", "subject": "s", "text": "t"}
        sends = [
            client.post(
                f"{two_apis[i % 2]}/v1/messages",
                headers=cap_key,
                json=body | {"to": f"user{i}@receiver.example"},
            )
            for i in range(30)
        ]
        responses = await asyncio.gather(*sends)
        assert Counter(r.status_code for r in responses) == {202: 12, 429: 18}
        accepted = {r.json()["id"] for r in responses if r.status_code == 202}
        assert set(await herald.wait_queued(accepted)) == accepted


async def test_revoked_key_stops_working_on_every_process_within_5s(
    herald: Herald, two_apis: list[str]
) -> None:
    admin = await herald.create_tenant("sender.example")
    async with httpx.AsyncClient(timeout=30) as client:
        created = await client.post(
            f"{two_apis[0]}/v1/api-keys", headers=admin.headers, json={"scopes": ["read"]}
        )
        headers = {"Authorization": f"Bearer {created.json()['key']}"}
        for base in two_apis:
            assert (await client.get(f"{base}/v1/messages/m", headers=headers)).status_code == 404
        revoke = await client.delete(
            f"{two_apis[1]}/v1/api-keys/{created.json()['id']}", headers=admin.headers
        )
        assert revoke.status_code == 204
        revoked_at = time.monotonic()
        stopped: dict[str, float] = {}

        async def poll(base: str) -> None:
            # Each process on its own loop: a refusal is held for 0.25 s, and waiting for
            # one process's refusal would delay the next probe of the other.
            while time.monotonic() - revoked_at < 8:
                response = await client.get(f"{base}/v1/messages/m", headers=headers)
                if response.status_code == 401:
                    stopped[base] = time.monotonic() - revoked_at
                    return
                await asyncio.sleep(0.1)

        await asyncio.gather(*(poll(base) for base in two_apis))
        assert set(stopped) == set(two_apis)
        # 5 s recheck, plus the 0.25 s floor of the refusal itself and polling slack
        assert max(stopped.values()) <= 5.5, stopped
