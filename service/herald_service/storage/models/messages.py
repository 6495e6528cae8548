"""Messages, their recipients and every delivery attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow


class Message(Base):
    """An accepted message: the exact signed bytes that will be delivered."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_account_created", "account_id", "created_at"),
        # The sandbox messages of an account, for the console's inbox.
        Index(
            "ix_messages_sandbox_account_created",
            "account_id",
            "created_at",
            sqlite_where=text("sandbox = 1"),
            postgresql_where=text("sandbox"),
        ),
        # The scheduled messages of an account by due time, for the Scheduled page (0014).
        Index(
            "ix_messages_account_send_at",
            "account_id",
            "send_at",
            sqlite_where=text("send_at IS NOT NULL"),
            postgresql_where=text("send_at IS NOT NULL"),
        ),
        # The messages whose source is still stored, walked in id (time) order by
        # retention; a pruned message leaves it, so a round never re-reads them (0020).
        Index(
            "ix_messages_unpruned",
            "id",
            sqlite_where=text("body_pruned_at IS NULL"),
            postgresql_where=text("body_pruned_at IS NULL"),
        ),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    domain_id: Mapped[str] = mapped_column(ForeignKey("domains.id"))
    from_email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text, default="")
    message_id_header: Mapped[str] = mapped_column(String(400))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    tags: Mapped[list[str]] = mapped_column(default=list)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When it was scheduled for (``send_at``); ``None``: sent at once (migration 0014).
    send_at: Mapped[datetime | None] = mapped_column(default=None)
    # The door it came in by: ``api`` (HTTP) or ``smtp`` (submission; migration 0015).
    source: Mapped[str] = mapped_column(String(8), default="api", server_default="api")
    # What was tracked and the rewritten links' original URLs; None: nothing (0016).
    tracking: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # When retention blanked ``raw`` (``HERALD_RETENTION_BODIES``); None: stored (0020).
    body_pruned_at: Mapped[datetime | None] = mapped_column(default=None)
    # The IP pool it asked for (``ip_pool``); None: its domain's, else the default (0022).
    ip_pool: Mapped[str | None] = mapped_column(String(63), default=None)
    recipients: Mapped[list[Recipient]] = relationship(
        back_populates="message", order_by="Recipient.id", lazy="selectin"
    )


class Recipient(Base):
    """One envelope recipient of a message and its delivery state."""

    __tablename__ = "recipients"
    __table_args__ = (
        Index("ix_recipients_due", "status", "next_attempt_at"),
        # A message's recipients, and their statuses from the index alone (migration 0011).
        Index("ix_recipients_message_status", "message_id", "status"),
        # The messages sent to an address, whatever its case (migration 0011).
        Index("ix_recipients_lower_email", text("lower(email)")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"))
    email: Mapped[str] = mapped_column(String(320))
    domain: Mapped[str] = mapped_column(String(253))
    kind: Mapped[str] = mapped_column(String(3))  # to | cc | bcc
    status: Mapped[str] = mapped_column(String(20))
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    lease_token: Mapped[str | None] = mapped_column(String(40), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    message: Mapped[Message] = relationship(back_populates="recipients")
    attempts: Mapped[list[DeliveryAttempt]] = relationship(
        order_by="DeliveryAttempt.id", lazy="selectin"
    )


class DeliveryAttempt(Base):
    """One try at handing a recipient to a mail server, with the server's answer."""

    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    mx: Mapped[str] = mapped_column(String(253), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    code: Mapped[int | None] = mapped_column(Integer, default=None)
    enhanced_code: Mapped[str] = mapped_column(String(12), default="")
    response: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(20))
    tls: Mapped[str] = mapped_column(String(20), default="")
    tls_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # The local address the connection left from (HERALD_SENDING_IPS); None: the
    # system's choice (0022).
    source_ip: Mapped[str | None] = mapped_column(String(45), default=None)
