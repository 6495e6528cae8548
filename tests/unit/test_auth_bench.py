"""The authentication benchmark runs and shows no argon2 after a key's first use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_auth_bench_small_run() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "loadtests" / "auth_bench.py"),
            "--runs",
            "1",
            "--calls",
            "2000",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    # After first use a request costs microseconds; argon2 costs tens of milliseconds.
    assert summary["cached_us"] < 1000 < summary["argon2_verify_ms"] * 1000
    assert summary["argon2_over_cached"] > 100
