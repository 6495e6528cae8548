"""Batch send against single sends: accepted messages per second of one API core.

    .venv/bin/python -m loadtests.batch_bench --rounds 3 --seconds 8 [--size 100 --size 500]

Starts one :class:`~loadtests.herald_stack.HeraldStack` (throw-away PostgreSQL database,
private Redis, a tenant with a verified domain) with a single API process and no delivery
workers, and pins that API process to one core (the load generator, PostgreSQL and Redis
use the others). Then, in each round, one closed-model phase per mode, in turn, against the
same process: single ``POST /v1/messages`` requests from ``--clients`` clients, and
``POST /v1/messages/batch`` with each ``--size`` messages per batch from
``--batch-clients`` clients. Every message is the ~3 KB one-recipient message of
:mod:`loadtests.loadgen`. Per phase: accepted messages/s, and the API's CPU milliseconds
per accepted message (``/proc``, user + system), whose inverse is the messages one API
core accepts per second when it is the bottleneck. Prints every round, the medians and
each batch size's median ratio to single sends.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from loadtests.cpu_split import cpu_seconds
from loadtests.herald_stack import HeraldStack
from loadtests.http1 import Pool
from loadtests.loadgen import Sender, recipient, saturate, send_body
from loadtests.procs import children

WARM_UP_SECONDS = 2.0


class _Answer(msgspec.Struct):
    accepted: int


class BatchPoster:
    """Closed-model clients posting batches of ``size`` messages."""

    def __init__(self, base_url: str, api_key: str, sender: str, connections: int) -> None:
        url = urlsplit(base_url)
        assert url.hostname is not None
        self.pool = Pool(url.hostname, url.port or 80, connections)
        self.sender = sender
        self._head = (
            f"POST /v1/messages/batch HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Authorization: Bearer {api_key}\r\nContent-Type: application/json\r\n"
            "Content-Length: "
        ).encode()

    def request(self, prefix: str, start: int, size: int) -> bytes:
        """One batch of ``size`` messages, numbered from ``start``."""
        items = b",".join(
            send_body(self.sender, recipient(prefix, i), i) for i in range(start, start + size)
        )
        body = b'{"messages":[%s]}' % items
        return b"%s%d\r\n\r\n%s" % (self._head, len(body), body)

    async def saturate(self, prefix: str, size: int, clients: int, seconds: float) -> int:
        """Messages accepted by ``clients`` posting batches back to back for ``seconds``."""
        accepted = 0
        batches = iter(range(10**9))
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal accepted
            for batch in batches:
                if time.perf_counter() > deadline:
                    return
                status, body = await self.pool.request(self.request(prefix, batch * size, size))
                if status != 200:
                    raise RuntimeError(f"batch answered {status}: {body[:300]!r}")
                accepted += msgspec.json.decode(body, type=_Answer).accepted

        await asyncio.gather(*(client() for _ in range(clients)))
        return accepted

    async def close(self) -> None:
        """Close the connections."""
        await self.pool.close()


def api_pids(stack: HeraldStack) -> list[int]:
    """The API process doing the work (uvicorn's worker, or the server itself)."""
    assert stack.api is not None
    return children(stack.api.pid) or [stack.api.pid]


async def rounds(stack: HeraldStack, args: argparse.Namespace) -> list[dict[str, float]]:
    """Every round's figures: ``<mode> msg/s`` and ``<mode> API CPU ms/msg``."""
    sender_address = f"bench@{stack.tenant.domain}"
    single = Sender(stack.base_url, stack.tenant.api_key, sender_address, args.clients)
    batch = BatchPoster(stack.base_url, stack.tenant.api_key, sender_address, args.batch_clients)
    pids = api_pids(stack)
    results: list[dict[str, float]] = []
    try:
        await saturate(single, "warm", 10**9, args.clients, WARM_UP_SECONDS)
        await batch.saturate("warmb", args.size[0], args.batch_clients, WARM_UP_SECONDS)
        for number in range(args.rounds):
            figures: dict[str, float] = {}
            for mode in ["single", *(f"batch {n}" for n in args.size)]:
                prefix = f"r{number}{mode.replace(' ', '')}-"
                cpu_before = sum(map(cpu_seconds, pids))
                started = time.perf_counter()
                if mode == "single":
                    result = await saturate(single, prefix, 10**9, args.clients, args.seconds)
                    accepted = result.accepted
                else:
                    size = int(mode.split()[1])
                    accepted = await batch.saturate(prefix, size, args.batch_clients, args.seconds)
                elapsed = time.perf_counter() - started
                cpu = sum(map(cpu_seconds, pids)) - cpu_before
                figures[f"{mode} msg/s"] = accepted / elapsed
                figures[f"{mode} API CPU ms/msg"] = 1000 * cpu / max(accepted, 1)
            results.append(figures)
            print(f"round {number + 1} done", flush=True)
    finally:
        await single.close()
        await batch.close()
    return results


def main() -> None:
    """Start the stack, pin the API, run the rounds, print them with medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0, help="per phase")
    parser.add_argument("--clients", type=int, default=32, help="single sends, closed loop")
    parser.add_argument("--batch-clients", type=int, default=4, help="batches, closed loop")
    parser.add_argument("--size", type=int, action="append", help="messages per batch (repeat)")
    parser.add_argument("--core", type=int, default=1, help="the core the API is pinned to")
    args = parser.parse_args()
    args.size = args.size or [100, 500]
    stack = HeraldStack(Path(tempfile.gettempdir()), api_workers=1, delivery_workers=0)
    try:
        for pid in api_pids(stack):
            os.sched_setaffinity(pid, {args.core})
        runs = asyncio.run(rounds(stack, args))
    finally:
        stack.stop()
    width = max(map(len, runs[0])) + 2
    labels = [f"round {i}" for i in range(1, len(runs) + 1)] + ["median"]
    print(" " * width + "".join(f"{label:>10}" for label in labels))
    medians = {}
    for name in runs[0]:
        values = [run[name] for run in runs]
        medians[name] = statistics.median(values)
        print(f"{name:<{width}}" + "".join(f"{v:>10.2f}" for v in [*values, medians[name]]))
    for n in args.size:
        rate = medians[f"batch {n} msg/s"] / medians["single msg/s"]
        per_core = medians["single API CPU ms/msg"] / medians[f"batch {n} API CPU ms/msg"]
        print(f"batch {n} / single: {rate:.2f}x msg/s, {per_core:.2f}x msg per API CPU second")


if __name__ == "__main__":
    main()
