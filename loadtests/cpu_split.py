"""Where the CPU goes per delivered message: API, workers, PostgreSQL, Redis, sink, load.

    .venv/bin/python -m loadtests.cpu_split [--seconds 15] [--runs 3]

Starts Herald as the benchmark does (2 API processes, 2 delivery workers, PostgreSQL,
Redis with AOF, smtp-sink), saturates it with closed-model clients for ``--seconds``,
waits until every accepted message has reached the sink, and divides the CPU time each
process group used (``/proc/<pid>/stat``: user + system) by the messages delivered.
CPU time per message hardly depends on what else the machine is doing, unlike rates.
PostgreSQL is the machine's server, so its figure includes anything else it served.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from loadtests.herald_stack import HeraldStack
from loadtests.loadgen import Sender, saturate
from loadtests.procs import children

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def named(command: str) -> list[int]:
    """The pids whose command name is ``command``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == command:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def groups(stack: HeraldStack) -> dict[str, list[int]]:
    """The process groups to account, by name."""
    assert stack.api is not None
    assert stack.redis is not None
    return {
        "api": children(stack.api.pid) or [stack.api.pid],
        "workers": [w.pid for w in stack.workers],
        "postgres": named("postgres"),
        "redis": [stack.redis.pid],
        "sink": [stack.sink.pid],
        "loadgen": [os.getpid()],
    }


def snapshot(members: dict[str, list[int]]) -> dict[int, float]:
    """CPU seconds per process now."""
    return {pid: cpu_seconds(pid) for pids in members.values() for pid in pids}


def cpu_since(before: dict[int, float], members: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds each group used since the ``before`` snapshot (new processes in full)."""
    after = snapshot(members)
    return {
        name: sum(after[pid] - before.get(pid, 0.0) for pid in pids)
        for name, pids in members.items()
    }


def one_run(
    seconds: float, concurrency: int, api_workers: int = 2, delivery_workers: int = 2
) -> dict[str, float]:
    """Milliseconds of CPU per delivered message, per group, for one saturation run."""
    work = Path(tempfile.mkdtemp(prefix="herald-cpu-"))
    work.chmod(0o755)
    stack = HeraldStack(work, api_workers, delivery_workers)
    try:
        before = snapshot(groups(stack))
        sender = Sender(
            stack.base_url, stack.tenant.api_key, f"bench@{stack.tenant.domain}", concurrency
        )

        async def load() -> int:
            result = await saturate(sender, "cpu", 10**6, concurrency, seconds)
            await sender.close()
            return result.accepted

        accepted = asyncio.run(load())
        deadline = time.monotonic() + 120
        while stack.sink.count < accepted and time.monotonic() < deadline:
            time.sleep(0.2)
        used = cpu_since(before, groups(stack))  # groups again: PostgreSQL forks per connection
        delivered = stack.sink.count
        assert stack.redis is not None
        commands = stack.redis.command_calls()
    finally:
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)
    split = {name: seconds * 1000 / delivered for name, seconds in used.items()}
    split["total"] = sum(split.values())
    split["delivered"] = delivered
    split["redis_cmds"] = sum(commands.values()) / delivered
    split["jobs"] = commands.get("rpush", 0) + commands.get("lpush", 0)
    return split


def main() -> None:
    """Run, print each run and the medians."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--delivery-workers", type=int, default=2)
    args = parser.parse_args()
    runs = [
        one_run(args.seconds, args.concurrency, args.api_workers, args.delivery_workers)
        for _ in range(args.runs)
    ]
    names = list(runs[0])
    print(f"{'ms CPU per delivered message':<28}" + "".join(f"{n:>11}" for n in names))
    for index, run in enumerate(runs, 1):
        print(f"run {index:<24}" + "".join(f"{run[n]:>11.2f}" for n in names))
    medians = {n: statistics.median(run[n] for run in runs) for n in names}
    print(f"{'median':<28}" + "".join(f"{medians[n]:>11.2f}" for n in names))
    print("redis_cmds: Redis commands per message; jobs: rq jobs pushed")


if __name__ == "__main__":
    main()
