"""Postfix's ``smtp-sink`` as the delivery target of both stacks, with per-message dumps.

The sink is started with ``-c`` (running counters on stdout, one update per received
message) and ``-d DIR/m.`` (one file per mail transaction). A reader thread timestamps
every counter update, so the benchmark knows when the N-th message arrived without
scanning the dump directory while the load runs.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

_COUNTER = re.compile(rb"mesg=(\d+)")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_port(port: int, host: str = "127.0.0.1", timeout: float = 20.0) -> None:
    """Wait until something accepts TCP connections on ``host:port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout}s")


class SmtpSink:
    """One ``smtp-sink`` process on 127.0.0.1 dumping every message into ``directory``."""

    def __init__(self, directory: Path, user: str = "postfix") -> None:
        binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        shutil.chown(directory, user=user)
        self.port = free_port()
        self.count = 0
        self.last_arrival = 0.0
        self.first_arrival = 0.0
        self._changed = threading.Condition()
        args = [binary, "-c", "-d", f"{directory}/m.", "-m", "512"]
        if os.geteuid() == 0:
            args += ["-u", user]
        self._process = subprocess.Popen(
            [*args, f"127.0.0.1:{self.port}", "1024"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._reader = threading.Thread(target=self._read_counters, daemon=True)
        self._reader.start()
        wait_port(self.port)

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self._process.pid

    def _read_counters(self) -> None:
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        buffer = b""
        while chunk := os.read(fd, 4096):
            now = time.perf_counter()
            buffer = (buffer + chunk)[-256:]
            found = _COUNTER.findall(buffer)
            if not found:
                continue
            value = int(found[-1])
            with self._changed:
                if value > self.count:
                    if self.count == 0:
                        self.first_arrival = now
                    self.count = value
                    self.last_arrival = now
                    self._changed.notify_all()

    def wait_for(self, total: int, timeout: float) -> bool:
        """Block until ``total`` messages arrived in all (True) or ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.count < total:
                if self._process.poll() is not None:
                    raise RuntimeError(f"smtp-sink exited with {self._process.returncode}")
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.5))
        return True

    def wait_quiet(self, quiet: float, timeout: float) -> None:
        """Wait until no message arrived for ``quiet`` seconds (catches duplicates)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if time.perf_counter() - max(self.last_arrival, 0.0) >= quiet:
                return
            time.sleep(0.1)

    def dumps(self) -> list[Path]:
        """The files of every message received so far."""
        return sorted(self.directory.glob("m.*"))

    def stop(self) -> None:
        """Terminate the sink."""
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout=5)
