"""Sending IPs, their pools and their warm-up counts (0022).

The addresses themselves are configuration (``HERALD_SENDING_IPS``); a row here holds what
an operator set for one (its pool, its warm-up) and survives the address leaving the
configuration for a while. Pools are server-wide, like the addresses.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow


class IpPool(Base):
    """A named group of sending IPs that domains and messages may choose."""

    __tablename__ = "ip_pools"
    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SendingIpRow(Base):
    """One sending IP's pool (``None``: the default pool) and warm-up (started on
    ``warmup_started_on``; ``None``: warm)."""

    __tablename__ = "sending_ips"
    address: Mapped[str] = mapped_column(String(45), primary_key=True)
    pool: Mapped[str | None] = mapped_column(
        ForeignKey("ip_pools.name", ondelete="SET NULL"), default=None
    )
    warmup_started_on: Mapped[date | None] = mapped_column(Date, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SendingIpDay(Base):
    """How many recipients one IP has taken on one UTC day, shared by every worker (only
    counted while the IP is warming)."""

    __tablename__ = "sending_ip_days"
    address: Mapped[str] = mapped_column(String(45), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent: Mapped[int] = mapped_column(default=0)
