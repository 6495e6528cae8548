"""Check messages with tools independent of Herald and of Python's ``email``/dkimpy.

``tests/js/inspect.mjs`` parses a message with mailparser and mailsplit and, given the DNS TXT
records, verifies every DKIM signature with mailauth (Node.js). ``scripts/test`` installs
Node.js and these packages (``ensure_node_tools`` in scripts/lib.sh).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

JS_DIR = Path(__file__).resolve().parents[1] / "js"
SCRIPT = JS_DIR / "inspect.mjs"

Report = dict[str, Any]
"""``{"parsed": {...}, "mime_tree": {...}, "dkim": [...]}`` (see inspect.mjs)."""


class IndependentToolsMissing(RuntimeError):
    """Node.js or the npm packages in tests/js are not installed."""


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise IndependentToolsMissing("node is not on PATH; run scripts/test (ensure_node_tools)")
    if not (JS_DIR / "node_modules" / "mailauth").is_dir():
        raise IndependentToolsMissing(
            f"{JS_DIR}/node_modules is missing; run `npm ci` there (scripts/test does)"
        )
    return node


def _run(args: list[str], stdin: bytes) -> Any:
    done = subprocess.run(
        [_node(), str(SCRIPT), *args], input=stdin, capture_output=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"inspect.mjs failed ({done.returncode}): {done.stderr.decode()}")
    return json.loads(done.stdout)


def inspect_eml(raw: bytes, txt_records: dict[str, str] | None = None) -> Report:
    """mailparser's view of ``raw`` (``parsed``, ``mime_tree``) and, with ``txt_records``
    (``{"sel._domainkey.example.com": "v=DKIM1; ..."}``), mailauth's ``dkim`` results."""
    report: Report = _run([json.dumps(txt_records)] if txt_records is not None else [], raw)
    return report


def inspect_emls(messages: Sequence[tuple[bytes, dict[str, str] | None]]) -> list[Report]:
    """:func:`inspect_eml` for several ``(raw, txt_records)`` in one Node.js process."""
    batch = [{"eml": base64.b64encode(raw).decode(), "txt": txt} for raw, txt in messages]
    reports: list[Report] = _run(["--batch"], json.dumps(batch).encode())
    return reports


def dkim_results(report: Report) -> list[tuple[str, str]]:
    """``(algorithm, result)`` per signature from an :func:`inspect_eml` report, top first."""
    return [(entry["algorithm"], entry["result"]) for entry in report["dkim"]]
