"""Addresses an account never sends to again (bounced, complained, unsubscribed, manual)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow


class Suppression(Base):
    """One suppressed address of one account; ``email`` is stored lower case."""

    __tablename__ = "suppressions"
    __table_args__ = (
        UniqueConstraint("account_id", "email"),
        Index("ix_suppressions_account_created", "account_id", "created_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    email: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(20))  # bounce | complaint | unsubscribe | manual
    detail: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
