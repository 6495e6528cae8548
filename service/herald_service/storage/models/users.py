"""Console operators: people who sign in to the web console, and the accounts they see."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow


class User(Base):
    """An operator. Only an argon2id hash of the password is stored; ``role`` is
    ``admin`` (may change things) or ``viewer`` (may only look)."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserAccount(Base):
    """A membership: the user sees (and, as an admin, manages) this account."""

    __tablename__ = "user_accounts"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
