"""Accounts (tenants)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.ids import new_id
from herald_service.storage.models import Account, ApiKey, Domain


async def create_account(session: AsyncSession, name: str) -> Account:
    """Create and flush a new account."""
    account = Account(id=new_id("acct"), name=name)
    session.add(account)
    await session.flush()
    return account


class AccountSummary(NamedTuple):
    """An account as ``herald accounts list`` shows it."""

    id: str
    name: str
    created_at: datetime
    active_keys: int
    domains: int


async def list_accounts(session: AsyncSession) -> Sequence[AccountSummary]:
    """Every account, oldest first, with its active keys and sending domains counted
    (the operator's view: the command line only, never the API)."""
    keys = (
        select(func.count())
        .where(ApiKey.account_id == Account.id, ApiKey.revoked_at.is_(None))
        .scalar_subquery()
    )
    domains = select(func.count()).where(Domain.account_id == Account.id).scalar_subquery()
    rows = await session.execute(
        select(Account.id, Account.name, Account.created_at, keys, domains).order_by(
            Account.created_at, Account.id
        )
    )
    return [AccountSummary(*row) for row in rows.all()]
