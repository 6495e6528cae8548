"""API key authentication cost: a request after the key's first use vs one argon2 verify.

    .venv/bin/python loadtests/auth_bench.py [--runs 5] [--calls 100000]

Bounded and local: a throw-away SQLite database in a temporary directory, no network.
Each run measures

* ``argon2``: one ``argon2id`` verification of a key secret (what every request would
  cost without the cache), median of 5;
* ``first use``: ``Authenticator.authenticate`` of a fresh token (row lookup + argon2);
* ``cached``: the mean cost of ``authenticate`` over ``--calls`` calls with the same token
  (HMAC-SHA256 of the token, a dict lookup, the clock, the ``last_used_at`` note).

and the script prints the median of the runs and the ratio argon2 / cached. The cached
path also re-reads the key row (a primary-key lookup, no argon2) once per key every 5 s
per process; that is one lookup in ~5 s of traffic and is not in the per-call figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from herald_service.accounts.service import create_account
from herald_service.keys.service import Authenticator, create_api_key
from herald_service.keys.usage import KeyUsage
from herald_service.security.hashing import hash_secret, verify_secret
from herald_service.storage.database import async_session_factory, make_async_engine, make_engine
from herald_service.storage.migrate import upgrade


def argon2_verify_seconds(samples: int = 5) -> float:
    """Median wall time of one argon2id verification (same parameters as real keys)."""
    stored = hash_secret("s" * 32)
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        verify_secret(stored, "s" * 32)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def one_run(database_url: str, calls: int) -> dict[str, float]:
    """First-use and cached authentication cost for a fresh key."""
    engine = make_async_engine(database_url)
    sessions = async_session_factory(engine)
    try:
        async with sessions.begin() as session:
            account = await create_account(session, "bench")
            _, token = await create_api_key(session, account.id, ["send"])
        auth = Authenticator(sessions, b"bench-pepper", usage=KeyUsage(sessions))
        started = time.perf_counter()
        await auth.authenticate(token)
        first_use = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(calls):
            await auth.authenticate(token)
        cached = (time.perf_counter() - started) / calls
    finally:
        await engine.dispose()
    return {"first_use_s": first_use, "cached_s": cached}


def main() -> None:
    """Run the benchmark and print the medians and the ratio as a table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=100_000)
    args = parser.parse_args()
    runs, calls = min(max(args.runs, 1), 20), min(max(args.calls, 1000), 1_000_000)
    with tempfile.TemporaryDirectory(prefix="herald-auth-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        sync_engine = make_engine(url)
        upgrade(sync_engine)
        sync_engine.dispose()
        results = []
        for _ in range(runs):
            run = asyncio.run(one_run(url, calls))
            run["argon2_s"] = argon2_verify_seconds()
            results.append(run)
    argon2 = statistics.median(r["argon2_s"] for r in results)
    first = statistics.median(r["first_use_s"] for r in results)
    cached = statistics.median(r["cached_s"] for r in results)
    summary = {
        "runs": runs,
        "calls_per_run": calls,
        "argon2_verify_ms": round(argon2 * 1e3, 2),
        "first_use_ms": round(first * 1e3, 2),
        "cached_us": round(cached * 1e6, 2),
        "cached_us_per_run": [round(r["cached_s"] * 1e6, 2) for r in results],
        "argon2_over_cached": round(argon2 / cached),
    }
    print(f"| measure (median of {runs} runs) | cost |")
    print("|---|---|")
    print(f"| one argon2id verify | {summary['argon2_verify_ms']} ms |")
    print(
        f"| authenticate, first use of a key (row lookup + argon2) | {summary['first_use_ms']} ms |"
    )
    print(f"| authenticate, after first use ({calls} calls) | {summary['cached_us']} µs |")
    print(f"| ratio argon2 / cached | {summary['argon2_over_cached']} times |")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
