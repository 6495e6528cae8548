"""Accounts (tenants) and their API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow


class Account(Base):
    """A tenant: owns keys, domains, messages and everything hanging off them."""

    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When an admin last emptied the console's inbox: older sandbox messages leave it.
    inbox_cleared_at: Mapped[datetime | None] = mapped_column(default=None)


class ApiKey(Base):
    """An API key. Only an argon2id hash of its secret is stored."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # Sending domains this key may send from; empty means every domain of the account.
    allowed_domains: Mapped[list[str]] = mapped_column(default=list)
    # Per-key quota overrides; NULL means the server default (``HERALD_QUOTA_*``).
    rate_per_second: Mapped[float | None] = mapped_column(default=None)
    rate_burst: Mapped[int | None] = mapped_column(default=None)
    daily_recipients: Mapped[int | None] = mapped_column(default=None)
