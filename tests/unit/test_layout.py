"""The repository layout rules that keep the standard library's ``queue`` importable."""

from __future__ import annotations

import queue
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_queue_folder_is_not_a_package() -> None:
    assert not (ROOT / "queue" / "__init__.py").exists()
    assert not (ROOT / "queue" / "queue.py").exists()


def test_stdlib_queue_wins_from_the_repository_root() -> None:
    assert hasattr(queue, "SimpleQueue")
    result = subprocess.run(
        [sys.executable, "-c", "import queue, redis, rq; print(queue.SimpleQueue.__module__)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "_queue"
