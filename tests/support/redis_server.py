"""A private redis-server child process for the test session (never the machine's Redis)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

import redis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """``redis-server`` on 127.0.0.1 and a free port; without persistence unless
    ``appendonly`` (AOF with ``appendfsync everysec``, as production runs it)."""

    def __init__(self, *, appendonly: bool = False) -> None:
        self._binary = shutil.which("redis-server")
        if self._binary is None:
            raise RuntimeError("redis-server is not installed (scripts/test installs it)")
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.appendonly = appendonly
        self._dir = tempfile.TemporaryDirectory(prefix="herald-redis-")
        self._start()

    def _start(self) -> None:
        assert self._binary is not None
        self._process = subprocess.Popen(
            [
                self._binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "yes" if self.appendonly else "no",
                "--appendfsync",
                "everysec",
                "--dir",
                self._dir.name,
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except (redis.ConnectionError, redis.BusyLoadingError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.02)

    def restart(self) -> None:
        """Kill the server (SIGKILL, no chance to save) and start it again on its port."""
        self._process.kill()
        self._process.wait(10)
        self._start()

    def client(self) -> redis.Redis:
        """A client of this server."""
        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        """Terminate the server."""
        self._process.terminate()
        self._process.wait(10)
        self._dir.cleanup()
