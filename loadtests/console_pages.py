"""How long each console page takes with a large history: the page-time benchmark.

Seeds an account with ``--messages`` messages (``loadtests/console_seed.py``), starts the
real ``herald api`` on loopback, signs in as a console admin and requests every page
``--requests`` times, one at a time. For each page it reports the p50 and p95 of the
server's own time (the ``Server-Timing: app;dur=`` header the console adds: from its
``before_request`` hook to the response's start, template rendering included) and of the
time the client saw over loopback. The goal is every page at or under 100 ms p95.

    .venv/bin/python -m loadtests.console_pages [--messages 100000] [--database sqlite|postgresql]

The server runs with ``HERALD_DELIVERY_MODE=capture``, so the Inbox lists both what it
holds: the captured copies of delivered mail and the sandbox messages.

The Overview is measured twice: as most views find it (the days before today counted
within the last 5 minutes, kept in Redis) and, five times, with that count dropped first
(what the first view every 5 minutes pays); the goal applies to the former.

PostgreSQL: a database is created on ``HERALD_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``) and dropped at the end. Redis:
``HERALD_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``), for the console's sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from herald_service.settings import load_settings
from herald_service.storage.database import make_engine
from herald_service.storage.migrate import upgrade
from loadtests import console_seed, inbox_seed
from loadtests.page_timings import Figures, figures, measure, table

GOAL_MS = 100.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT = re.compile(r'href="/console\?([^"]*cursor=[^"]+)"')
INBOX_NEXT = re.compile(r'href="/console/inbox\?([^"]*cursor=[^"]+)"')
CAPTURED_SHARE = 0.04  # of the delivered recipients: ~5,000 copies for 100,000 messages


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """A migrated, empty database URL of ``kind``; PostgreSQL's is dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp / 'herald.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    admin_url = os.environ.get(
        "HERALD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    name = f"herald_pages_{secrets.token_hex(4)}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as db:
            db.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Seeded(NamedTuple):
    """The seeded rows the pages address."""

    rows: console_seed.Seeded
    captured: inbox_seed.Captured
    template_id: str


def seed(env: dict[str, str], messages: int) -> Seeded:
    """The benchmark's account (and a smaller other account, with its own captured copies
    and sandbox messages), then ``ANALYZE``."""
    settings = load_settings(env, env_file=Path("/nonexistent"))
    account_id, domain_ids = asyncio.run(
        console_seed.create_tenant(settings, "Benchmark shop", with_user=True)
    )
    other_id, other_domains = asyncio.run(
        console_seed.create_tenant(settings, "Another tenant", with_user=False)
    )
    engine = make_engine(settings.database_url)
    try:
        started = time.monotonic()
        sample = console_seed.store_messages(engine, account_id, domain_ids, messages, seed=1)
        console_seed.store_messages(engine, other_id, other_domains, messages // 10, seed=2)
        console_seed.store_suppressions(engine, account_id, 2_000)
        template_id = console_seed.store_templates(engine, account_id, 200)
        secret = settings.require_secret_key()
        captured = inbox_seed.store_captured(engine, secret, account_id, CAPTURED_SHARE, seed=1)
        inbox_seed.store_captured(engine, secret, other_id, CAPTURED_SHARE, seed=2)
        with engine.begin() as db:
            db.execute(text("ANALYZE"))
        print(
            f"seeded {messages} + {messages // 10} messages in {time.monotonic() - started:.0f} s"
        )
    finally:
        engine.dispose()
    return Seeded(console_seed.Seeded(account_id, domain_ids, sample), captured, template_id)


def pages(both: Seeded, cursor_query: str, inbox_cursor_query: str) -> dict[str, str]:
    """Every page measured, by name."""
    seeded, captured, template_id = both
    account = f"account={seeded.account_id}"
    copy = f"/console/inbox/captured/{captured.id}"
    inbox = f"/console/inbox?{account}"
    return {
        "Overview": f"/console/overview?{account}",
        "Stats, 30 days": f"/console/stats?{account}&days=30",
        "Queue": f"/console/queue?{account}",
        "Activity": f"/console?{account}",
        "Activity, status=bounced": f"/console?{account}&status=bounced",
        "Activity, status=captured (sandbox)": f"/console?{account}&status=captured",
        f"Activity, tag={seeded.tag}": f"/console?{account}&tag={seeded.tag}",
        "Activity, domain": f"/console?{account}&domain=billing.example",
        "Activity, recipient": f"/console?{account}&recipient={seeded.recipient}",
        "Activity, 2nd page (cursor)": f"/console?{cursor_query}",
        "Activity rows fragment": f"/console/activity/rows?{account}",
        "Message": f"/console/messages/{seeded.message_id}",
        "Scheduled": f"/console/scheduled?{account}",
        "Suppressions": f"/console/suppressions?{account}",
        "Templates": f"/console/templates?{account}",
        "Template": f"/console/templates/{template_id}?{account}",
        "API keys": f"/console/keys?{account}",
        "Domains": f"/console/domains?{account}",
        "Domain": f"/console/domains/{seeded.domain_ids[0]}",
        "Webhooks": f"/console/webhooks?{account}",
        "IP pools": "/console/ip-pools",
        "Inbox": inbox,
        "Inbox, searched by an address": f"{inbox}&{urlencode({'q': captured.address})}",
        "Inbox, searched by subject words": f"{inbox}&{urlencode({'q': captured.words})}",
        "Inbox, 2nd page (cursor)": f"/console/inbox?{inbox_cursor_query}",
        "Inbox rows fragment": f"/console/inbox/rows?{account}",
        "Inbox, captured message": copy,
        "Inbox, captured message, Check tab": f"{copy}?tab=check",
    }


def sign_in(client: httpx.Client) -> None:
    """Sign in through the form, as a browser would."""
    form = client.get("/console/sign-in")
    found = CSRF.search(form.text)
    assert found is not None, form.text
    data = {
        "email": console_seed.EMAIL,
        "password": console_seed.PASSWORD,
        "csrf_token": found.group(1),
    }
    response = client.post("/console/sign-in", data=data)
    assert response.status_code == 303, response.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=40, help="per page and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, database(args.database, Path(tmp)) as url:
        env = {
            "HERALD_DATABASE_URL": url,
            "HERALD_REDIS_URL": os.environ.get("HERALD_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "HERALD_SECRET_KEY": secrets.token_urlsafe(32),
            "HERALD_QUEUE_NAME": f"herald-pages-{secrets.token_hex(3)}",
            "HERALD_OUTCOME_JOURNAL_DIR": str(Path(tmp) / "journal"),
            "HERALD_DELIVERY_MODE": "capture",
        }
        seeded = seed(env, args.messages)
        results = run(env, seeded, args.requests, args.rounds)
    print(f"\n{args.messages} messages, {args.database}, {args.rounds} rounds of")
    print(f"{args.requests} requests per page (ms; medians over the rounds)\n")
    print("| page | server p50 | server p95 | client p50 | client p95 | server p95 per round |")
    print("|---|---:|---:|---:|---:|---|")
    print("\n".join(table(results)))
    missed = [
        name
        for name, rounds in results.items()
        if "cold" not in name and statistics.median(r[1] for r in rounds) > GOAL_MS
    ]
    print(f"\nover {GOAL_MS:.0f} ms p95: {', '.join(missed) or 'none'}")


def run(
    env: dict[str, str], seeded: Seeded, requests: int, rounds: int
) -> dict[str, list[Figures]]:
    """Start ``herald api``, sign in, measure every page ``rounds`` times."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")} | env
    command = [sys.executable, "-m", "herald_service", "api", "--host", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--port", str(port)], env=child_env, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process)
        with httpx.Client(base_url=base, timeout=30) as client:
            sign_in(client)
            account_id = seeded.rows.account_id
            cursor_query = next_page(client, f"/console?account={account_id}", NEXT)
            inbox = next_page(client, f"/console/inbox?account={account_id}", INBOX_NEXT)
            results: dict[str, list[Figures]] = {}
            measured = pages(seeded, cursor_query, inbox)
            for _ in range(rounds):
                for name, path in measured.items():
                    results.setdefault(name, []).append(figures(*measure(client, path, requests)))
            return results
    finally:
        process.terminate()
        process.wait(timeout=15)


def next_page(client: httpx.Client, path: str, link: re.Pattern[str]) -> str:
    """The query of the link to the second page of ``path``."""
    found = link.search(client.get(path).text)
    assert found is not None, f"no second page of {path}"
    return found.group(1).replace("&amp;", "&")


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until the API answers ``/healthz``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("herald api exited")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("herald api did not start")


if __name__ == "__main__":
    main()
