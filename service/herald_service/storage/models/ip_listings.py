"""What the DNSBL checks know of each sending IP on each configured zone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from herald_service.core.states import ListingStatus
from herald_service.storage.models.base import Base


class IpListing(Base):
    """One sending IP on one DNSBL zone: its standing, the answer that decided it, and
    when it was last asked (0023). Server-wide: IPs belong to no account."""

    __tablename__ = "ip_listings"
    ip: Mapped[str] = mapped_column(String(45), primary_key=True)
    zone: Mapped[str] = mapped_column(String(253), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default=ListingStatus.UNKNOWN.value)
    answer: Mapped[str] = mapped_column(String(200), default="")
    """The A records of the last usable answer (``127.0.0.2``, comma-separated)."""
    meaning: Mapped[str] = mapped_column(Text, default="")
    listed_since: Mapped[datetime | None] = mapped_column(default=None)
    changed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_checked_at: Mapped[datetime | None] = mapped_column(default=None)
    """Set when a worker claims the check, so one worker asks per interval."""
    last_error: Mapped[str] = mapped_column(Text, default="")
    """Why the last lookup proved nothing (timeout, the zone refused it); "" when it did."""
