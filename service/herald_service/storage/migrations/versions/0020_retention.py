"""retention: when a message's source was pruned, and the indexes pruning walks

``messages.body_pruned_at`` says when retention blanked ``raw`` (so the API can say the
source is gone rather than serve nothing); a partial index holds only the messages whose
source is still stored, so each pruning round reads those and never the pruned ones.
Hour stats counters older than 48 hours are found by (granularity, bucket), whatever the
account. Events, attempts, webhook deliveries and captured messages are walked by their
primary keys, which grow with time, so they need no new index.

Revision ID: 0020_retention
Revises: 0019_reputation
Create Date: 2026-12-06 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald_service.storage.types import UTCDateTime

revision = "0020_retention"
down_revision = "0019_reputation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_pruned_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_messages_unpruned",
            ["id"],
            unique=False,
            sqlite_where=sa.text("body_pruned_at IS NULL"),
            postgresql_where=sa.text("body_pruned_at IS NULL"),
        )
    op.create_index(
        "ix_stats_counters_granularity_bucket",
        "stats_counters",
        ["granularity", "bucket"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_stats_counters_granularity_bucket", table_name="stats_counters")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_unpruned")
        batch_op.drop_column("body_pruned_at")
