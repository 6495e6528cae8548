"""Page timings for the console benchmark: GET a page repeatedly, read the server's own
time from its ``Server-Timing: app;dur=<ms>`` header next to the time the client saw, and
reduce the samples to percentiles and Markdown rows."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable

import httpx

TIMING = re.compile(r"app;dur=([0-9.]+)")


def measure(
    client: httpx.Client, path: str, requests: int, before: Callable[[], None] = lambda: None
) -> tuple[list[float], list[float]]:
    """Server and client milliseconds of ``requests`` GETs of ``path`` (after 3 unmeasured),
    each after a call of ``before``."""
    server, observed = [], []
    for n in range(requests + 3):
        before()
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        timing = TIMING.search(response.headers.get("server-timing", ""))
        assert timing is not None, f"{path}: no Server-Timing header"
        if n >= 3:
            server.append(float(timing.group(1)))
            observed.append(elapsed)
    return server, observed


Figures = tuple[float, float, float, float]
"""Server p50 and p95, client p50 and p95, in ms."""


def figures(server: list[float], observed: list[float]) -> Figures:
    """The percentiles of one page's measurements."""
    return (
        statistics.median(server),
        percentile(server, 0.95),
        statistics.median(observed),
        percentile(observed, 0.95),
    )


def table(results: dict[str, list[Figures]]) -> list[str]:
    """Markdown rows: each figure's median over the rounds, then each round's server p95."""
    rows = []
    for name, rounds in results.items():
        medians = [statistics.median(r[i] for r in rounds) for i in range(4)]
        each = " / ".join(f"{r[1]:.0f}" for r in rounds)
        rows.append(f"| {name} | " + " | ".join(f"{m:.1f}" for m in medians) + f" | {each} |")
    return rows


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]
