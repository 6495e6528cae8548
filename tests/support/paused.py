"""A sending domain put in the paused state straight in the database, as the reputation
guard leaves it (``paused_at``, ``pause_reason`` and its ``domain.paused`` event), for the
console's tests of what a paused domain shows and of resuming it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, update

from herald_service.core.ids import new_id
from herald_service.storage.database import make_async_engine
from herald_service.storage.models import Domain, DomainEvent

REASON = "bounce rate 9.09 % over the last 24h (1 of 11) reached the pause threshold of 5 %"


async def pause_domain(
    database_url: str, account_id: str, domain_id: str, reason: str = REASON
) -> datetime:
    """Pause the domain now with ``reason``; when."""
    at = datetime.now(UTC).replace(microsecond=0)
    engine = make_async_engine(database_url)
    try:
        async with engine.begin() as db:
            await db.execute(
                update(Domain)
                .where(Domain.id == domain_id)
                .values(paused_at=at, pause_reason=reason)
            )
            await db.execute(
                insert(DomainEvent).values(
                    id=new_id("evt"),
                    account_id=account_id,
                    domain_id=domain_id,
                    type="domain.paused",
                    at=at,
                    actor="reputation guard",
                    data={"reason": reason},
                )
            )
    finally:
        await engine.dispose()
    return at
