"""the reputation guard: a domain's pause, its last judgement, and its audit trail

``domains.paused_at`` / ``pause_reason`` say a domain is paused (its sends are refused and
its queued mail held) and why; ``reputation`` keeps the last judgement of its rolling
windows, ``warned_at`` when it last raised a warning. ``domain_events`` records each
warning, pause, resume and destination cool-down with who or what caused it.

Revision ID: 0019_reputation
Revises: 0018_stats
Create Date: 2026-12-05 06:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald_service.storage.types import UTCDateTime

revision = "0019_reputation"
down_revision = "0018_stats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("pause_reason", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("warned_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("reputation", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "domain_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("domain_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["domain_id"], ["domains.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_domain_events_domain_at", "domain_events", ["domain_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_domain_events_domain_at", table_name="domain_events")
    op.drop_table("domain_events")
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.drop_column("reputation")
        batch_op.drop_column("warned_at")
        batch_op.drop_column("pause_reason")
        batch_op.drop_column("paused_at")
