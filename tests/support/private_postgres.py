"""A PostgreSQL cluster of a test's own, which the test may stop and start at will.

The session's shared server (:mod:`.databases`) must never be stopped, so outage tests
run ``initdb`` into a temporary directory and ``pg_ctl`` a server on a free loopback port
(trust authentication, no fsync: nothing in it must outlive the test). PostgreSQL refuses
to run as root; as root the binaries run as the ``postgres`` user through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import text

from herald_service.storage.database import make_engine
from herald_service.storage.migrate import upgrade

from .processes import free_port


def postgres_bindir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are: on the PATH, or Debian's versioned directory."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


class PrivateCluster:
    """``initdb`` + ``pg_ctl start`` on 127.0.0.1:<free port>; :meth:`stop` and
    :meth:`start` as often as the test needs, :meth:`destroy` at the end."""

    def __init__(self, bindir: Path) -> None:
        self._bindir = bindir
        self._root = Path(tempfile.mkdtemp(prefix="herald-pg-"))
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self._root, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.data = self._root / "data"
        self.port = free_port()
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/herald"
        admin = make_engine(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE herald"))
        admin.dispose()
        engine = make_engine(self.url)
        upgrade(engine)
        engine.dispose()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self._as, str(self._bindir / tool), *args],
            check=True,
            capture_output=True,
            cwd=self._root,
            timeout=60,
        )

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c fsync=off "
            f"-c unix_socket_directories={self._root} -c max_connections=60"
        )
        log = str(self._root / "server.log")
        self._run("pg_ctl", "start", "-w", "-D", str(self.data), "-l", log, "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m fast``: sessions are ended (admin shutdown), new ones refused."""
        self._run("pg_ctl", "stop", "-w", "-D", str(self.data), "-m", mode)

    def destroy(self) -> None:
        """Stop the server if it runs and remove its files."""
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self._root, ignore_errors=True)
