"""destination cool-downs: policy blocks per (sending domain, recipient domain)

A burst of ``5.7.x`` or spam-block refusals from one destination starts a cool-down
(``until``) during which the domain's mail to it waits instead of deepening the block.

Revision ID: 0021_destination_cooldowns
Revises: 0020_retention
Create Date: 2026-12-05 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald_service.storage.types import UTCDateTime

revision = "0021_destination_cooldowns"
down_revision = "0020_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "destination_cooldowns",
        sa.Column("domain_id", sa.String(length=40), nullable=False),
        sa.Column("destination", sa.String(length=253), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("window_started_at", UTCDateTime(), nullable=False),
        sa.Column("blocks", sa.Integer(), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=True),
        sa.Column("last_reply", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["domain_id"], ["domains.id"]),
        sa.PrimaryKeyConstraint("domain_id", "destination"),
    )
    op.create_index("ix_destination_cooldowns_until", "destination_cooldowns", ["until"])


def downgrade() -> None:
    op.drop_index("ix_destination_cooldowns_until", table_name="destination_cooldowns")
    op.drop_table("destination_cooldowns")
