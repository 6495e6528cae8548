"""SQLite on a full disk: 503s while there is no room, nothing lost once there is again.

The database lives on a tmpfs of a few megabytes that the test fills with a file, so
SQLite's writes fail with ``SQLITE_FULL`` as on a real full disk (where the test may not
mount one, :mod:`support.small_disk` caps the database with ``PRAGMA max_page_count``
instead, which raises the same error once the room left inside the database's pages is
taken: sends are made until the first 503). While the disk is full every send is answered
``503`` with ``Retry-After`` (never a 500, never a 202) and a delivery waits; once the
filler is removed, sends are accepted again and every message that got a 202 is
delivered exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from herald_service.settings import load_settings
from simnet.dns import DNSServer
from simnet.fixtures import SMTPServerFactory
from support.databases import migrated_sqlite
from support.harness import Herald, Tenant
from support.outages import (
    assert_delivered_once,
    assert_unavailable,
    outage_env,
    send,
    wait_delivered,
)
from support.small_disk import SmallDisk


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    disk = SmallDisk(tmp_path / "disk")
    yield disk
    disk.remove()


async def test_sqlite_full_disk_and_freed(
    small_disk: SmallDisk,
    redis_url: str,
    dns_server: DNSServer,
    smtp_port: int,
    smtp_server_factory: SMTPServerFactory,
    tmp_path: Path,
) -> None:
    url = migrated_sqlite(str(small_disk.root / "herald.db"))
    env = outage_env(url, redis_url, dns_server, smtp_port, tmp_path)
    herald = Herald(load_settings(env, env_file=Path("/nonexistent")), dns_server)
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    sink = smtp_server_factory("127.0.0.2")
    accepted: list[str] = []
    try:
        async with AsyncTestClient(create_app(herald.settings)) as api:
            with herald.serving(api):
                small_disk.watch(api.app.state.herald.engine)
                small_disk.watch(herald.runtime.engine)
                for index in range(3):
                    response = await send(api, tenant, index)
                    assert response.status_code == 202, response.text
                    accepted.append(response.json()["id"])

                await small_disk.fill()
                if not small_disk.mounted:
                    accepted.extend(await _until_refused(api, tenant))
                for index in range(3, 7):
                    assert_unavailable(await send(api, tenant, index))
                assert_unavailable(await send(api, tenant, 7, idempotency_key="full-7"))
                delivering = asyncio.ensure_future(herald.drain_queue())
                await asyncio.sleep(1.5)
                if small_disk.mounted:  # no room to lease a recipient: the delivery waits
                    assert not delivering.done()
                    assert sink.messages == []

                await small_disk.free()
                await asyncio.wait_for(delivering, timeout=15)
                for index in range(8, 11):
                    response = await send(api, tenant, index, idempotency_key=f"freed-{index}")
                    assert response.status_code == 202, response.text
                    accepted.append(response.json()["id"])
                await herald.drain_queue()
                await wait_delivered(herald.engine, accepted, timeout=10)
    finally:
        await herald.close()
    assert_delivered_once(herald.engine, sink, accepted)


async def _until_refused(api: AsyncTestClient, tenant: Tenant) -> list[str]:  # type: ignore[type-arg]
    """Send until the capped database has no room: the ids that still fitted (a 202 is
    a 202), up to the first 503."""
    fitted: list[str] = []
    for index in range(100, 200):
        response = await send(api, tenant, index)
        if response.status_code == 503:
            return fitted
        assert response.status_code == 202, response.text
        fitted.append(response.json()["id"])
    raise AssertionError("the capped database never filled up")
