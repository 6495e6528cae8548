"""SMTP submission: Postfix's ``smtp-source`` against ``herald submission`` and against
Postfix + OpenDKIM, in one run.

    .venv/bin/python -m loadtests.submission_bench              # 3 runs of 2,000 messages
    .venv/bin/python -m loadtests.submission_bench --quick      # 1 run of 500 messages

Each run loads both stacks alike, the order alternating between runs: ``smtp-source -s
SESSIONS -m N -d -N -F <3 KB message>`` (sessions kept open, a recipient per message).

* Herald: :class:`~loadtests.herald_stack.HeraldStack` (PostgreSQL, Redis with AOF, the
  test DNS giving ``smtp-sink`` as the recipients' MX, one idle API process, the delivery
  workers) plus ``herald submission`` on 127.0.0.1 trusting loopback as the tenant's key
  (``smtp-source`` cannot AUTH; the peer's Postfix trusts loopback by ``mynetworks``);
* the peer: :func:`loadtests.peer.run_peer`, Postfix with OpenDKIM (RSA-2048) as a milter
  on a unix socket, relaying to its own ``smtp-sink``.

Each stack first delivers ``--warmup`` messages, untimed. Accepted msg/s: N over
``smtp-source``'s run time (Herald answers DATA only after the durable commit). Delivered:
N over first connection to N-th message at the sink. Every message must arrive once with
valid signatures (Herald: RSA and Ed25519; peer: RSA). Also shown: the machine's busy CPU
per message, and Herald's per process group. Everything listens on 127.0.0.1. Exit
status 1 if any message was lost, duplicated or badly signed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from herald_service.submission.certificates import write_self_signed
from loadtests.cpu_split import cpu_since, named, snapshot
from loadtests.herald_bench import REQUIRED_SIGNATURES
from loadtests.herald_stack import HeraldStack
from loadtests.peer import (
    WARM_RECIPIENT,
    PeerResult,
    ensure_installed,
    message_file,
    run_peer,
    smtp_source,
    source_recipients,
    stop_system_services,
)
from loadtests.procs import children, machine_busy
from loadtests.profile_api import py_spy_record, summarize
from loadtests.run_benchmark import machine
from loadtests.sink import free_port, wait_port
from loadtests.verify import verify_dumps

TARGET = 1.5  # Herald's delivered msg/s over the peer's, issue 21


class Options(msgspec.Struct, frozen=True):
    """Knobs of a run."""

    messages: int
    sessions: int
    warmup: int  # untimed messages each stack delivers first
    delivery_workers: int
    time_limit: float  # seconds for the sink to receive everything
    profile: Path | None = None  # py-spy's collapsed stacks of the submission process


class Run(msgspec.Struct, frozen=True):
    """One run: both stacks, and Herald's CPU milliseconds per message by process group."""

    herald: PeerResult
    peer: PeerResult
    herald_cpu_ms: dict[str, float]
    load_average: tuple[float, float]  # 1-minute load average at the start and the end


def _start_submission(stack: HeraldStack) -> int:
    """Start ``herald submission`` on 127.0.0.1 with a self-signed certificate and the
    tenant's key trusted from loopback; return its plain (STARTTLS) port once it listens."""
    cert, key = stack.directory / "submission.crt", stack.directory / "submission.key"
    write_self_signed(cert, key, "localhost")
    port, tls_port = free_port(), free_port()
    env = {
        "HERALD_SUBMISSION_CERT_FILE": str(cert),
        "HERALD_SUBMISSION_KEY_FILE": str(key),
        "HERALD_SUBMISSION_TRUSTED_NETWORKS": "127.0.0.0/8",
        "HERALD_SUBMISSION_TRUSTED_KEY": stack.tenant.api_key,
    }
    command = ["submission", "--host", "127.0.0.1", "--port", str(port)]
    process = stack.spawn(*command, "--tls-port", str(tls_port), env=env)
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(RuntimeError):
            wait_port(port, timeout=0.5)
            return port
    raise RuntimeError(f"herald submission exited or not listening:\n{stack.log_tail()}")


