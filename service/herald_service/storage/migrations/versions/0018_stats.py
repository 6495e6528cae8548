"""stats counters and delivery latency histograms

Counters per account, sending domain, tag (``''``: all tags) and UTC day or hour, added to
by the transactions that write events; and per (account, domain, day) how many deliveries
fell in each of 16 fixed log-scale latency buckets (accept → 250; columns ``b00`` ...
``b15``), for percentiles. Each writer
process adds to its own ``stripe`` of a bucket, so writers do not queue on one hot row.

Revision ID: 0018_stats
Revises: 0017_tracking_host
Create Date: 2026-12-04 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald_service.storage.types import UTCDateTime

revision = "0018_stats"
down_revision = "0017_tracking_host"
branch_labels = None
depends_on = None

_COUNTERS = (
    "accepted_requests",
    "accepted_recipients",
    "delivered",
    "deferred",
    "bounced_hard",
    "bounced_soft",
    "dropped",
    "complained",
    "opened",
    "clicked",
    "unsubscribed",
)


def upgrade() -> None:
    op.create_table(
        "stats_counters",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("granularity", sa.String(length=4), nullable=False),
        sa.Column("tag", sa.String(length=128), nullable=False),
        sa.Column("bucket", UTCDateTime(timezone=True), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("stripe", sa.SmallInteger(), autoincrement=False, nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in _COUNTERS),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_stats_counters_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint(
            "account_id",
            "granularity",
            "tag",
            "bucket",
            "domain",
            "stripe",
            name=op.f("pk_stats_counters"),
        ),
    )
    op.create_table(
        "stats_latency",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("day", UTCDateTime(timezone=True), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("stripe", sa.SmallInteger(), autoincrement=False, nullable=False),
        *(
            sa.Column(f"b{index:02d}", sa.Integer(), nullable=False, server_default="0")
            for index in range(16)
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_stats_latency_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "day", "domain", "stripe", name=op.f("pk_stats_latency")
        ),
    )


def downgrade() -> None:
    op.drop_table("stats_latency")
    op.drop_table("stats_counters")
