"""An asyncio load generator for ``POST /v1/messages``, bounded in count and time.

Two models:

* closed (:func:`saturate`): ``concurrency`` clients send back to back, for throughput;
* open (:func:`offered`): sends start at a fixed rate whatever the server does, and the
  latency of each is measured from its *scheduled* start (no coordinated omission).

Every message goes to its own recipient, so the sink can check it arrived exactly once.
Requests go out on the keep-alive connections of :mod:`loadtests.http1`, lean enough to
leave the CPU to the system under test.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlsplit

import msgspec

from loadtests.http1 import TRANSPORT_ERRORS, Pool

RECIPIENT_DOMAIN = "sink.bench.example"
_LINE = "The quick brown fox jumps over the lazy dog, then reads its invoice again."
TEXT_BODY = "\n".join([_LINE] * 38)  # ~2.9 KB, the rest of ~3 KB is headers


def recipient(prefix: str, index: int) -> str:
    """The unique address of message ``index`` of a phase."""
    return f"{prefix}{index}@{RECIPIENT_DOMAIN}"


def send_body(sender: str, to: str, index: int) -> bytes:
    """The JSON of one ~3 KB message."""
    return msgspec.json.encode(
        {
            "from": {"email": sender, "name": "Bench"},
            "to": [to],
            "subject": f"Your receipt #{index}",
            "text": TEXT_BODY,
        }
    )


class PhaseResult(msgspec.Struct):
    """What one load phase saw."""

    sent: int = 0
    accepted: int = 0
    statuses: dict[str, int] = msgspec.field(default_factory=dict)
    errors: dict[str, int] = msgspec.field(default_factory=dict)
    skipped: int = 0  # open model: not started because too many were in flight
    first_send: float = 0.0
    last_response: float = 0.0
    latencies: list[float] = msgspec.field(default_factory=list)
    recipients: list[str] = msgspec.field(default_factory=list)
    uncertain: list[str] = msgspec.field(default_factory=list)  # no answer: may be accepted
    timed_out: bool = False

    @property
    def failures(self) -> int:
        """Non-2xx answers plus transport errors."""
        return self.sent - self.accepted

    @property
    def accepted_per_s(self) -> float:
        """Accepted messages per second between the first send and the last answer."""
        span = self.last_response - self.first_send
        return self.accepted / span if span > 0 else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in seconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank]


class Sender:
    """Keep-alive connections to the API (at most ``connections``) and how to post on them."""

    def __init__(
        self, base_url: str, api_key: str, sender: str, connections: int, timeout: float = 30.0
    ) -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or url.hostname is None:
            raise ValueError(f"an http:// URL is needed, not {base_url!r}")
        self.pool = Pool(url.hostname, url.port or 80, connections)
        self.sender = sender
        self.timeout = timeout
        self._head = (
            f"POST {url.path.rstrip('/')}/v1/messages HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\n"
            f"Authorization: Bearer {api_key}\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: "
        ).encode()

    def request(self, body: bytes) -> bytes:
        """The complete HTTP/1.1 request posting ``body``."""
        return b"%s%d\r\n\r\n%s" % (self._head, len(body), body)

    async def post(self, result: PhaseResult, to: str, index: int, started: float) -> None:
        """Send one message; record status, latency from ``started`` and the recipient."""
        request = self.request(send_body(self.sender, to, index))
        result.sent += 1
        try:
            async with asyncio.timeout(self.timeout):
                status, body = await self.pool.request(request)
        except TRANSPORT_ERRORS as exc:  # no answer: the message may or may not be accepted
            name = type(exc).__name__
            result.errors[name] = result.errors.get(name, 0) + 1
            if sum(result.errors.values()) <= 3:
                print(f"  no answer: {name}: {exc}", flush=True)
            result.uncertain.append(to)
            result.latencies.append(time.perf_counter() - started)  # at least this long
            return
        now = time.perf_counter()
        result.last_response = max(result.last_response, now)
        code = str(status)
        result.statuses[code] = result.statuses.get(code, 0) + 1
        result.latencies.append(now - started)
        if 200 <= status < 300:
            result.accepted += 1
            result.recipients.append(to)
        elif sum(result.statuses.values()) - result.accepted <= 3:
            print(f"  {code}: {body[:300].decode(errors='replace')}", flush=True)

    async def close(self) -> None:
        """Close the connections."""
        await self.pool.close()


async def saturate(
    sender: Sender, prefix: str, messages: int, concurrency: int, time_limit: float
) -> PhaseResult:
    """Closed model: ``concurrency`` clients send ``messages`` in all, or stop at the limit."""
    result = PhaseResult()
    counter = iter(range(messages))
    start = time.perf_counter()
    deadline = start + time_limit
    result.first_send = start

    async def client() -> None:
        for index in counter:
            if time.perf_counter() > deadline:
                result.timed_out = True
                return
            await sender.post(result, recipient(prefix, index), index, time.perf_counter())

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return result


async def offered(
    sender: Sender,
    prefix: str,
    rate: float,
    duration: float,
    max_in_flight: int = 1000,
    on_tick: Callable[[], None] | None = None,
) -> PhaseResult:
    """Open model: start one send every ``1/rate`` s for ``duration`` s, latency from plan."""
    result = PhaseResult()
    total = int(rate * duration)
    tasks: set[asyncio.Task[None]] = set()
    start = time.perf_counter() + 0.05
    result.first_send = start
    for index in range(total):
        planned = start + index / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(tasks) >= max_in_flight:
            result.skipped += 1
            continue
        task = asyncio.create_task(sender.post(result, recipient(prefix, index), index, planned))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        if on_tick is not None and index % 100 == 0:
            on_tick()
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    return result


def status_summary(result: PhaseResult) -> str:
    """``202: 5000`` style summary with errors and skipped sends."""
    parts = [f"{code}: {n}" for code, n in sorted(Counter(result.statuses).items())]
    parts += [f"{name}: {n}" for name, n in sorted(result.errors.items())]
    if result.skipped:
        parts.append(f"not started (overload): {result.skipped}")
    return ", ".join(parts) or "nothing sent"
