"""Process helpers: resident memory of a process tree, sampled while the load runs; the
whole machine's busy CPU time."""

from __future__ import annotations

import os
import threading
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds all cores spent busy since boot (``/proc/stat``: everything but idle
    and iowait): whatever ran, this benchmark's processes and anyone else's."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / _TICK


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux ``/proc``)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def rss_bytes(pid: int) -> int:
    """Resident set size of one process, 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class RssSampler:
    """Peak RSS per process of some process groups, sampled every ``interval`` seconds.

    A group is a list of root pids; a root with children (uvicorn's supervisor) is
    represented by its children, the processes doing the work.
    """

    def __init__(self, groups: dict[str, list[int]], interval: float = 0.5) -> None:
        self.groups = groups
        self.interval = interval
        self.peak: dict[str, int] = dict.fromkeys(groups, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _members(self, roots: list[int]) -> list[int]:
        members: list[int] = []
        for root in roots:
            members += children(root) or [root]
        return members

    def sample(self) -> None:
        """Take one sample now."""
        for name, roots in self.groups.items():
            for pid in self._members(roots):
                self.peak[name] = max(self.peak[name], rss_bytes(pid))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()
