"""SIGTERM to a busy ``herald worker``: it exits 0 within ``HERALD_SHUTDOWN_TIMEOUT``, and
with a fresh worker every accepted message reaches the sink exactly once.

The sink holds each message's DATA for a while before it answers, so the signal lands while
SMTP transactions are under way. With a timeout longer than the hold the worker finishes
them (and hands the messages it had not started back to the queue); with a shorter one it
drops their connections before the reply and ends their recipients' leases, so the next
worker sends them at once instead of when the lease would run out (30 s). If the server
has answered but the database is down, the worker exits all the same and the next one
records the outcomes from the journal.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from herald_service.settings import load_settings
from simnet.dns import DNSServer
from simnet.fixtures import SMTPServerFactory
from simnet.smtp import SMTPServer
from support.harness import Herald
from support.outages import assert_delivered_once, outage_env, send, wait_delivered
from support.private_postgres import PrivateCluster
from support.processes import start, stop

CONCURRENCY = 4
MESSAGES = 7  # more than the worker runs at once: some wait in its job at the signal


async def _accept(herald: Herald, api: AsyncTestClient) -> list[str]:  # type: ignore[type-arg]
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    accepted = []
    for index in range(MESSAGES):
        response = await send(api, tenant, index)
        assert response.status_code == 202, response.text
        accepted.append(response.json()["id"])
    herald.flush_enqueues()
    return accepted


async def _terminate_mid_data(
    env: dict[str, str], sink: SMTPServer
) -> tuple[subprocess.Popen[str], float]:
    """Start a worker, SIGTERM it once it has every slot in DATA; when the signal went."""
    worker = start(env, "worker")
    deadline = time.monotonic() + 15
    while len(sink.unacknowledged) < CONCURRENCY:
        assert worker.poll() is None, worker.communicate()
        assert time.monotonic() < deadline, "the worker did not reach DATA"
        await asyncio.sleep(0.02)
    worker.send_signal(signal.SIGTERM)
    return worker, time.monotonic()


def _exit_code(worker: subprocess.Popen[str], within: float) -> tuple[int, str]:
    try:
        _, err = worker.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        worker.kill()
        _, err = worker.communicate()
        raise AssertionError(f"the worker did not exit within {within} s:\n{err}") from None
    return worker.returncode, err


async def test_sigterm_lets_smtp_transactions_finish(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    settings_env: dict[str, str],
    smtp_server_factory: SMTPServerFactory,
) -> None:
    accepted = await _accept(herald, api)
    sink = smtp_server_factory("127.0.0.2", stalls={"data_end": 2.0})
    env = {
        **settings_env,
        "HERALD_WORKER_CONCURRENCY": str(CONCURRENCY),
        "HERALD_SHUTDOWN_TIMEOUT": "10s",
    }
    worker, signalled = await _terminate_mid_data(env, sink)
    code, err = await asyncio.to_thread(_exit_code, worker, 15)
    assert code == 0, err
    # The transactions under way at the signal finished, and nothing else was started.
    assert len(sink.messages) == CONCURRENCY
    assert time.monotonic() - signalled < 10

    sink.accept()
    fresh = start(env, "worker")
    try:
        await wait_delivered(herald.engine, accepted, timeout=10)
    finally:
        assert "Traceback" not in stop(fresh)
    assert_delivered_once(herald.engine, sink, accepted)


async def test_sigterm_past_the_timeout_hands_the_transactions_back(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    settings_env: dict[str, str],
    smtp_server_factory: SMTPServerFactory,
) -> None:
    accepted = await _accept(herald, api)
    sink = smtp_server_factory("127.0.0.2", stalls={"data_end": 60.0})
    env = {
        **settings_env,
        "HERALD_WORKER_CONCURRENCY": str(CONCURRENCY),
        "HERALD_SHUTDOWN_TIMEOUT": "1s",
    }
    worker, signalled = await _terminate_mid_data(env, sink)
    code, err = await asyncio.to_thread(_exit_code, worker, 10)
    stopped_after = time.monotonic() - signalled
    assert code == 0, err
    assert stopped_after < 10, stopped_after  # the 1 s timeout, then hand-back and close
    assert "handed back 4 recipients" in err
    assert sink.messages == []  # no reply was read: the connections were dropped first

    sink.accept()
    fresh = start(env, "worker")
    try:
        # Well within the 30 s lease: the stopped worker ended it.
        await wait_delivered(herald.engine, accepted, timeout=10)
    finally:
        assert "Traceback" not in stop(fresh)
    assert_delivered_once(herald.engine, sink, accepted)


async def test_sigterm_during_a_database_outage_leaves_the_outcomes_to_the_journal(
    private_postgres: PrivateCluster,
    redis_url: str,
    dns_server: DNSServer,
    smtp_port: int,
    smtp_server_factory: SMTPServerFactory,
    tmp_path: Path,
) -> None:
    """The server said 250 but the database is down: the worker still exits 0 (past its
    timeout, it gives up waiting), and the next worker records the outcomes from the
    journal instead of sending the messages again."""
    env = {
        **outage_env(private_postgres.url, redis_url, dns_server, smtp_port, tmp_path),
        "HERALD_WORKER_CONCURRENCY": str(CONCURRENCY),
        "HERALD_SHUTDOWN_TIMEOUT": "1s",
    }
    herald = Herald(load_settings(env, env_file=Path("/nonexistent")), dns_server)
    try:
        async with AsyncTestClient(create_app(herald.settings)) as api:
            with herald.serving(api):
                accepted = await _accept(herald, api)
        sink = smtp_server_factory("127.0.0.2", stalls={"data_end": 1.0})
        worker = start(env, "worker")
        while len(sink.unacknowledged) < CONCURRENCY:
            assert worker.poll() is None, worker.communicate()
            await asyncio.sleep(0.02)
        private_postgres.stop("fast")
        await asyncio.to_thread(sink.wait_for, CONCURRENCY, 10)  # 250 to each
        await asyncio.sleep(0.5)  # the outcomes wait for the database
        worker.send_signal(signal.SIGTERM)
        code, err = await asyncio.to_thread(_exit_code, worker, 15)
        assert code == 0, err
        assert "records them from the journal" in err, err[-3000:]

        private_postgres.start()
        herald.engine.dispose()
        sink.accept()
        fresh = start(env, "worker")
        try:
            await wait_delivered(herald.engine, accepted, timeout=15)
        finally:
            errors = stop(fresh)
        assert "took over the journal" in errors, errors[-3000:]
    finally:
        await herald.close()
    assert_delivered_once(herald.engine, sink, accepted)


@pytest.mark.parametrize("command", ["worker", "webhooks-worker"])
def test_an_idle_worker_exits_at_once(settings_env: dict[str, str], command: str) -> None:
    """Waiting for a job (and with rq's command channel open), it stops within seconds."""
    worker = start(settings_env, command)
    time.sleep(3)  # started: waiting on Redis
    assert worker.poll() is None, worker.communicate()
    signalled = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    code, err = _exit_code(worker, 10)
    assert code == 0, err
    assert time.monotonic() - signalled < 5, "the worker waits on Redis a second at a time"
