"""One benchmark run of Herald: latency at a fixed offered load, then saturation to the sink.

0. warm-up: ``warmup`` messages at saturation, delivered, not measured;
1. open model at ``rate`` msg/s for ``duration`` s: p50/p99 of the API's answers;
2. wait until those messages are at the sink;
3. closed model, ``messages`` messages: accepted msg/s (first POST to last 202) and end to
   end msg/s (first POST to the last message at the sink);
4. backlog: the delivery workers paused (SIGSTOP), ``backlog`` more messages sent the same
   way; Redis memory grown per waiting message; the workers resumed and the backlog
   delivered;
5. every message of all phases at the sink exactly once, RSA and Ed25519 signatures valid.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import msgspec

from loadtests.herald_stack import HeraldStack
from loadtests.loadgen import PhaseResult, Sender, offered, saturate, status_summary
from loadtests.procs import RssSampler
from loadtests.verify import Verdict, verify_dumps

REQUIRED_SIGNATURES = ("rsa-sha256", "ed25519-sha256")


class HeraldOptions(msgspec.Struct, frozen=True):
    """Knobs of a Herald run."""

    messages: int = 20_000
    concurrency: int = 64
    rate: float = 500.0
    duration: float = 10.0
    api_workers: int = 2
    delivery_workers: int = 2
    worker_nice: int = 0  # `herald worker --nice`: the API gets the CPU first
    time_limit: float = 60.0  # per phase: submitting, and waiting for the sink
    max_in_flight: int = 256  # open model: sends beyond this are counted as not started
    backlog: int = 2_000  # messages queued while the workers are paused (Redis bytes)
    warmup: int = 1_000  # messages sent and delivered before the latency phase


class HeraldResult(msgspec.Struct, frozen=True):
    """One run of Herald."""

    messages: int
    accepted: int
    delivered: int
    accepted_per_s: float
    delivered_per_s: float
    p50_ms: float
    p99_ms: float
    offered_rate: float
    latency_failures: str
    saturation_failures: str
    backlog_failures: str
    errors: int
    not_started: int
    complete: bool
    api_rss_mb: float
    worker_rss_mb: float
    redis_bytes_per_queued: float
    verdict: Verdict


class _Phases(msgspec.Struct):
    warmup: PhaseResult
    latency: PhaseResult
    saturation: PhaseResult
    backlog: PhaseResult
    arrived: float  # when the saturation phase's last message reached the sink
    complete: bool
    delivered: int
    redis_bytes_per_queued: float


async def _backlog(
    stack: HeraldStack, sender: Sender, options: HeraldOptions
) -> tuple[PhaseResult, float]:
    """Send ``options.backlog`` messages with the workers paused: the queue only grows, so
    Redis's growth divided by the messages accepted is its memory per waiting message."""
    assert stack.redis is not None
    for worker in stack.workers:
        os.kill(worker.pid, signal.SIGSTOP)
    try:
        before = stack.redis.used_memory()
        backlog = await saturate(
            sender, "bkl", options.backlog, options.concurrency, options.time_limit
        )
        grown = stack.redis.used_memory() - before
    finally:
        for worker in stack.workers:
            os.kill(worker.pid, signal.SIGCONT)
    per_queued = grown / backlog.accepted if backlog.accepted else float("nan")
    return backlog, per_queued


