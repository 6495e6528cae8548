"""Destination cool-downs: a burst of policy blocks pauses one domain's mail to one
destination for a while, instead of retrying into a deepening block.

A ``550 5.7.1 ... spam`` or ``554 ... blocked`` is about the sender, not the address, so
every further message to that destination deepens the block. The outcome writer counts
such refusals per (sending domain, recipient domain) in ``destination_cooldowns``, in the
transaction that records them; ``HERALD_REPUTATION_BLOCK_BURST`` of them within
``HERALD_REPUTATION_BLOCK_WINDOW`` start a cool-down of
``HERALD_REPUTATION_BLOCK_COOLDOWN`` and a ``domain.destination_paused`` event. Workers
keep the active cool-downs in memory (:class:`CooldownBook`, refreshed every few
seconds), so checking one costs a dictionary lookup on the delivery path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from msgspec import Struct
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.core.states import DomainEventType
from herald_service.reputation.notices import announce
from herald_service.settings import Settings
from herald_service.storage.models import DestinationCooldown
from herald_service.storage.types import utcnow

REFRESH_SECONDS = 5.0
"""How often a worker re-reads the active cool-downs (others' reach it this late)."""

_MAX_REPLY_CHARS = 500


class Block(Struct, frozen=True):
    """One policy block: which domain's mail, to which destination, and the reply."""

    account_id: str
    domain_id: str
    domain: str
    destination: str
    reply: str


async def count_blocks(
    session: AsyncSession, settings: Settings, blocks: Sequence[Block], now: datetime
) -> list[tuple[str, str, datetime]]:
    """Add ``blocks`` to their destinations' counts; the ``(domain id, destination,
    until)`` of each cool-down they start (announced as ``domain.destination_paused``)."""
    groups: dict[tuple[str, str], list[Block]] = defaultdict(list)
    for block in blocks:
        groups[(block.domain_id, block.destination.lower())].append(block)
    window = timedelta(seconds=settings.reputation_block_window)
    started: list[tuple[str, str, datetime]] = []
    for (domain_id, destination), group in sorted(groups.items()):
        first = group[0]
        row = await _row(session, first.account_id, domain_id, destination, now)
        if row.window_started_at <= now - window:
            row.window_started_at, row.blocks = now, 0
        row.blocks += len(group)
        row.last_reply = group[-1].reply[:_MAX_REPLY_CHARS]
        cooling = row.until is not None and row.until > now
        if cooling or row.blocks < settings.reputation_block_burst:
            continue
        until = now + timedelta(seconds=settings.reputation_block_cooldown)
        count = row.blocks
        row.until, row.blocks, row.window_started_at = until, 0, now
        await announce(
            session,
            account_id=first.account_id,
            domain_id=domain_id,
            domain=first.domain,
            type=DomainEventType.DESTINATION_PAUSED,
            actor="reputation guard",
            at=now,
            data={
                "destination": destination,
                "blocks": count,
                "window_seconds": settings.reputation_block_window,
                "until": until.isoformat().replace("+00:00", "Z"),
                "last_reply": row.last_reply,
            },
        )
        started.append((domain_id, destination, until))
    await session.flush()
    return started


async def _row(
    session: AsyncSession, account_id: str, domain_id: str, destination: str, now: datetime
) -> DestinationCooldown:
    """The destination's row, created first if absent (without failing when another
    transaction creates it at the same moment), locked for this transaction."""
    values = {
        "domain_id": domain_id,
        "destination": destination,
        "account_id": account_id,
        "window_started_at": now,
        "blocks": 0,
        "until": None,
        "last_reply": "",
    }
    table = DestinationCooldown.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(dialect.insert(table).values(values).on_conflict_do_nothing())
    row = await session.scalar(
        select(DestinationCooldown)
        .where(
            DestinationCooldown.domain_id == domain_id,
            DestinationCooldown.destination == destination,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


class CooldownBook:
    """The active cool-downs as one worker knows them: its own at once, other workers'
    within :data:`REFRESH_SECONDS`."""

    def __init__(self) -> None:
        self._until: dict[tuple[str, str], datetime] = {}

    def until(
        self, domain_id: str, destination: str, now: datetime | None = None
    ) -> datetime | None:
        """When the cool-down of ``domain_id``'s mail to ``destination`` ends, if one runs."""
        if not self._until:
            return None
        end = self._until.get((domain_id, destination.lower()))
        if end is None or end <= (now or utcnow()):
            return None
        return end

    def note(self, started: Sequence[tuple[str, str, datetime]]) -> None:
        """Know the cool-downs this process just started."""
        for domain_id, destination, until in started:
            self._until[(domain_id, destination)] = until

    async def refresh(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Re-read every running cool-down (a read of the ``until`` index's live range)."""
        now = utcnow()
        async with sessions() as session:
            rows = await session.execute(
                select(
                    DestinationCooldown.domain_id,
                    DestinationCooldown.destination,
                    DestinationCooldown.until,
                ).where(DestinationCooldown.until > now)
            )
            self._until = {(d, dest): until for d, dest, until in rows.all() if until}
