"""Messages written straight into the database, at a chosen time and in chosen recipient
states, for tests of queries over history (search, the console's Overview)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from herald_service.core.ids import new_id
from herald_service.storage.database import make_async_engine
from herald_service.storage.models import Message, Recipient


def message_row(
    message_id: str,
    account_id: str,
    domain_id: str,
    at: datetime,
    tags: list[str],
    sender: str = "app@example.com",
) -> dict[str, object]:
    """The columns of a stored message."""
    return {
        "id": message_id,
        "account_id": account_id,
        "domain_id": domain_id,
        "from_email": sender,
        "subject": "s",
        "message_id_header": f"<{message_id}@example.com>",
        "raw": b"Subject: s\r\n\r\nbody\r\n",
        "tags": tags,
        "metadata_": {},
        "created_at": at,
    }


async def store_message(
    database_url: str, account_id: str, domain_id: str, at: datetime, *statuses: str
) -> str:
    """One message created ``at`` with a recipient in each of ``statuses``; its id."""
    message_id = new_id("msg")
    engine = make_async_engine(database_url)
    try:
        async with engine.begin() as db:
            await db.execute(
                insert(Message), [message_row(message_id, account_id, domain_id, at, [])]
            )
            await db.execute(
                insert(Recipient),
                [
                    {
                        "message_id": message_id,
                        "email": f"r{n}@receiver.example",
                        "domain": "receiver.example",
                        "kind": "to",
                        "status": status,
                        "updated_at": at,
                    }
                    for n, status in enumerate(statuses)
                ],
            )
    finally:
        await engine.dispose()
    return message_id
