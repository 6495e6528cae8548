"""Sending domains and their DKIM keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from herald_service.core.states import DkimKeyStatus, DomainStatus
from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow

_LIVE = text("deleted_at IS NULL")


class Domain(Base):
    """A sending domain of one account, with its DKIM keys.

    ``status`` is ``pending`` or ``verified``; a verified domain the reputation guard
    paused has ``paused_at`` set (and shows as ``paused``). A deleted domain keeps its row (messages
    refer to it) with ``deleted_at`` set; the name may then be added again.
    """

    __tablename__ = "domains"
    __table_args__ = (
        Index(
            "uq_domains_account_id_name_live",
            "account_id",
            "name",
            unique=True,
            sqlite_where=_LIVE,
            postgresql_where=_LIVE,
        ),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(253), index=True)
    status: Mapped[str] = mapped_column(String(20), default=DomainStatus.PENDING.value)
    return_path_host: Mapped[str] = mapped_column(String(253))
    allow_subdomains: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Defaults of its messages (migration 0016): open and click tracking, one-click unsubscribe.
    tracking_opens: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    tracking_clicks: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    unsubscribe_default: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # ``track.<name>`` once asked for: a CNAME to Herald, used when verified (0017).
    tracking_host: Mapped[str | None] = mapped_column(String(253), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    last_checked_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    # The last verification: {"records": [{type, host, value, status, found, detail}]}.
    check_report: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    # The reputation guard (0019): set while paused (sends refused, queued mail held).
    paused_at: Mapped[datetime | None] = mapped_column(default=None)
    pause_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    warned_at: Mapped[datetime | None] = mapped_column(default=None)
    # The last judgement: {"level", "reasons", "windows": [...], "at"}.
    reputation: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    # The IP pool its mail leaves from; None: the default pool (0022).
    ip_pool: Mapped[str | None] = mapped_column(String(63), default=None)
    dkim_keys: Mapped[list[DkimKey]] = relationship(
        back_populates="domain", order_by="DkimKey.created_at", lazy="selectin"
    )


class DkimKey(Base):
    """One DKIM key pair; the private half is encrypted with the secret key.

    ``status``: ``pending`` (published, not yet signing: a rotation waiting for its DNS
    record), ``active`` (signing), ``retiring`` (replaced; still published until
    ``retire_at`` so signatures in transit verify), ``retired`` (private key erased).
    """

    __tablename__ = "dkim_keys"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    domain_id: Mapped[str] = mapped_column(ForeignKey("domains.id"), index=True)
    selector: Mapped[str] = mapped_column(String(63))
    algorithm: Mapped[str] = mapped_column(String(20))  # "rsa" | "ed25519"
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    public_key: Mapped[str] = mapped_column(Text)  # base64, as in the p= tag
    status: Mapped[str] = mapped_column(String(20), default=DkimKeyStatus.ACTIVE.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(default=None)
    retire_at: Mapped[datetime | None] = mapped_column(default=None)
    domain: Mapped[Domain] = relationship(back_populates="dkim_keys")


class DomainEvent(Base):
    """What happened to a domain's standing, and who or what did it: a reputation
    warning, a pause, a resume (by whom), a destination cool-down. The audit trail the
    reputation page shows."""

    __tablename__ = "domain_events"
    __table_args__ = (Index("ix_domain_events_domain_at", "domain_id", "at"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    domain_id: Mapped[str] = mapped_column(ForeignKey("domains.id"))
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    """``reputation guard``, ``api key key_...``, ``console user ...``, ``command line``."""
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DestinationCooldown(Base):
    """Policy blocks one destination (a recipient domain) gave one sending domain, and
    the cool-down a burst of them started: until ``until``, the domain's mail to that
    destination waits instead of deepening the block (0021)."""

    __tablename__ = "destination_cooldowns"
    domain_id: Mapped[str] = mapped_column(ForeignKey("domains.id"), primary_key=True)
    destination: Mapped[str] = mapped_column(String(253), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    window_started_at: Mapped[datetime] = mapped_column()
    blocks: Mapped[int] = mapped_column(default=0)
    """Policy blocks since ``window_started_at``."""
    until: Mapped[datetime | None] = mapped_column(default=None, index=True)
    last_reply: Mapped[str] = mapped_column(Text, default="")
