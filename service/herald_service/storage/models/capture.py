"""Messages received by the local capture inbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow


class CapturedMessage(Base):
    """A message received by the local capture inbox (``HERALD_DELIVERY_MODE=capture``)."""

    __tablename__ = "captured_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt_tos: Mapped[list[str]] = mapped_column()
    subject: Mapped[str] = mapped_column(Text, default="")
    dkim: Mapped[str] = mapped_column(String(20), default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)
