"""Keep ``herald dev``'s child processes running, as a process supervisor would.

A child that dies (a crash, an out-of-memory kill, a stray ``kill -9``) is started again
after a short back-off instead of taking the API, the inbox and the other workers down
with it. The back-off doubles while the child keeps dying soon after starting (1 s, 2 s,
4 s … up to 30 s), so a child that cannot start does not spin, and it starts from 1 s
again once the child has stayed up for a while. Every exit and restart is logged.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

log = logging.getLogger("herald.dev")

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STABLE_AFTER = 30.0  # seconds up after which a child's next exit starts at FIRST_BACKOFF


def describe_exit(returncode: int) -> str:
    """``exit code 3`` or ``killed by SIGKILL``, for the log."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class Child:
    """One supervised command: its process, and when and how soon to restart it."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.process: subprocess.Popen[Any] | None = None
        self.started_at = 0.0
        self.restart_at: float | None = None
        self.backoff = FIRST_BACKOFF
        self.restarts = 0

    def start(self) -> subprocess.Popen[Any]:
        """Start the command; the new process."""
        # Children write to stderr: stdout carries only what ``herald dev`` prints itself
        # (``--json`` output stays machine-readable).
        self.process = subprocess.Popen(self.argv, env=self.env, stdout=sys.stderr)  # noqa: S603
        self.started_at = time.monotonic()
        self.restart_at = None
        return self.process


class Supervisor:
    """Starts its children, restarts any that die, and stops them all on request."""

    def __init__(
        self,
        children: Sequence[Child],
        *,
        first_backoff: float = FIRST_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        stable_after: float = STABLE_AFTER,
    ) -> None:
        self.children = list(children)
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.stable_after = stable_after

    def start_all(self) -> None:
        """Start every child."""
        for child in self.children:
            process = child.start()
            log.info("herald dev: started the %s (pid %d)", child.name, process.pid)

    def check(self, now: float) -> None:
        """Notice children that exited (schedule their restart) and restart those due."""
        for child in self.children:
            process = child.process
            if process is not None and process.poll() is not None:
                self._exited(child, process.returncode, now)
            elif process is None and child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                process = child.start()
                log.warning(
                    "herald dev: restarted the %s (pid %d, restart %d)",
                    child.name,
                    process.pid,
                    child.restarts,
                )

    def _exited(self, child: Child, returncode: int, now: float) -> None:
        if now - child.started_at >= self.stable_after:
            child.backoff = self.first_backoff
        delay = child.backoff
        child.backoff = min(child.backoff * 2, self.max_backoff)
        child.process = None
        child.restart_at = now + delay
        log.warning(
            "herald dev: the %s exited (%s); restarting it in %g s",
            child.name,
            describe_exit(returncode),
            delay,
        )

    def run(self, poll: float = 0.2) -> None:
        """Supervise until SIGTERM or Ctrl-C (the caller then calls :meth:`stop_all`)."""
        stopping = False

        def request_stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        previous = signal.signal(signal.SIGTERM, request_stop)
        try:
            while not stopping:
                self.check(time.monotonic())
                time.sleep(poll)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)

    def stop_all(self, timeout: float = 10.0) -> None:
        """Terminate every running child; kill those still running after ``timeout``."""
        running = [c.process for c in self.children if c.process is not None]
        for process in running:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + timeout
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