def _groups(stack: HeraldStack) -> dict[str, list[int]]:
    """Herald's processes by group, as :mod:`loadtests.cpu_split` accounts them."""
    assert stack.redis is not None
    return {
        "submission": [c for p in stack.others for c in children(p.pid) or [p.pid]],
        "workers": [w.pid for w in stack.workers],
        "postgres": named("postgres"),
        "redis": [stack.redis.pid],
        "sink": [stack.sink.pid],
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_herald(work: Path, options: Options) -> tuple[PeerResult, dict[str, float]]:
    """One Herald run: the stack and ``herald submission`` started, a warm-up, the
    messages timed, every message verified; the result and CPU ms per message by group."""
    work.mkdir(parents=True, exist_ok=True)
    messages, warmup, limit = options.messages, options.warmup, options.time_limit
    stack = HeraldStack(work, api_workers=1, delivery_workers=options.delivery_workers)
    try:
        port = _start_submission(stack)
        sender = f"bench@{stack.tenant.domain}"
        source = message_file(stack.directory, domain=stack.tenant.domain)
        if warmup:
            smtp_source(port, warmup, options.sessions, source, sender, WARM_RECIPIENT)
            stack.sink.wait_for(warmup, limit)
        before, cpu_before = stack.sink.count, snapshot(_groups(stack))
        pid = stack.others[0].pid
        recorder = py_spy_record(pid, options.profile) if options.profile else None
        load_cpu, busy = _children_cpu(), machine_busy()
        start = time.perf_counter()
        smtp_source(port, messages, options.sessions, source, sender)
        submitted = time.perf_counter()
        if recorder is not None:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(30)
        load_cpu = _children_cpu() - load_cpu
        complete = stack.sink.wait_for(before + messages, limit)
        arrived, busy = stack.sink.last_arrival, machine_busy() - busy
        cpu = cpu_since(cpu_before, _groups(stack))
        delivered = min(stack.sink.count - before, messages)
        stack.sink.wait_quiet(1.0, timeout=10)
        if not complete:
            print(f"  herald: {delivered}/{messages} delivered\n{stack.log_tail()}", flush=True)
        expected = source_recipients(warmup, WARM_RECIPIENT) + source_recipients(messages)
        records = stack.tenant.records
        verdict = verify_dumps(stack.sink.dumps(), expected, records, REQUIRED_SIGNATURES)
    finally:
        stack.stop()
    cpu["smtp-source"] = load_cpu
    cpu_ms = {name: seconds * 1000 / messages for name, seconds in cpu.items()}
    cpu_ms["total"] = sum(cpu_ms.values())
    result = PeerResult(
        variant="herald submission",
        messages=messages,
        accepted_per_s=messages / (submitted - start),
        delivered_per_s=delivered / (arrived - start) if arrived > start else 0.0,
        submit_seconds=submitted - start,
        e2e_seconds=arrived - start,
        verdict=verdict,
        machine_cpu_ms=busy * 1000 / messages,
    )
    return result, cpu_ms


def _parse() -> tuple[Options, int, Path | None]:
    """The run's options, the number of runs and the JSON file, from the command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 run of 500 messages")
    parser.add_argument("--messages", type=int, help="messages per stack and run (2000)")
    parser.add_argument("--sessions", type=int, default=20, help="smtp-source sessions")
    parser.add_argument("--runs", type=int, help="runs (default 3, quick 1)")
    parser.add_argument("--warmup", type=int, help="untimed messages first (200)")
    parser.add_argument("--delivery-workers", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds to deliver")
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy the submission process while run 1 submits (its figures then include "
        "py-spy's cost), write its collapsed stacks here and print the top functions",
    )
    args = parser.parse_args()
    options = Options(
        messages=args.messages or (500 if args.quick else 2000),
        sessions=args.sessions,
        warmup=args.warmup if args.warmup is not None else (100 if args.quick else 200),
        delivery_workers=args.delivery_workers,
        time_limit=args.time_limit,
        profile=args.profile,
    )
    return options, args.runs or (1 if args.quick else 3), args.json


def _ratio(runs: list[Run], figure: Callable[[PeerResult], float]) -> float:
    """The median over runs of Herald's figure divided by the peer's of the same run."""
    return statistics.median(figure(run.herald) / figure(run.peer) for run in runs)


def table(runs: list[Run], options: Options) -> str:
    """The Markdown tables of medians and ratios, and Herald's CPU per message."""
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    loads = [load for run in runs for load in run.load_average]
    e2e = _ratio(runs, lambda r: r.delivered_per_s)
    lines = [
        "",
        f"Medians of {len(runs)} run(s), {date}: smtp-source, {options.sessions} sessions, "
        f"{options.messages} messages of 3 KB per stack (each after {options.warmup} "
        f"untimed); load average {min(loads):.1f}-{max(loads):.1f}.",
        "",
        "| stack | accepted msg/s | delivered e2e msg/s | machine CPU ms/msg |",
        "|---|---:|---:|---:|",
    ]
    for name, results in (
        ("Postfix + OpenDKIM (unix socket)", [run.peer for run in runs]),
        ("Herald submission", [run.herald for run in runs]),
    ):
        accepted = statistics.median(r.accepted_per_s for r in results)
        delivered = statistics.median(r.delivered_per_s for r in results)
        busy = statistics.median(r.machine_cpu_ms for r in results)
        lines.append(f"| {name} | {accepted:.0f} | {delivered:.0f} | {busy:.2f} |")
    lines += [
        f"| Herald / peer | {_ratio(runs, lambda r: r.accepted_per_s):.2f}x | {e2e:.2f}x "
        f"| {_ratio(runs, lambda r: r.machine_cpu_ms):.2f}x |",
        "",
        f"Target: Herald >= {TARGET}x the peer end to end: "
        + ("met." if e2e >= TARGET else "NOT met."),
        "",
    ]
    names = list(runs[0].herald_cpu_ms)
    lines += [
        "| Herald CPU ms per message | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for index, run in enumerate(runs, 1):
        cells = " | ".join(f"{run.herald_cpu_ms[n]:.2f}" for n in names)
        lines.append(f"| run {index} | {cells} |")
    medians = [statistics.median(run.herald_cpu_ms[n] for run in runs) for n in names]
    lines.append("| median | " + " | ".join(f"{m:.2f}" for m in medians) + " |")
    return "\n".join(lines)


def _line(index: int, result: PeerResult) -> str:
    return (
        f"run {index} {result.variant}: accepted {result.accepted_per_s:.0f}/s, "
        f"e2e {result.delivered_per_s:.0f}/s, machine CPU {result.machine_cpu_ms:.2f} ms/msg; "
        f"{result.verdict.summary()}"
    )


def _run_peer(work: Path, index: int, options: Options) -> PeerResult:
    peer = run_peer(
        work / f"peer-{index}", "unix", options.messages, options.sessions, options.warmup
    )
    print(_line(index, peer), flush=True)
    return peer


def main() -> int:
    """Run both stacks ``--runs`` times, print the tables; non-zero exit on any failure."""
    options, runs, json_file = _parse()
    ensure_installed()
    print(f"machine: {machine()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="herald-submission-bench-"))
    work.chmod(0o755)
    results: list[Run] = []
    started = time.perf_counter()
    try:
        for index in range(1, runs + 1):
            load = os.getloadavg()[0]
            # Alternate which stack goes first, so neither always finds the machine warmer.
            peer = _run_peer(work, index, options) if index % 2 == 0 else None
            herald, cpu = run_herald(work / f"herald-{index}", options)
            print(_line(index, herald), flush=True)
            if options.profile is not None:
                print(summarize(options.profile, 25), flush=True)
                options = msgspec.structs.replace(options, profile=None)
            peer = peer or _run_peer(work, index, options)
            results.append(Run(herald, peer, cpu, (load, os.getloadavg()[0])))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        stop_system_services()
    print(table(results, options))
    ok = all(run.herald.verdict.ok and run.peer.verdict.ok for run in results)
    print(f"total {time.perf_counter() - started:.0f} s; correctness {'OK' if ok else 'FAILED'}")
    if json_file is not None:
        json_file.write_bytes(msgspec.json.encode({"runs": results, "machine": machine()}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
