"""Accounts (tenants)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.ids import new_id
from herald_service.storage.models import Account


async def create_account(session: AsyncSession, name: str) -> Account:
    """Create and flush a new account."""
    account = Account(id=new_id("acct"), name=name)
    session.add(account)
    await session.flush()
    return account
