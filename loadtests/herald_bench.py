"""One benchmark run of Herald: latency at a fixed offered load, then saturation to the sink.

1. open model at ``rate`` msg/s for ``duration`` s: p50/p99 of the API's answers;
2. wait until those messages are at the sink;
3. closed model, ``messages`` messages: accepted msg/s (first POST to last 202) and end to
   end msg/s (first POST to the last message at the sink);
4. every message of both phases at the sink exactly once, RSA and Ed25519 signatures valid.
"""

from __future__ import annotations

import asyncio
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
    time_limit: float = 60.0  # per phase: submitting, and waiting for the sink
    max_in_flight: int = 256  # open model: sends beyond this are counted as not started


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
    errors: int
    not_started: int
    complete: bool
    api_rss_mb: float
    worker_rss_mb: float
    redis_bytes_per_queued: float
    verdict: Verdict


async def _phases(
    stack: HeraldStack, options: HeraldOptions
) -> tuple[PhaseResult, PhaseResult, float, bool, float, int]:
    sender = Sender(
        stack.base_url, stack.tenant.api_key, f"bench@{stack.tenant.domain}", options.concurrency
    )
    open_sender = Sender(
        stack.base_url, stack.tenant.api_key, f"bench@{stack.tenant.domain}", options.max_in_flight
    )
    loop = asyncio.get_running_loop()
    try:
        latency = await offered(
            open_sender, "lat", options.rate, options.duration, options.max_in_flight
        )
        await open_sender.close()
        await loop.run_in_executor(None, stack.sink.wait_for, latency.accepted, options.time_limit)
        before = stack.sink.count
        redis_before = stack.redis.used_memory() if stack.redis else 0
        saturation = await saturate(
            sender, "sat", options.messages, options.concurrency, options.time_limit
        )
        # Queued (not yet delivered) at the end of submission: Redis bytes per waiting job.
        waiting = saturation.accepted - (stack.sink.count - before)
        redis_after = stack.redis.used_memory() if stack.redis else 0
        per_queued = (redis_after - redis_before) / waiting if waiting > 100 else float("nan")
        complete = await loop.run_in_executor(
            None, stack.sink.wait_for, before + saturation.accepted, options.time_limit
        )
        arrived = stack.sink.last_arrival
        delivered = min(max(stack.sink.count - before, 0), saturation.accepted)
        await loop.run_in_executor(None, stack.sink.wait_quiet, 1.0, 10.0)
        return latency, saturation, arrived, complete, per_queued, delivered
    finally:
        await sender.close()


def run_herald(work: Path, options: HeraldOptions) -> HeraldResult:
    """Start Herald, run both phases, verify what arrived, stop everything."""
    work.mkdir(parents=True, exist_ok=True)
    stack = HeraldStack(work, options.api_workers, options.delivery_workers)
    try:
        assert stack.api is not None
        groups = {"api": [stack.api.pid], "worker": [w.pid for w in stack.workers]}
        with RssSampler(groups) as rss:
            latency, saturation, arrived, complete, per_queued, delivered = asyncio.run(
                _phases(stack, options)
            )
        if not complete:
            print(f"  herald: not all delivered in time\n{stack.log_tail()}", flush=True)
        verdict = verify_dumps(
            stack.sink.dumps(),
            latency.recipients + saturation.recipients,
            stack.tenant.records,
            REQUIRED_SIGNATURES,
            uncertain=latency.uncertain + saturation.uncertain,
        )
        span = arrived - saturation.first_send
        return HeraldResult(
            messages=options.messages,
            accepted=saturation.accepted,
            delivered=delivered,
            accepted_per_s=saturation.accepted_per_s,
            delivered_per_s=delivered / span if span > 0 else 0.0,
            p50_ms=latency.percentile(50) * 1000,
            p99_ms=latency.percentile(99) * 1000,
            offered_rate=options.rate,
            latency_failures=status_summary(latency),
            saturation_failures=status_summary(saturation),
            errors=latency.failures + saturation.failures,
            not_started=latency.skipped,
            complete=complete and not saturation.timed_out,
            api_rss_mb=rss.peak["api"] / 2**20,
            worker_rss_mb=rss.peak["worker"] / 2**20,
            redis_bytes_per_queued=per_queued,
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
