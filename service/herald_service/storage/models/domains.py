"""Sending domains and their DKIM keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow


class Domain(Base):
    """A sending domain of one account, with its DKIM keys."""

    __tablename__ = "domains"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(253), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    return_path_host: Mapped[str] = mapped_column(String(253))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    dkim_keys: Mapped[list[DkimKey]] = relationship(
        back_populates="domain", order_by="DkimKey.created_at", lazy="selectin"
    )


class DkimKey(Base):
    """One DKIM key pair; the private half is encrypted with the secret key."""

    __tablename__ = "dkim_keys"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    domain_id: Mapped[str] = mapped_column(ForeignKey("domains.id"), index=True)
    selector: Mapped[str] = mapped_column(String(63))
    algorithm: Mapped[str] = mapped_column(String(20))  # "rsa" | "ed25519"
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    public_key: Mapped[str] = mapped_column(Text)  # base64, as in the p= tag
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    domain: Mapped[Domain] = relationship(back_populates="dkim_keys")
