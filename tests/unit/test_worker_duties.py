"""A worker's periodic duties: what each process runs, how often, and how the scheduler
runs them (on the loop or on the duty thread, through failures, until it stops)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from herald_queue.blocklist_checker import Rotation
from herald_queue.duties import delivery_worker_duties, webhook_worker_duties
from herald_queue.scheduler import Duty, Scheduler
from herald_queue.shaping import Shaper
from herald_service.core.shaping import DEFAULT_RULES
from herald_service.reputation.cooldowns import CooldownBook
from herald_service.settings import load_settings


def _runtime(**environ: str) -> Any:
    """What the duty declarations read from a runtime (no engine, no connection)."""
    settings = load_settings({"HERALD_SECRET_KEY": "x", **environ}, env_file=Path("/x"))
    capture = settings.delivery_mode == "capture"
    return SimpleNamespace(
        settings=settings,
        sessions=object(),
        sync_sessions=object(),
        cooldowns=CooldownBook(),
        shaper=None if capture else Shaper(DEFAULT_RULES, settings.redis_url),
        source_ips=SimpleNamespace(excluded=frozenset) if settings.sending_ips else None,
    )


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {},
            [
                ("sweep", 1.0, True),
                ("domain re-check", 30.0, False),
                ("destination cool-downs", 5.0, False),
                ("halved destinations", 5.0, False),
                ("retention", 300.0, False),
            ],
        ),
        (
            {
                "HERALD_SWEEP_INTERVAL": "5s",
                "HERALD_DOMAIN_CHECK_INTERVAL": "10s",
                "HERALD_RETENTION_INTERVAL": "0",
            },
            [
                ("sweep", 5.0, True),
                ("domain re-check", 10.0, False),
                ("destination cool-downs", 5.0, False),
                ("halved destinations", 5.0, False),
            ],
        ),
        (
            {"HERALD_DELIVERY_MODE": "capture", "HERALD_RETENTION_INTERVAL": "2s"},
            [("sweep", 1.0, True), ("retention", 2.0, False)],
        ),
        (
            {
                "HERALD_SENDING_IPS": "127.0.0.10",
                "HERALD_DNSBL_ZONES": "zen.test",
                "HERALD_RETENTION_INTERVAL": "0",
            },
            [
                ("sweep", 1.0, True),
                ("domain re-check", 30.0, False),
                ("destination cool-downs", 5.0, False),
                ("blocklist checks", 60.0, False),
                ("halved destinations", 5.0, False),
            ],
        ),
        (
            {
                "HERALD_SENDING_IPS": "127.0.0.10",
                "HERALD_DNSBL_ZONES": "zen.test",
                "HERALD_DNSBL_INTERVAL": "20s",
                "HERALD_DELIVERY_MODE": "capture",
                "HERALD_RETENTION_INTERVAL": "0",
            },
            [("sweep", 1.0, True)],
        ),
        (
            {"HERALD_DNSBL_ZONES": "zen.test", "HERALD_RETENTION_INTERVAL": "0"},
            [
                ("sweep", 1.0, True),
                ("domain re-check", 30.0, False),
                ("destination cool-downs", 5.0, False),
                ("halved destinations", 5.0, False),
            ],
        ),
    ],
)
def test_delivery_worker_duties(environ: dict[str, str], expected: list[object]) -> None:
    duties = delivery_worker_duties(_runtime(**environ), queue=None)  # type: ignore[arg-type]
    assert [(d.name, d.every, d.blocking) for d in duties] == expected


def test_blocklist_checks_feed_the_ip_choosers_rotation() -> None:
    runtime = _runtime(HERALD_SENDING_IPS="127.0.0.10", HERALD_DNSBL_ZONES="zen.test")
    delivery_worker_duties(runtime, queue=None)  # type: ignore[arg-type]
    assert isinstance(runtime.source_ips.excluded, Rotation)
    assert runtime.source_ips.excluded() == frozenset()


@pytest.mark.parametrize(("environ", "every"), [({}, 1.0), ({"HERALD_SWEEP_INTERVAL": "3s"}, 3.0)])
def test_webhook_worker_duties(environ: dict[str, str], every: float) -> None:
    duties = webhook_worker_duties(_runtime(**environ), queue=None)  # type: ignore[arg-type]
    assert [(d.name, d.every, d.blocking) for d in duties] == [("webhook dispatch", every, True)]


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-loop", daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def _wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert condition()


def test_duties_run_on_the_loop_or_the_duty_thread(loop: asyncio.AbstractEventLoop) -> None:
    threads: dict[str, set[str]] = {"async": set(), "blocking": set()}

    async def on_loop() -> None:
        threads["async"].add(threading.current_thread().name)

    def blocking() -> None:
        threads["blocking"].add(threading.current_thread().name)

    scheduler = Scheduler()
    scheduler.add(Duty("async", 0.01, on_loop), Duty("blocking", 0.01, blocking, blocking=True))
    scheduler.start(loop)
    _wait_for(lambda: threads["async"] and threads["blocking"])
    scheduler.stop()
    assert threads["async"] == {"test-loop"}
    assert all(name.startswith("herald-duty") for name in threads["blocking"])


def test_a_failed_round_is_retried_and_stop_ends_every_duty(
    loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    rounds: list[float] = []

    def flaky() -> None:
        rounds.append(time.monotonic())
        if len(rounds) == 1:
            raise RuntimeError("database away")

    scheduler = Scheduler()
    scheduler.add(Duty("flaky duty", 0.01, flaky, blocking=True))
    scheduler.start(loop)
    _wait_for(lambda: len(rounds) >= 3)
    scheduler.stop()
    assert "flaky duty failed; retrying" in caplog.text
    stopped_at = len(rounds)
    time.sleep(0.1)
    assert len(rounds) == stopped_at


def test_first_after_delays_the_first_round_and_late_duties_start_at_once(
    loop: asyncio.AbstractEventLoop,
) -> None:
    ran: list[str] = []
    scheduler = Scheduler()
    scheduler.add(Duty("later", 60.0, lambda: ran.append("later"), first_after=60.0))
    scheduler.start(loop)
    scheduler.add(Duty("added", 60.0, lambda: ran.append("added")))
    _wait_for(lambda: ran)
    time.sleep(0.05)
    scheduler.stop()
    assert ran == ["added"]
    assert scheduler.names() == ["later", "added"]


@pytest.mark.parametrize(("interval", "first"), [("5m", 60.0), ("2s", 2.0)])
def test_retention_first_prunes_one_interval_but_at_most_a_minute_after_start(
    interval: str, first: float
) -> None:
    runtime = _runtime(HERALD_RETENTION_INTERVAL=interval)
    duties = delivery_worker_duties(runtime, queue=None)  # type: ignore[arg-type]
    assert [d.first_after for d in duties if d.name == "retention"] == [first]
