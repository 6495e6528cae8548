"""An independent DKIM verifier: the npm ``mailauth`` package, run with Node.js.

``scripts/test`` installs it (``npm ci`` in tests/tools/mailauth); this module does the same
on first use when the suite is run directly with pytest.
"""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path

from simnet.dns import DNSServer

TOOL_DIR = Path(__file__).resolve().parents[1] / "tools" / "mailauth"


@cache
def _installed() -> Path:
    if not (TOOL_DIR / "node_modules" / "mailauth").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=TOOL_DIR,
            check=True,
            timeout=300,
        )
    return TOOL_DIR / "verify.mjs"


def mailauth_results(raw: bytes, server: DNSServer) -> list[tuple[str, str, str]]:
    """``(algorithm, selector, result)`` per DKIM signature, keys fetched from ``server``."""
    completed = subprocess.run(
        ["node", str(_installed()), server.address],
        input=raw,
        capture_output=True,
        timeout=60,
        check=True,
    )
    results = json.loads(completed.stdout)["results"]
    return [(r["algo"], r["selector"], r["result"]) for r in results]
