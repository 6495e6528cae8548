"""Messages received by the local capture inbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow


class CapturedMessage(Base):
    """A message received by the local capture inbox (``HERALD_DELIVERY_MODE=capture``).

    ``message_id`` and ``account_id`` name the Herald message it is a copy of, read from
    the VERP return path (HMAC checked) when it arrived; NULL for mail Herald did not send,
    which the console shows to nobody.
    """

    __tablename__ = "captured_messages"
    __table_args__ = (Index("ix_captured_messages_account_received", "account_id", "received_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt_tos: Mapped[list[str]] = mapped_column()
    subject: Mapped[str] = mapped_column(Text, default="")
    dkim: Mapped[str] = mapped_column(String(20), default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    message_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    account_id: Mapped[str | None] = mapped_column(String(40), default=None)
