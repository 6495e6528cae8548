"""PostgreSQL stopped and restarted mid-run: 503s while it is down, nothing lost or doubled.

The test runs its own cluster (the session's shared server is never stopped): the API in
process, a ``herald worker`` child process, an SMTP sink that takes a second to accept
each message, so deliveries are in flight when ``pg_ctl stop -m fast`` ends every
session. While the server is down every send is answered ``503`` with ``Retry-After``
(never a 500, never a 202) and the worker waits: its in-flight outcomes and any start
are retried, not dropped. After the restart sends are accepted again, and every message
that got a 202 reaches the sink exactly once. The SMTP submission server, meanwhile,
defers: ``451 4.3.0`` at DATA, ``454 4.7.0`` for an AUTH it cannot check.
"""

from __future__ import annotations

import asyncio
import smtplib
import subprocess
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from herald_service.api.app import create_app
from herald_service.settings import load_settings
from herald_service.storage.models import Recipient
from simnet.dns import DNSServer
from simnet.fixtures import SMTPServerFactory
from support.harness import Herald
from support.outages import (
    assert_delivered_once,
    assert_unavailable,
    outage_env,
    send,
    wait_delivered,
)
from support.private_postgres import PrivateCluster
from support.processes import start
from support.submission import RunningSubmission, running_submission
from support.tokens import with_unknown_key_id

SINK_ACCEPT_SECONDS = 1.0


async def test_postgres_stop_and_restart(
    private_postgres: PrivateCluster,
    redis_url: str,
    dns_server: DNSServer,
    smtp_port: int,
    smtp_server_factory: SMTPServerFactory,
    tmp_path: Path,
) -> None:
    env = outage_env(private_postgres.url, redis_url, dns_server, smtp_port, tmp_path)
    herald = Herald(load_settings(env, env_file=Path("/nonexistent")), dns_server)
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    sink = smtp_server_factory("127.0.0.2", stalls={"data_end": SINK_ACCEPT_SECONDS})
    worker = start(env, "worker")
    accepted: list[str] = []
    try:
        with running_submission(herald, tmp_path) as smtp:
            smtp.starttls(tenant.api_key).quit()  # the key is checked, and cached
            async with AsyncTestClient(create_app(herald.settings)) as api:
                for index in range(6):
                    response = await send(api, tenant, index)
                    assert response.status_code == 202, response.text
                    accepted.append(response.json()["id"])
                await _wait_in_flight(herald, len(accepted))

                private_postgres.stop("fast")  # the SMTP transactions are still under way
                for index in range(6, 11):
                    assert_unavailable(await send(api, tenant, index))
                assert_unavailable(await send(api, tenant, 11, idempotency_key="outage-11"))
                await asyncio.to_thread(_smtp_defers, smtp, tenant.api_key)
                await asyncio.sleep(SINK_ACCEPT_SECONDS + 1.5)  # outcomes fail and are retried
                assert worker.poll() is None, "the worker died while the database was down"
                assert len(sink.messages) == len(accepted)  # the server said 250 to each

                private_postgres.start()
                herald.engine.dispose()  # the test's own connections died with the server
                for index in range(11, 16):
                    response = await send(api, tenant, index, idempotency_key=f"after-{index}")
                    assert response.status_code == 202, response.text
                    accepted.append(response.json()["id"])
                await wait_delivered(herald.engine, accepted, timeout=20)
        assert worker.poll() is None
    finally:
        # SIGTERM: after the outage the worker still stops cleanly (its journal, if it
        # left one, is in this test's directory).
        worker.terminate()
        try:
            errors = worker.communicate(timeout=15)[1]
        except subprocess.TimeoutExpired:
            worker.kill()
            errors = worker.communicate()[1]
        await herald.close()
    assert_delivered_once(herald.engine, sink, accepted)
    assert "the database is unavailable" in errors, errors[-3000:]
    assert worker.returncode == 0, errors[-3000:]


async def _wait_in_flight(herald: Herald, count: int, timeout: float = 10.0) -> None:
    """Until ``count`` recipients are leased by the worker: their SMTP transactions run."""
    deadline = time.monotonic() + timeout
    while True:
        with herald.engine.connect() as db:
            leased = db.execute(
                select(func.count()).where(
                    Recipient.status == "queued", Recipient.lease_token.is_not(None)
                )
            ).scalar_one()
        if leased >= count:
            return
        assert time.monotonic() < deadline, f"{leased} of {count} deliveries started"
        await asyncio.sleep(0.05)


def _smtp_defers(smtp: RunningSubmission, api_key: str) -> None:
    """While the database is down: DATA ``451 4.3.0``, an uncached key's AUTH ``454``."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        "app@sender.example",
        "smtp@receiver.example",
        "During the outage",
    )
    message.set_content("Hello")
    client = smtp.starttls(api_key)
    with pytest.raises(smtplib.SMTPDataError) as data:
        client.send_message(message)
    assert (data.value.smtp_code, data.value.smtp_error[:5]) == (451, b"4.3.0")
    client.quit()
    with pytest.raises(smtplib.SMTPAuthenticationError) as auth:
        smtp.starttls(with_unknown_key_id(api_key))
    assert (auth.value.smtp_code, auth.value.smtp_error[:5]) == (454, b"4.7.0")
