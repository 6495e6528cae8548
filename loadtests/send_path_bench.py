"""Send path: what ``herald api --workers 2`` on PostgreSQL accepts, with no delivery behind it.

    .venv/bin/python -m loadtests.send_path_bench --runs 3 --seconds 10 [--rate 100 --rate 500]

Each run starts a fresh :class:`~loadtests.herald_stack.HeraldStack` (throw-away PostgreSQL
database, private Redis with AOF ``everysec``, a tenant with a verified domain) without
delivery workers, so the jobs just wait in Redis. After a 2 s warm-up it measures, with the
lean client of :mod:`loadtests.loadgen`:

* **fixed load**, for each ``--rate`` (default 100 and 500 requests/s): an open model for
  ``--seconds``; latency p50, p99 and max from each request's *scheduled* start (no
  coordinated omission);
* **saturation**: ``--clients`` closed-loop clients for ``--seconds``; accepted (202)
  messages/s and the CPU milliseconds per accepted message of the API processes (the
  children of uvicorn's supervisor), PostgreSQL, Redis and the load generator itself;

plus the peak RSS of any one API process over the run. Non-202 answers and transport errors
are counted, and at a fixed rate the sends not started because 1000 were in flight (an
overloaded API; they have no latency, so the percentiles then understate). PostgreSQL is
the machine's server, so its CPU includes anything else it served meanwhile. Prints every
run and the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

from loadtests.cpu_split import cpu_since, groups, snapshot
from loadtests.herald_stack import HeraldStack
from loadtests.loadgen import PhaseResult, Sender, offered, saturate
from loadtests.procs import RssSampler

WARM_UP_SECONDS = 2.0
MAX_CONNECTIONS = 256  # the open model opens more when answers are slow: part of the latency
ACCOUNTED = {"api": "API", "postgres": "PostgreSQL", "redis": "Redis", "loadgen": "load gen"}


def non_202(result: PhaseResult) -> int:
    """Answers other than 202 and transport errors."""
    return result.sent - result.statuses.get("202", 0)


async def measure(stack: HeraldStack, args: argparse.Namespace) -> dict[str, float]:
    """The figures of one run against a started stack."""
    sender = Sender(
        stack.base_url,
        stack.tenant.api_key,
        f"bench@{stack.tenant.domain}",
        max(args.clients, MAX_CONNECTIONS),
    )
    figures: dict[str, float] = {}
    try:
        await saturate(sender, "warm", 10**9, args.clients, WARM_UP_SECONDS)
        for rate in args.rate:
            result = await offered(sender, f"rate{rate:g}-", rate, args.seconds)
            figures |= {
                f"p50 ms at {rate:g}/s": 1000 * result.percentile(50),
                f"p99 ms at {rate:g}/s": 1000 * result.percentile(99),
                f"max ms at {rate:g}/s": 1000 * max(result.latencies, default=float("nan")),
                f"non-202 at {rate:g}/s": non_202(result),
                f"no answer at {rate:g}/s": sum(result.errors.values()),
                f"not started at {rate:g}/s": result.skipped,  # too many in flight
            }
        before = snapshot(groups(stack))
        result = await saturate(sender, "saturate", 10**9, args.clients, args.seconds)
        used = cpu_since(before, groups(stack))  # again: PostgreSQL forks per connection
    finally:
        await sender.close()
    accepted = max(result.accepted, 1)
    return {
        "accepted msg/s (saturation)": result.accepted_per_s,
        "non-202 (saturation)": non_202(result),
        "no answer (saturation)": sum(result.errors.values()),
        **{f"CPU ms/msg {label}": 1000 * used[g] / accepted for g, label in ACCOUNTED.items()},
        **figures,
    }


def one_run(args: argparse.Namespace) -> dict[str, float]:
    """Start a stack, measure, stop it."""
    stack = HeraldStack(Path(tempfile.gettempdir()), api_workers=2, delivery_workers=0)
    try:
        assert stack.api is not None
        with RssSampler({"api": [stack.api.pid]}) as rss:
            figures = asyncio.run(measure(stack, args))
        return {**figures, "peak MB RSS of an API process": rss.peak["api"] / 2**20}
    finally:
        stack.stop()


def main() -> None:
    """Run, print every run and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase")
    parser.add_argument("--clients", type=int, default=64, help="closed-loop, at saturation")
    parser.add_argument(
        "--rate", type=float, action="append", help="offered requests/s; repeat (100, 500)"
    )
    args = parser.parse_args()
    args.rate = args.rate or [100.0, 500.0]
    runs = []
    for index in range(1, args.runs + 1):
        runs.append(one_run(args))
        print(f"run {index} done", file=sys.stderr, flush=True)
    width = max(map(len, runs[0]))
    labels = [f"run {i}" for i in range(1, len(runs) + 1)] + ["median"]
    print(" " * width + "".join(f"{label:>10}" for label in labels))
    for name in runs[0]:
        values = [run[name] for run in runs] + [statistics.median(run[name] for run in runs)]
        print(f"{name:<{width}}" + "".join(f"{value:>10.2f}" for value in values))


if __name__ == "__main__":
    main()