async def _phases(stack: HeraldStack, options: HeraldOptions) -> _Phases:
    sender = Sender(
        stack.base_url, stack.tenant.api_key, f"bench@{stack.tenant.domain}", options.concurrency
    )
    open_sender = Sender(
        stack.base_url, stack.tenant.api_key, f"bench@{stack.tenant.domain}", options.max_in_flight
    )
    loop = asyncio.get_running_loop()
    try:
        # Warm-up, not measured: connection pools, caches and the first use of the key in
        # each API process, as in a service that has been running for a while.
        warmup = await saturate(
            sender, "wrm", options.warmup, options.concurrency, options.time_limit
        )
        await loop.run_in_executor(None, stack.sink.wait_for, warmup.accepted, options.time_limit)
        latency = await offered(
            open_sender, "lat", options.rate, options.duration, options.max_in_flight
        )
        await open_sender.close()
        await loop.run_in_executor(
            None, stack.sink.wait_for, warmup.accepted + latency.accepted, options.time_limit
        )
        before = stack.sink.count
        saturation = await saturate(
            sender, "sat", options.messages, options.concurrency, options.time_limit
        )
        complete = await loop.run_in_executor(
            None, stack.sink.wait_for, before + saturation.accepted, options.time_limit
        )
        arrived = stack.sink.last_arrival
        delivered = min(max(stack.sink.count - before, 0), saturation.accepted)
        await loop.run_in_executor(None, stack.sink.wait_quiet, 1.0, 10.0)
        settled = stack.sink.count
        backlog, per_queued = await _backlog(stack, sender, options)
        complete &= await loop.run_in_executor(
            None, stack.sink.wait_for, settled + backlog.accepted, options.time_limit
        )
        await loop.run_in_executor(None, stack.sink.wait_quiet, 1.0, 10.0)
        return _Phases(
            warmup, latency, saturation, backlog, arrived, complete, delivered, per_queued
        )
    finally:
        await sender.close()


def run_herald(work: Path, options: HeraldOptions) -> HeraldResult:
    """Start Herald, run the phases, verify what arrived, stop everything."""
    work.mkdir(parents=True, exist_ok=True)
    stack = HeraldStack(work, options.api_workers, options.delivery_workers, options.worker_nice)
    try:
        assert stack.api is not None
        groups = {"api": [stack.api.pid], "worker": [w.pid for w in stack.workers]}
        with RssSampler(groups) as rss:
            phases = asyncio.run(_phases(stack, options))
        latency, saturation, backlog = phases.latency, phases.saturation, phases.backlog
        phases_sent = (phases.warmup, latency, saturation, backlog)
        if not phases.complete:
            print(f"  herald: not all delivered in time\n{stack.log_tail()}", flush=True)
        verdict = verify_dumps(
            stack.sink.dumps(),
            [recipient for phase in phases_sent for recipient in phase.recipients],
            stack.tenant.records,
            REQUIRED_SIGNATURES,
            uncertain=[recipient for phase in phases_sent for recipient in phase.uncertain],
        )
        span = phases.arrived - saturation.first_send
        return HeraldResult(
            messages=options.messages,
            accepted=saturation.accepted,
            delivered=phases.delivered,
            accepted_per_s=saturation.accepted_per_s,
            delivered_per_s=phases.delivered / span if span > 0 else 0.0,
            p50_ms=latency.percentile(50) * 1000,
            p99_ms=latency.percentile(99) * 1000,
            offered_rate=options.rate,
            latency_failures=status_summary(latency),
            saturation_failures=status_summary(saturation),
            backlog_failures=status_summary(backlog),
            errors=sum(phase.failures for phase in phases_sent),
            not_started=latency.skipped,
            complete=phases.complete and not (saturation.timed_out or backlog.timed_out),
            api_rss_mb=rss.peak["api"] / 2**20,
            worker_rss_mb=rss.peak["worker"] / 2**20,
            redis_bytes_per_queued=phases.redis_bytes_per_queued,
            verdict=verdict,
        )
    finally:
        stack.stop()


def main() -> None:  # pragma: no cover - manual entry point
    """Run Herald alone once with the quick settings (for iterating on the harness)."""
    import sys

    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    start = time.perf_counter()
    result = run_herald(Path("/tmp/herald-bench"), HeraldOptions(messages=messages, duration=4))
    print(msgspec.json.format(msgspec.json.encode(result)).decode())
    print(result.verdict.summary(), f"({time.perf_counter() - start:.0f}s)")


if __name__ == "__main__":
    main()
