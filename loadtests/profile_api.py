"""Profile Herald's send path (API) or delivery worker with py-spy under closed-model load.

    .venv/bin/python -m loadtests.profile_api [--target api|worker] [--seconds 20] [--batch 500]

Starts Herald (1 API worker, 1 delivery worker), attaches ``py-spy record`` (active
samples only) to the target process for ``--seconds`` while clients POST back to back
(single messages, or with ``--batch N`` batches of N messages to ``/v1/messages/batch``),
and prints the functions with the most samples, inclusive and self.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from loadtests.batch_bench import BatchPoster
from loadtests.herald_stack import HeraldStack
from loadtests.loadgen import Sender, saturate
from loadtests.procs import children


def summarize(collapsed: Path, top: int) -> str:
    """Inclusive and self sample shares per function from py-spy's raw (collapsed) output."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [
            f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0] + ")" if " (" in f else f
            for f in stack.split(";")
        ]
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    lines = [f"{total} samples", "", "inclusive:"]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in inclusive.most_common(top)]
    lines += ["", "self:"]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines)


def py_spy_record(pid: int, out: Path, seconds: int | None = None) -> subprocess.Popen[bytes]:
    """``py-spy record`` of ``pid`` (active samples, collapsed stacks into ``out``) for
    ``seconds``, or until it gets SIGINT."""
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [pyspy, "record", "--pid", str(pid), "--format", "raw", "--output", str(out)]
    command += ["--nonblocking", *(["--duration", str(seconds)] if seconds else [])]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    """Run the load, record, summarize."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", choices=["api", "worker"], default="api")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--batch", type=int, default=0, help="messages per batch (0: single)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/herald-api-profile.txt"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="herald-profile-"))
    work.chmod(0o755)
    stack = HeraldStack(work, api_workers=1, delivery_workers=1)
    try:
        assert stack.api is not None
        if args.target == "api":
            target = (children(stack.api.pid) or [stack.api.pid])[0]
        else:
            target = stack.workers[0].pid
        record = py_spy_record(target, args.out, args.seconds)
        sender = Sender(
            stack.base_url, stack.tenant.api_key, f"bench@{stack.tenant.domain}", args.concurrency
        )

        async def load_batches() -> None:
            poster = BatchPoster(
                stack.base_url, stack.tenant.api_key, f"bench@{stack.tenant.domain}", 4
            )
            accepted = await poster.saturate("prof", args.batch, 4, args.seconds)
            await poster.close()
            print(f"accepted {accepted} at {accepted / args.seconds:.0f}/s during profile")

        async def load() -> None:
            if args.batch:
                await load_batches()
                return
            result = await saturate(sender, "prof", 10**6, args.concurrency, args.seconds)
            await sender.close()
            print(f"accepted {result.accepted} at {result.accepted_per_s:.0f}/s during profile")
            print(f"delivered {stack.sink.count} by the end of the profile")

        asyncio.run(load())
        record.wait(60)
    finally:
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(summarize(args.out, args.top))


if __name__ == "__main__":
    main()
