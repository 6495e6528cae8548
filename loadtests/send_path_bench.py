"""Send path: accepted messages/s of a real ``herald api --workers 2`` on PostgreSQL.

Everything is on loopback and bounded in time. The script creates a throw-away PostgreSQL
database (``--postgres-admin-url``), a private ``redis-server`` (AOF, ``everysec``), an
account with a verified domain (RSA-2048 + Ed25519 DKIM keys) and a send key, starts
``herald api --workers 2`` and measures, with asyncio + httpx:

* **saturation**: ``--clients`` closed-loop clients POST ``/v1/messages`` for
  ``--seconds``; accepted (202) messages/s;
* **fixed load**: an open model at ``--rate`` requests/s for ``--seconds``; latency p50 and
  p99 measured from each request's scheduled start (no coordinated omission);

plus the CPU seconds per accepted message and the RSS of the API processes (from /proc).
Non-202 answers are counted and reported. No delivery workers run: jobs wait in Redis.

    .venv/bin/python loadtests/send_path_bench.py --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from herald_service.services.accounts import create_account
from herald_service.services.api_keys import create_api_key
from herald_service.services.domains import add_domain
from herald_service.settings import load_settings
from herald_service.storage.database import async_session_factory, make_async_engine, make_engine
from herald_service.storage.migrate import upgrade

PAYLOAD = {
    "from": "app@bench.example",
    "to": ["user@receiver.example"],
    "subject": "Your sign-in code",
    "text": "Your code is 123456.\n" + ("Lorem ipsum dolor sit amet. " * 90),
}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / CLOCK_TICKS


def rss_mb(pids: list[int]) -> list[float]:
    sizes = []
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return sizes


async def prepare(database_url: str, env: dict[str, str]) -> str:
    """Migrate, then create an account, a verified domain and a send key; the token."""
    upgrade(make_engine(database_url))
    settings = load_settings(env, env_file=Path("/nonexistent"))
    engine = make_async_engine(database_url)
    async with async_session_factory(engine).begin() as session:
        account = await create_account(session, "bench")
        _, token = await create_api_key(session, account.id, ("send",))
        await add_domain(session, settings, account.id, "bench.example", verified=True)
    await engine.dispose()
    return token


async def post(client: httpx.AsyncClient, token: str) -> int:
    """The answer's status, or 0 when the request failed (counted as an error)."""
    try:
        response = await client.post(
            "/v1/messages", json=PAYLOAD, headers={"Authorization": f"Bearer {token}"}
        )
    except httpx.HTTPError:
        return 0
    return response.status_code


async def saturate(base: str, token: str, clients: int, seconds: float) -> tuple[int, int]:
    """Closed loop: (accepted, other answers) in ``seconds``."""
    accepted = failed = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def loop() -> None:
            nonlocal accepted, failed
            while time.monotonic() < deadline:
                if await post(client, token) == 202:
                    accepted += 1
                else:
                    failed += 1

        await asyncio.gather(*(loop() for _ in range(clients)))
    return accepted, failed


async def fixed_rate(base: str, token: str, rate: float, seconds: float) -> tuple[list[float], int]:
    """Open model: latencies (s, from each scheduled start) and the count of non-202s."""
    latencies: list[float] = []
    failed = 0
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    timeout = httpx.Timeout(30, pool=None)  # queueing for a connection is part of the latency
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:

        async def one(scheduled: float) -> None:
            nonlocal failed
            status = await post(client, token)
            latencies.append(time.monotonic() - scheduled)
            if status != 202:
                failed += 1

        tasks = []
        start = time.monotonic()
        for n in range(int(rate * seconds)):
            scheduled = start + n / rate
            delay = scheduled - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
    return latencies, failed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def one_run(args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    db_name = f"herald_bench_{secrets.token_hex(4)}"
    with psycopg.connect(args.postgres_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db_name}"')
    base_url = args.postgres_admin_url.rsplit("/", 1)[0]
    database_url = f"{base_url.replace('postgresql://', 'postgresql+psycopg://')}/{db_name}"
    redis_port, api_port = free_port(), free_port()
    redis = subprocess.Popen(  # noqa: ASYNC220 (started once, before any load)
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    env = {
        **os.environ,
        "HERALD_DATABASE_URL": database_url,
        "HERALD_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "HERALD_SECRET_KEY": secrets.token_urlsafe(32),
        "HERALD_HOSTNAME": "mta.bench.example",
        "HERALD_QUOTA_REQUESTS_PER_SECOND": "0",
        "HERALD_QUOTA_DAILY_RECIPIENTS_PER_KEY": "0",
        "HERALD_QUOTA_DAILY_RECIPIENTS_PER_ACCOUNT": "0",
        "HERALD_LOG_LEVEL": "warning",
    }
    api = None
    try:
        wait_for_port(redis_port)
        token = await prepare(database_url, env)
        herald = shutil.which("herald", path=str(Path(sys.executable).parent)) or "herald"
        command = [herald, "api", "--workers", "2", "--port", str(api_port)]
        api = subprocess.Popen(command, env=env)  # noqa: ASYNC220
        wait_for_port(api_port)
        base = f"http://127.0.0.1:{api_port}"
        await saturate(base, token, args.clients, 2.0)  # warm up both processes
        pids = process_tree(api.pid)
        cpu0 = cpu_seconds(pids)
        started = time.monotonic()
        accepted, failed = await saturate(base, token, args.clients, args.seconds)
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(pids) - cpu0
        rss = rss_mb(pids)
        latencies, failed_fixed = await fixed_rate(base, token, args.rate, args.seconds)
        return {
            "accepted_per_s": accepted / elapsed,
            "cpu_ms_per_msg": 1000 * cpu / max(accepted, 1),
            "p50_ms": 1000 * percentile(latencies, 0.50),
            "p99_ms": 1000 * percentile(latencies, 0.99),
            "max_rss_mb": max(rss) if rss else 0.0,
            "errors": failed + failed_fixed,
        }
    finally:
        for process in (api, redis):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        with psycopg.connect(args.postgres_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--postgres-admin-url",
        default=os.environ.get(
            "HERALD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rate", type=float, default=500.0)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for run in range(args.runs):
            result = asyncio.run(one_run(args, Path(workdir)))
            results.append(result)
            print(f"run {run + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in result.items()))
    print("median: " + ", ".join(
        f"{k} {statistics.median(r[k] for r in results):.1f}" for k in results[0]
    ))  # fmt: skip


if __name__ == "__main__":
    main()
