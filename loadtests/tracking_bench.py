"""Tracking endpoints: what one ``herald api`` process on PostgreSQL answers on ``/t/c`` and
``/t/o``.

    .venv/bin/python -m loadtests.tracking_bench --runs 3 --seconds 10 [--messages 400]

Each run starts a fresh :class:`~loadtests.herald_stack.HeraldStack` (throw-away PostgreSQL
database, private Redis with AOF ``everysec``, a tenant with a verified domain), one API
process (``--workers 1``) and no delivery workers, and creates ``--messages`` messages with
open and click tracking (one tracked link each, in batches of 500). Their tokens are made
with the stack's secret key, as the send made them. Then, for the click endpoint and then
the open endpoint, with the lean client of :mod:`loadtests.loadgen` (each request takes the
next message's token, round robin, continuing from phase to phase; a browser's
``User-Agent``):

* **warm-up**: 2 s closed-loop;
* **fixed load**: ``--rate`` requests/s (default 500), open model, for ``--seconds``;
  latency p50, p99 and max from each request's *scheduled* start (no coordinated omission);
* **saturation**: ``--clients`` closed-loop clients for ``--seconds``; answered
  requests/s and the CPU milliseconds per request of the API process, PostgreSQL, Redis and
  the load generator.

Every click must be a ``302`` to the message's link and every open a ``200`` GIF; anything
else is counted. Afterwards the events are counted in the database: one
``message.clicked`` per click answered, and one ``message.opened`` per message opened
(opens count once per recipient per hour, so every message's first open writes an event
and its later ones only check Redis: with ``--messages`` at least the requests of the
phases before it, every open of the fixed-load phase writes). Prints every run and the
medians.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from herald_service.core.tracking_tokens import Kind, make_token
from herald_service.storage.database import make_engine
from herald_service.storage.models import Event
from herald_service.tracking.service import tracking_key
from loadtests.cpu_split import cpu_since, groups, snapshot
from loadtests.herald_stack import HeraldStack
from loadtests.http1 import TRANSPORT_ERRORS
from loadtests.loadgen import RECIPIENT_DOMAIN, PhaseResult, Sender, offered, saturate

WARM_UP_SECONDS = 2.0
MAX_CONNECTIONS = 256
ACCOUNTED = {"api": "API", "postgres": "PostgreSQL", "redis": "Redis", "loadgen": "load gen"}
LINK = "https://shop.bench.example/orders/{index}?ref=mail#top"
GIF = b"GIF89a"


def create_messages(stack: HeraldStack, count: int) -> list[str]:
    """``count`` messages with open and click tracking, one link each; their ids."""
    headers = {"Authorization": f"Bearer {stack.tenant.api_key}"}
    ids: list[str] = []
    with httpx.Client(base_url=stack.base_url, headers=headers, timeout=120) as client:
        while len(ids) < count:
            batch = [
                {
                    "from": f"shop@{stack.tenant.domain}",
                    "to": f"r{index}@{RECIPIENT_DOMAIN}",
                    "subject": f"Order {index}",
                    "html": f'<p>Your <a href="{LINK.format(index=index)}">order</a>.</p>',
                    "tracking": {"opens": True, "clicks": True},
                }
                for index in range(len(ids), min(count, len(ids) + 500))
            ]
            response = client.post("/v1/messages/batch", json={"messages": batch})
            response.raise_for_status()
            ids += [r["id"] for r in response.json()["results"]]
    return ids


class TrackingClient(Sender):
    """GETs of one endpoint's tokens over the pool's keep-alive connections; checks each
    answer (``302`` to the message's link, or ``200`` with a GIF)."""

    def __init__(self, stack: HeraldStack, kind: Kind, ids: list[str]) -> None:
        super().__init__(stack.base_url, "", "", MAX_CONNECTIONS)
        key = tracking_key(stack.env["HERALD_SECRET_KEY"])
        path = {"c": "/t/c/", "o": "/t/o/"}[kind]
        host = stack.base_url.removeprefix("http://")
        self.kind = kind
        self.requests = [
            (
                f"GET {path}{make_token(key, kind, message_id)} HTTP/1.1\r\nHost: {host}\r\n"
                "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0\r\n\r\n"
            ).encode()
            for message_id in ids
        ]
        self.links = [LINK.format(index=index).encode() for index in range(len(ids))]
        self.served = [0] * len(ids)
        self.wrong = 0
        self._next = 0

    def _right(self, status: int, body: bytes) -> bool:
        if self.kind == "o":
            return status == 200 and body.startswith(GIF)
        return status == 302  # the Location is checked once per message, in verify_links

    async def post(self, result: PhaseResult, to: str, index: int, started: float) -> None:
        """One GET of the next message's token (round robin over the phases, so with as
        many messages as requests every open is a first one); ``to`` is unused."""
        which = self._next % len(self.requests)
        self._next += 1
        result.sent += 1
        try:
            async with asyncio.timeout(self.timeout):
                status, body = await self.pool.request(self.requests[which])
        except TRANSPORT_ERRORS as exc:
            name = type(exc).__name__
            result.errors[name] = result.errors.get(name, 0) + 1
            result.latencies.append(time.perf_counter() - started)
            return
        now = time.perf_counter()
        result.last_response = max(result.last_response, now)
        result.statuses[str(status)] = result.statuses.get(str(status), 0) + 1
        result.latencies.append(now - started)
        if self._right(status, body):
            result.accepted += 1
            self.served[which] += 1
        else:
            self.wrong += 1


def verify_links(stack: HeraldStack, ids: list[str]) -> None:
    """Every message's click answers ``302`` to its own link (a real HTTP client)."""
    key = tracking_key(stack.env["HERALD_SECRET_KEY"])
    with httpx.Client(base_url=stack.base_url, follow_redirects=False) as client:
        for index, message_id in enumerate(ids):
            response = client.get(f"/t/c/{make_token(key, 'c', message_id)}")
            assert response.status_code == 302, response.text
            assert response.headers["location"] == LINK.format(index=index)


def count_events(stack: HeraldStack, type_: str) -> int:
    """Events of ``type_`` in the stack's database."""
    assert stack.postgres is not None
    engine = make_engine(stack.postgres.url)
    try:
        with engine.connect() as connection:
            query = select(func.count()).select_from(Event).where(Event.type == type_)
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


async def measure(
    stack: HeraldStack, kind: Kind, ids: list[str], args: argparse.Namespace
) -> tuple[dict[str, float], TrackingClient]:
    """The figures of one endpoint against a started stack."""
    client = TrackingClient(stack, kind, ids)
    name = {"c": "click", "o": "open"}[kind]
    figures: dict[str, float] = {}
    try:
        await saturate(client, "warm", 10**9, args.clients, WARM_UP_SECONDS)
        result = await offered(client, "rate", args.rate, args.seconds)
        figures |= {
            f"{name} p50 ms at {args.rate:g}/s": 1000 * result.percentile(50),
            f"{name} p99 ms at {args.rate:g}/s": 1000 * result.percentile(99),
            f"{name} max ms at {args.rate:g}/s": 1000 * max(result.latencies, default=0.0),
            f"{name} not started at {args.rate:g}/s": result.skipped,
        }
        before = snapshot(groups(stack))
        result = await saturate(client, "saturate", 10**9, args.clients, args.seconds)
        used = cpu_since(before, groups(stack))
    finally:
        await client.close()
    answered = max(result.accepted, 1)
    return {
        f"{name} req/s (saturation)": result.accepted_per_s,
        **{
            f"{name} CPU ms/req {label}": 1000 * used[g] / answered
            for g, label in ACCOUNTED.items()
        },
        **figures,
        f"{name} wrong or no answer": client.wrong + sum(result.errors.values()),
    }, client


def one_run(args: argparse.Namespace) -> dict[str, float]:
    """Start a stack, create the messages, measure both endpoints, count events, stop."""
    stack = HeraldStack(Path(tempfile.gettempdir()), api_workers=1, delivery_workers=0)
    try:
        ids = create_messages(stack, args.messages)
        verify_links(stack, ids)
        clicks, click_client = asyncio.run(measure(stack, "c", ids, args))
        opens, open_client = asyncio.run(measure(stack, "o", ids, args))
        clicked = count_events(stack, "message.clicked")
        opened = count_events(stack, "message.opened")
        expected_clicks = sum(click_client.served) + len(ids)  # + verify_links
        expected_opens = sum(1 for n in open_client.served if n)
        if (clicked, opened) != (expected_clicks, expected_opens):
            print(
                f"  events: {clicked} clicked for {expected_clicks} clicks, "
                f"{opened} opened for {expected_opens} messages opened",
                flush=True,
            )
        return {
            **clicks,
            **opens,
            "clicked events missing": expected_clicks - clicked,
            "opened events missing": expected_opens - opened,
        }
    finally:
        stack.stop()


def main() -> None:
    """Run, print every run and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--clients", type=int, default=64, help="closed-loop, at saturation")
    parser.add_argument("--rate", type=float, default=500.0, help="offered requests/s")
    parser.add_argument("--messages", type=int, default=400, help="tracked messages")
    args = parser.parse_args()
    runs = []
    for index in range(1, args.runs + 1):
        runs.append(one_run(args))
        print(f"run {index} done", file=sys.stderr, flush=True)
    width = max(map(len, runs[0]))
    labels = [f"run {i}" for i in range(1, len(runs) + 1)] + ["median"]
    print(" " * width + "".join(f"{label:>10}" for label in labels))
    for name in runs[0]:
        values = [run[name] for run in runs] + [statistics.median(run[name] for run in runs)]
        print(f"{name:<{width}}" + "".join(f"{value:>10.2f}" for value in values))


if __name__ == "__main__":
    main()
