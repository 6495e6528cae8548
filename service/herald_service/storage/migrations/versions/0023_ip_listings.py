"""ip listings: each sending IP's standing on each DNSBL zone

The workers ask every configured zone about every sending IP once per
``HERALD_DNSBL_INTERVAL``; a row keeps the standing, the answer and when it changed.

Revision ID: 0023_ip_listings
Revises: 0022_sending_ips
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald_service.storage.types import UTCDateTime

revision = "0023_ip_listings"
down_revision = "0022_sending_ips"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ip_listings",
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("zone", sa.String(length=253), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("answer", sa.String(length=200), nullable=False),
        sa.Column("meaning", sa.Text(), nullable=False),
        sa.Column("listed_since", UTCDateTime(), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=True),
        sa.Column("last_checked_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("ip", "zone"),
    )


def downgrade() -> None:
    op.drop_table("ip_listings")
