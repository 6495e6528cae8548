"""The rows behind sending IPs: what each IP is doing, and the warm-up counts per day.

The counts are shared by every worker on every host: a reservation takes the IP's row of
the day, locked, and grants what is left under the cap, so two workers never both take
the last of an allowance.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.sending_ips import DEFAULT_POOL, IpState
from herald_service.storage.models import SendingIpDay, SendingIpRow


async def ip_states(session: AsyncSession) -> dict[str, IpState]:
    """Every IP's pool and warm-up as set (IPs without a row are warm, in the default
    pool)."""
    rows = await session.scalars(select(SendingIpRow))
    return {
        row.address: IpState(row.address, row.pool or DEFAULT_POOL, row.warmup_started_on)
        for row in rows
    }


async def sent_on(session: AsyncSession, addresses: Sequence[str], day: date) -> dict[str, int]:
    """How many recipients each of ``addresses`` took on ``day`` (counted while warming)."""
    rows = await session.execute(
        select(SendingIpDay.address, SendingIpDay.sent).where(
            SendingIpDay.address.in_(list(addresses)), SendingIpDay.day == day
        )
    )
    return {str(address): int(sent) for address, sent in rows.all()}


async def reserve(session: AsyncSession, address: str, day: date, cap: int, wanted: int) -> int:
    """Take up to ``wanted`` of ``address``'s allowance on ``day`` (``cap`` in all);
    how many it got (0 when the day's cap is reached)."""
    table = SendingIpDay.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(table).values(address=address, day=day, sent=0).on_conflict_do_nothing()
    )
    row = await session.scalar(
        select(SendingIpDay)
        .where(SendingIpDay.address == address, SendingIpDay.day == day)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    granted = max(0, min(wanted, cap - row.sent))
    if granted:
        row.sent += granted
        await session.flush()
    return granted
