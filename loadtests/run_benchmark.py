"""The peer benchmark: Herald and Postfix (+ OpenDKIM) on this machine, in one run.

    .venv/bin/python -m loadtests.run_benchmark            # 3 repetitions (< 15 min)
    .venv/bin/python -m loadtests.run_benchmark --quick    # 1 short repetition (< 3 min)

Each repetition runs every peer variant and then Herald, in that order; the table shows
medians over repetitions and Herald's ratios to the peer measured in the same run.
Everything listens on 127.0.0.1 only. Exit status 1 if any message was lost, duplicated,
badly signed, any request failed, or Herald did not deliver everything in time.
"""

from __future__ import annotations

import argparse
import math
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import msgspec

from loadtests.herald_bench import HeraldOptions, HeraldResult, run_herald
from loadtests.peer import PeerResult, Signing, ensure_installed, run_peer, stop_system_services


def machine() -> str:
    """``nproc``, memory and CPU model, for the report."""
    cpu = "unknown CPU"
    memory = "? GiB"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    import os

    return f"{os.cpu_count()} CPUs ({cpu}), {memory}, Python {platform.python_version()}"


def _median(values: list[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else float("nan")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="SMTP submission (smtp-source against `herald submission` and Postfix + "
        "OpenDKIM): `loadtests/bench submission [--quick]`, i.e. "
        "`python -m loadtests.submission_bench --help`.",
    )
    parser.add_argument("--quick", action="store_true", help="1 short repetition (< 3 min)")
    parser.add_argument("--repeat", type=int, help="repetitions (default 3, quick 1)")
    parser.add_argument("--messages", type=int, help="Herald saturation messages (20000)")
    parser.add_argument("--peer-messages", type=int, help="peer messages (5000)")
    parser.add_argument("--sessions", type=int, default=20, help="smtp-source sessions")
    parser.add_argument("--rate", type=float, default=500.0, help="offered msg/s for latency")
    parser.add_argument("--duration", type=float, help="seconds at the offered rate (10)")
    parser.add_argument("--concurrency", type=int, default=64, help="closed-model clients")
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--delivery-workers", type=int, default=2)
    parser.add_argument(
        "--worker-nice", type=int, default=0, help="`herald worker --nice` (0: same priority)"
    )
    parser.add_argument("--time-limit", type=float, help="seconds per Herald phase (60)")
    parser.add_argument(
        "--peer",
        default="none,unix",
        help="peer variants, comma separated from none,unix,inet (default none,unix)",
    )
    parser.add_argument("--skip-peer", action="store_true", help="measure Herald only")
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    return parser.parse_args()


def _variants(args: argparse.Namespace) -> list[Signing]:
    """The peer variants asked for (none with ``--skip-peer``)."""
    variants: list[Signing] = []
    for name in args.peer.split(","):
        if name not in get_args(Signing):
            sys.exit(f"unknown peer variant {name!r}")
        variants.append(name)
    return [] if args.skip_peer else variants


def _herald_options(args: argparse.Namespace) -> HeraldOptions:
    """Herald's run options, with the ``--quick`` defaults where none was given."""
    return HeraldOptions(
        messages=args.messages or (2000 if args.quick else 20_000),
        concurrency=args.concurrency,
        rate=args.rate,
        duration=args.duration or (3.0 if args.quick else 10.0),
        api_workers=args.api_workers,
        delivery_workers=args.delivery_workers,
        worker_nice=args.worker_nice,
        time_limit=args.time_limit or (25.0 if args.quick else 60.0),
        backlog=1000 if args.quick else 2000,
        warmup=300 if args.quick else 1000,
    )


def _herald_line(run: int, outcome: HeraldResult) -> str:
    return (
        f"run {run} herald: accepted {outcome.accepted_per_s:.0f}/s, e2e "
        f"{outcome.delivered_per_s:.0f}/s ({outcome.delivered}/{outcome.messages}), "
        f"p50 {outcome.p50_ms:.1f} ms, p99 {outcome.p99_ms:.1f} ms at "
        f"{outcome.offered_rate:.0f}/s; latency phase [{outcome.latency_failures}], "
        f"saturation [{outcome.saturation_failures}], "
        f"backlog [{outcome.backlog_failures}] "
        f"{outcome.redis_bytes_per_queued:.0f} Redis bytes/message; "
        f"{outcome.verdict.summary()}"
    )


def main() -> int:
    """Run the benchmark and print the table; non-zero exit on any correctness failure."""
    args = _parse()
    repeat = args.repeat or (1 if args.quick else 3)
    variants = _variants(args)
    herald_options = _herald_options(args)
    peer_messages = args.peer_messages or (1000 if args.quick else 5000)
    ensure_installed()  # the sink (smtp-sink) comes with Postfix, so even --skip-peer needs it
    print(f"machine: {machine()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="herald-benchmark-"))
    work.chmod(0o755)
    peers: dict[str, list[PeerResult]] = {v: [] for v in variants}
    heralds: list[HeraldResult] = []
    ok = True
    complete = 0
    started = time.perf_counter()
    try:
        for run in range(1, repeat + 1):
            for variant in variants:
                result = run_peer(work / f"peer-{run}", variant, peer_messages, args.sessions)
                peers[variant].append(result)
                ok &= result.verdict.ok
                print(
                    f"run {run} {result.variant}: accepted {result.accepted_per_s:.0f}/s, "
                    f"e2e {result.delivered_per_s:.0f}/s; {result.verdict.summary()}",
                    flush=True,
                )
            outcome = run_herald(work / f"herald-{run}", herald_options)
            heralds.append(outcome)
            ok &= outcome.verdict.ok and outcome.errors == 0
            complete += outcome.complete
            print(_herald_line(run, outcome), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        stop_system_services()
    print(table(peers, heralds, repeat, herald_options, peer_messages))
    print(
        f"total {time.perf_counter() - started:.0f} s; correctness {'OK' if ok else 'FAILED'}; "
        f"Herald delivered everything within the time limit in {complete}/{len(heralds)} runs"
    )
    if args.json:
        args.json.write_bytes(
            msgspec.json.encode({"peer": peers, "herald": heralds, "machine": machine()})
        )
    return 0 if ok and complete == len(heralds) else 1


def table(
    peers: dict[str, list[PeerResult]],
    heralds: list[HeraldResult],
    repeat: int,
    options: HeraldOptions,
    peer_messages: int,
) -> str:
    """The Markdown table of medians and ratios."""
    accepted = _median([h.accepted_per_s for h in heralds])
    delivered = _median([h.delivered_per_s for h in heralds])
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "",
        f"Medians of {repeat} run(s), {date}. Peer: {peer_messages} messages via smtp-source;"
        f" Herald: {options.messages} messages via POST /v1/messages, "
        f"{options.api_workers} API + {options.delivery_workers} delivery workers"
        + (f" (nice {options.worker_nice})." if options.worker_nice else "."),
        "",
        "| stack | accepted msg/s | delivered e2e msg/s | Herald/peer accepted | Herald/peer e2e |",
        "|---|---:|---:|---:|---:|",
    ]
    for results in peers.values():
        if not results:
            continue
        peer_acc = _median([r.accepted_per_s for r in results])
        peer_e2e = _median([r.delivered_per_s for r in results])
        # Ratios per run (same run, same machine state), then the median of those.
        acc_ratio = _median(
            [h.accepted_per_s / r.accepted_per_s for h, r in zip(heralds, results, strict=False)]
        )
        e2e_ratio = _median(
            [h.delivered_per_s / r.delivered_per_s for h, r in zip(heralds, results, strict=False)]
        )
        lines.append(
            f"| {results[0].variant} | {peer_acc:.0f} | {peer_e2e:.0f} | {acc_ratio:.2f}x "
            f"| {e2e_ratio:.2f}x |"
        )
    lines.append(f"| **Herald** | {accepted:.0f} | {delivered:.0f} | | |")
    lines += [
        "",
        "| Herald measure | median | target |",
        "|---|---:|---:|",
        f"| API latency p50 at {options.rate:.0f} msg/s offered | "
        f"{_median([h.p50_ms for h in heralds]):.1f} ms | |",
        f"| API latency p99 at {options.rate:.0f} msg/s offered | "
        f"{_median([h.p99_ms for h in heralds]):.1f} ms | <= 25 ms |",
        f"| API process RSS (peak, largest worker) | "
        f"{_median([h.api_rss_mb for h in heralds]):.0f} MB | <= 150 MB |",
        f"| delivery worker RSS (peak, largest) | "
        f"{_median([h.worker_rss_mb for h in heralds]):.0f} MB | <= 250 MB |",
        f"| Redis bytes per queued message (backlog, workers paused) | "
        f"{_median([h.redis_bytes_per_queued for h in heralds]):.0f} | <= 1024 |",
        f"| failed requests: non-2xx or no answer (all runs) | "
        f"{sum(h.errors for h in heralds)} | 0 |",
        f"| sends not started, over {options.max_in_flight} in flight (all runs) | "
        f"{sum(h.not_started for h in heralds)} | 0 |",
        f"| all delivered within the time limit (runs) | "
        f"{sum(h.complete for h in heralds)}/{len(heralds)} | all |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
