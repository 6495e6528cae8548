"""Sending IPs, pools and warm-up as plain rules.

``HERALD_SENDING_IPS`` lists the addresses mail may leave from, each optionally with the
name it says in EHLO (``127.0.0.10=mta1.example.com,127.0.0.11``). Pools group them; an
address in no pool belongs to the ``default`` pool, which is every address when no pool
is set up. A *warming* address follows a schedule of daily caps (day 1 the first entry,
…); past the schedule it is warm, without a cap. Mail goes through a pool's warming
addresses while they have allowance left today (that is how they earn a reputation),
then through its warm ones; when none is left, it waits for the next UTC day.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from msgspec import Struct

DEFAULT_POOL = "default"
POOL_NAME_PATTERN = "^[a-z0-9][a-z0-9_-]{0,62}$"
POOL_NAME = re.compile(POOL_NAME_PATTERN)
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")

DEFAULT_WARMUP_SCHEDULE: tuple[int, ...] = (
    50, 100, 200, 400, 750, 1_000, 1_500, 2_000, 3_000, 4_000,
    5_000, 7_500, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000, 50_000, 75_000,
    100_000, 125_000, 150_000, 200_000, 250_000, 300_000, 400_000, 500_000, 750_000,
    1_000_000,
)  # fmt: skip
"""Daily caps of a warming address, day 1 first (about SendGrid's 30-day ramp); from day
31 on it has no cap."""


class SendingIp(Struct, frozen=True):
    """One configured sending address; ``ehlo_name`` empty: its PTR name (else the
    server's host name)."""

    address: str
    ehlo_name: str = ""


class IpState(Struct, frozen=True):
    """What a sending address is doing: its pool and warm-up (``None``: not warming)."""

    address: str
    pool: str = DEFAULT_POOL
    warmup_started_on: date | None = None


class Candidate(Struct, frozen=True):
    """An address mail may take now and its cap today (``None``: no cap); the worker
    reserves recipients against the cap in a count all workers share."""

    address: str
    cap: int | None


def is_hostname(name: str) -> bool:
    """Whether ``name`` is a DNS host name (for EHLO)."""
    labels = name.rstrip(".").split(".")
    return len(name) <= 253 and len(labels) >= 2 and all(_HOST_LABEL.match(p) for p in labels)


def parse_sending_ips(raw: str) -> tuple[SendingIp, ...]:
    """``127.0.0.10=mta1.example.com,127.0.0.11``: addresses, each with an optional EHLO
    name; a bad address or name, or an address given twice, is a ``ValueError``."""
    found: dict[str, SendingIp] = {}
    for part in raw.replace(";", ",").split(","):
        item = part.strip()
        if not item:
            continue
        text, _, name = (s.strip() for s in item.partition("="))
        try:
            address = str(ipaddress.ip_address(text))
        except ValueError as exc:
            raise ValueError(f"{text!r} is not an IP address") from exc
        if name and not is_hostname(name):
            raise ValueError(f"{name!r} (EHLO name of {address}) is not a host name")
        if address in found:
            raise ValueError(f"{address} is listed twice")
        found[address] = SendingIp(address, name.rstrip("."))
    return tuple(found.values())


def parse_warmup_schedule(raw: str) -> tuple[int, ...]:
    """``50,100,500,1000``: the daily caps of days 1, 2, …; each a positive whole number,
    none below the one before."""
    caps: list[int] = []
    for part in raw.replace(";", ",").split(","):
        text = part.strip().replace("_", "")
        if not text:
            continue
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"{part.strip()!r} is not a daily cap (a whole number above 0)")
        if caps and int(text) < caps[-1]:
            raise ValueError(f"the caps only grow: {text} comes after {caps[-1]}")
        caps.append(int(text))
    if not caps:
        raise ValueError("give at least one daily cap, e.g. 50,100,500,1000")
    return tuple(caps)


def warmup_day(started_on: date, today: date) -> int:
    """Which day of its warm-up an address started on ``started_on`` is in (1 the first)."""
    return max(1, (today - started_on).days + 1)


def daily_cap(schedule: Sequence[int], started_on: date | None, today: date) -> int | None:
    """How many recipients the address may take ``today``; ``None``: no cap (not warming,
    or past the schedule)."""
    if started_on is None:
        return None
    day = warmup_day(started_on, today)
    return schedule[day - 1] if day <= len(schedule) else None


def next_utc_midnight(now: datetime) -> datetime:
    """The start of the UTC day after ``now``: when a new day's allowance begins."""
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def pool_members(
    pool: str, states: Mapping[str, IpState], configured: Sequence[str]
) -> tuple[str, ...]:
    """The configured addresses of ``pool``. The default pool holds the addresses in no
    other pool (all of them when none is); a pool without addresses falls back to it, so
    its mail still leaves."""
    default = tuple(a for a in configured if _pool_of(a, states) == DEFAULT_POOL) or tuple(
        configured
    )
    if pool == DEFAULT_POOL:
        return default
    members = tuple(a for a in configured if _pool_of(a, states) == pool)
    return members or default


def _pool_of(address: str, states: Mapping[str, IpState]) -> str:
    state = states.get(address)
    return state.pool if state is not None else DEFAULT_POOL


def candidates(
    members: Sequence[str],
    states: Mapping[str, IpState],
    schedule: Sequence[int],
    today: date,
    sent_today: Mapping[str, int] | None = None,
    *,
    excluded: frozenset[str] = frozenset(),
    spread: int = 0,
) -> list[Candidate]:
    """The addresses to try, in order: warming ones with allowance left today first, then
    the warm ones, rotated by ``spread`` (e.g. a hash of the message) so mail spreads over
    them. ``excluded`` addresses (out of rotation) are left out, as are warming ones
    ``sent_today`` says are used up."""
    sent_today = sent_today or {}
    warming: list[Candidate] = []
    warm: list[Candidate] = []
    for address in members:
        if address in excluded:
            continue
        state = states.get(address)
        cap = daily_cap(schedule, state.warmup_started_on if state else None, today)
        if cap is None:
            warm.append(Candidate(address, None))
        elif sent_today.get(address, 0) < cap:
            warming.append(Candidate(address, cap))
    if warm:
        turn = spread % len(warm)
        warm = warm[turn:] + warm[:turn]
    return warming + warm


def waiting_reason(
    members: Iterable[str],
    states: Mapping[str, IpState],
    schedule: Sequence[int],
    today: date,
    excluded: frozenset[str] = frozenset(),
) -> str:
    """Why mail of a pool waits when no address may take it now."""
    usable = [a for a in members if a not in excluded]
    if not usable:
        return "no sending IP of the pool is in rotation; waiting until one is"
    caps = [
        f"{cap} ({a})"
        for a in usable
        if (s := states.get(a)) and (cap := daily_cap(schedule, s.warmup_started_on, today))
    ]
    return f"warm-up: IP daily cap of {', '.join(caps)} reached; waiting for tomorrow's allowance"
