"""Run Herald's own commands as child processes, as an operator would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

HERALD = [sys.executable, "-m", "herald_service"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def child_env(settings_env: dict[str, str]) -> dict[str, str]:
    """The current environment with every ``HERALD_*`` variable replaced by the test's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    env.update(settings_env)
    return env


def herald_json(settings_env: dict[str, str], *args: str, cwd: Path | None = None) -> Any:
    """Run ``herald ARGS --json`` to completion and parse its output."""
    result = subprocess.run(
        [*HERALD, *args, "--json"],
        env=child_env(settings_env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def start(
    settings_env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.Popen[str]:
    """Start ``herald ARGS`` in the background."""
    return subprocess.Popen(
        [*HERALD, *args],
        env=child_env(settings_env),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> str:
    """Terminate a child and return what it wrote to stderr."""
    process.terminate()
    try:
        _, err = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err


def wait_http_ok(url: str, process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    """Wait until ``url`` answers 200, failing early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"process exited: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout}s")
