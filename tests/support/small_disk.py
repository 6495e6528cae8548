"""A SQLite database on a disk the test fills up and frees again.

Where the test may mount file systems (root, with CAP_SYS_ADMIN), the directory is a
tmpfs of a few megabytes and :meth:`SmallDisk.fill` writes a file until the kernel says
``ENOSPC``: SQLite then fails exactly as on a full disk (``SQLITE_FULL``, "database or
disk is full"). Where mounting is refused (an unprivileged container), the closest
honest stand-in is SQLite's own size cap: ``PRAGMA max_page_count`` set to the pages the
database has, on every connection of the engines the test names, which makes SQLite
raise the same ``SQLITE_FULL`` when a write needs one page more.
"""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

_NO_LIMIT = 1 << 30


class SmallDisk:
    """A directory on a small file system (or, failing that, a capped database)."""

    def __init__(self, root: Path, size: str = "8m") -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(root)],
            capture_output=True,
            check=False,
        )
        self.mounted = mounted.returncode == 0
        self._filler = root / "filler"
        self._engines: list[AsyncEngine] = []
        self._max_pages = _NO_LIMIT

    def watch(self, engine: AsyncEngine) -> None:
        """Cap ``engine``'s connections when filling without a tmpfs."""
        self._engines.append(engine)
        event.listen(engine.sync_engine, "connect", self._cap)

    def _cap(self, dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count={self._max_pages}")

    async def fill(self) -> None:
        """No more room for the database to grow."""
        if self.mounted:
            with self._filler.open("wb", buffering=0) as file, contextlib.suppress(OSError):
                while True:
                    file.write(bytes(65536))
            with contextlib.suppress(OSError), (self.root / "probe").open("wb", buffering=0) as f:
                f.write(bytes(4096))
                raise AssertionError("the disk is not full")
            return
        async with self._engines[0].connect() as connection:
            pages = (await connection.execute(text("PRAGMA page_count"))).scalar_one()
        await self._recap(int(pages))

    async def free(self) -> None:
        """Room again."""
        if self.mounted:
            self._filler.unlink()
            return
        await self._recap(_NO_LIMIT)

    async def _recap(self, pages: int) -> None:
        self._max_pages = pages
        for engine in self._engines:
            await engine.dispose()  # new connections take the new cap

    def remove(self) -> None:
        """Unmount the tmpfs (its files go with it)."""
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.root)], check=False, capture_output=True)
