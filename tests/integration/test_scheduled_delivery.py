"""Scheduled send end to end on the simulated internet, with the API and a worker as
child processes: a message scheduled 3 s ahead reaches the MX at its time and not before,
though the worker is killed and restarted while it waits (it lives in the database only);
a canceled one never reaches the MX."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from herald_service.storage.database import make_engine
from simnet.fixtures import SMTPServerFactory
from support.fleet import Fleet
from support.harness import Herald

SENDER = "app@sender.example"


@pytest.mark.timeout(120)
async def test_a_scheduled_message_arrives_at_its_time_and_a_canceled_one_never(
    herald: Herald, settings_env: dict[str, str], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    engine = make_engine(settings_env["HERALD_DATABASE_URL"])
    fleet = Fleet(settings_env, engine, workers=1)
    try:
        async with httpx.AsyncClient(
            base_url=fleet.base, headers=tenant.headers, timeout=10
        ) as client:
            send_at = datetime.now(UTC) + timedelta(seconds=3)

            async def schedule(to: str) -> str:
                response = await client.post(
                    "/v1/messages",
                    json={
                        "from": SENDER,
                        "to": to,
                        "subject": "Reminder",
                        "text": "It is time.",
                        "send_at": send_at.isoformat(),
                    },
                )
                assert response.status_code == 202, response.text
                assert response.json()["status"] == "scheduled"
                return str(response.json()["id"])

            kept = await schedule("kept@receiver.example")
            dropped = await schedule("dropped@receiver.example")
            canceled = await client.post(f"/v1/messages/{dropped}/cancel")
            assert canceled.json()["status"] == "canceled"
            fleet.kill_worker(0)  # SIGKILL and a new worker: nothing of it is in Redis

            deadline = time.monotonic() + 30
            while (await client.get(f"/v1/messages/{kept}")).json()["status"] != "delivered":
                assert not mx.messages or mx.messages[0].received_at >= send_at.timestamp()
                assert time.monotonic() < deadline, "the scheduled message was not delivered"
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # time for a (wrong) delivery of the canceled one
            assert [m.rcpt_tos for m in mx.messages] == [["kept@receiver.example"]]
            assert mx.messages[0].received_at >= send_at.timestamp()
            assert mx.messages[0].received_at < send_at.timestamp() + 10
            final = (await client.get(f"/v1/messages/{dropped}")).json()
            assert final["status"] == "canceled"
    finally:
        fleet.stop()
        engine.dispose()
