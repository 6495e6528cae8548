"""Stats counters, kept up to date by the transactions that write the events.

Reading a year of stats is one range read of the primary key, whatever the size of the
event log: the counters are added to as events are stored, never computed from them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from herald_service.storage.models.base import Base


class StatsCounter(Base):
    """The counts of one (account, sending domain, tag, day or hour) bucket.

    ``tag`` ``''`` is the row of all messages whatever their tags (so a total never counts
    a message with two tags twice); each tag of a message also adds to its own row. The
    primary key leads with what every read filters on, so a read is one range scan; a
    bucket has one row per ``stripe`` (writer process) that added to it.
    """

    __tablename__ = "stats_counters"
    # Retention finds the hour rows older than 48 hours by it, whatever the account (0020).
    __table_args__ = (Index("ix_stats_counters_granularity_bucket", "granularity", "bucket"),)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    granularity: Mapped[str] = mapped_column(String(4), primary_key=True)  # day | hour
    tag: Mapped[str] = mapped_column(String(128), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    stripe: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    """Which writer process added to it: each keeps to its own stripe, so an API process's
    statement never waits for the row a delivery worker's transaction holds; reads sum
    the stripes."""
    accepted_requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    accepted_recipients: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    delivered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    deferred: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    bounced_hard: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    bounced_soft: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dropped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    complained: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    opened: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    clicked: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unsubscribed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StatsLatency(Base):
    """Per (account, domain, UTC day): how many deliveries took accept → 250 within each
    latency bucket (``b00`` ... ``b15``, see :mod:`herald_service.core.stats`), one row
    for the whole histogram."""

    __tablename__ = "stats_latency"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    day: Mapped[datetime] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    stripe: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    b00: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b01: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b02: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b03: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b04: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b05: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b06: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b07: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b08: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b09: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b10: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b11: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b12: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b13: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b14: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    b15: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
