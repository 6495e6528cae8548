"""A Redis master, its replica and a Sentinel watching them: three ``redis-server``
children on free loopback ports, with passwords, failing over within a few seconds."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from support.processes import free_port

SERVICE = "herald-test"
PASSWORD = "data-p@ss"  # the Redis servers' requirepass (an @ to exercise the quoting)
SENTINEL_PASSWORD = "sentinel-pass"
DOWN_AFTER_MS = 1000


def _binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (scripts/test installs it)")
    return binary


def _wait_ping(client: redis.Redis, process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return
        except (redis.ConnectionError, redis.BusyLoadingError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class SentinelGroup:
    """Master, replica and one Sentinel (quorum 1) on 127.0.0.1. ``url`` names the master
    through a Sentinel that is down, then the live one, as a client configured with every
    Sentinel of a deployment would meet a dead one."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="herald-sentinel-")
        self.master_port, self.replica_port, self.sentinel_port = (free_port() for _ in "123")
        self._processes: list[subprocess.Popen[bytes]] = []
        try:
            self.master = self._server(self.master_port)
            self.replica = self._server(
                self.replica_port, "--replicaof", "127.0.0.1", str(self.master_port)
            )
            self.sentinel = self._sentinel()
            self._wait_watching()
        except BaseException:
            self.stop()
            raise
        dead = free_port()
        self.url = (
            f"redis+sentinel://:{PASSWORD.replace('@', '%40')}@127.0.0.1:{dead},"
            f"127.0.0.1:{self.sentinel_port}/{SERVICE}/0?sentinel_password={SENTINEL_PASSWORD}"
        )

    def _spawn(self, args: list[str], client: redis.Redis) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([_binary(), *args], stdout=subprocess.DEVNULL)
        self._processes.append(process)
        _wait_ping(client, process)
        return process

    def _server(self, port: int, *extra: str) -> subprocess.Popen[bytes]:
        data = Path(self._dir.name, str(port))
        data.mkdir()
        args = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", str(data)]
        auth = ["--requirepass", PASSWORD, "--masterauth", PASSWORD]
        sync = ["--repl-diskless-sync-delay", "0"]  # a replica in sync at once, not after 5 s
        return self._spawn([*args, *auth, *sync, *extra], self.client(port))

    def _sentinel(self) -> subprocess.Popen[bytes]:
        config = Path(self._dir.name, "sentinel.conf")  # Sentinel rewrites it as it learns
        config.write_text(
            f"bind 127.0.0.1\nport {self.sentinel_port}\ndir {self._dir.name}\n"
            f"requirepass {SENTINEL_PASSWORD}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.master_port} 1\n"
            f'sentinel auth-pass {SERVICE} "{PASSWORD}"\n'
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} 5000\n"
        )
        client = redis.Redis(port=self.sentinel_port, password=SENTINEL_PASSWORD)
        return self._spawn([str(config), "--sentinel"], client)

    def client(self, port: int) -> redis.Redis:
        """A direct client of the Redis server on ``port``."""
        return redis.Redis(port=port, password=PASSWORD, socket_timeout=2)

    def sentinel_client(self) -> redis.Redis:
        return redis.Redis(port=self.sentinel_port, password=SENTINEL_PASSWORD, socket_timeout=2)

    def master_port_now(self) -> int | None:
        """The master's port as clients learn it from the Sentinel now (redis-py takes a
        master flagged down for none), or None."""
        state = self.sentinel_client().sentinel_masters()[SERVICE]
        usable = state["is_master"] and not (state["is_sdown"] or state["is_odown"])
        return int(state["port"]) if usable else None

    def _wait_watching(self, timeout: float = 15) -> None:
        """Until the replica is in sync and the Sentinel knows it (else no failover)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.client(self.replica_port).info("replication")
            replicas = self.sentinel_client().sentinel_slaves(SERVICE)
            if info.get("master_link_status") == "up" and any(
                r["port"] == self.replica_port and "s_down" not in r["flags"] for r in replicas
            ):
                return
            time.sleep(0.1)
        raise AssertionError("the Sentinel never saw the replica in sync")

    def kill_master(self) -> float:
        """SIGKILL the master; return when (monotonic) it died."""
        self.master.send_signal(signal.SIGKILL)
        self.master.wait(10)
        return time.monotonic()

    def wait_promoted(self, timeout: float = 20) -> float:
        """Until the Sentinel names the replica master and it takes writes; when (monotonic)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.master_port_now() == self.replica_port:
                role = self.client(self.replica_port).info("replication")["role"]
                if role == "master":
                    return time.monotonic()
            time.sleep(0.05)
        raise AssertionError(f"no failover within {timeout}s")

    def stop(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._dir.cleanup()
