"""sending IPs: pools, warm-up, per-day counts; the pool of a domain and a message; the
source address of an attempt

Revision ID: 0022_sending_ips
Revises: 0021_destination_cooldowns
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald_service.storage.types import UTCDateTime

revision = "0022_sending_ips"
down_revision = "0021_destination_cooldowns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ip_pools",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "sending_ips",
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.Column("pool", sa.String(length=63), nullable=True),
        sa.Column("warmup_started_on", sa.Date(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["pool"], ["ip_pools.name"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_table(
        "sending_ip_days",
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address", "day"),
    )
    with op.batch_alter_table("domains") as batch:
        batch.add_column(sa.Column("ip_pool", sa.String(length=63), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("ip_pool", sa.String(length=63), nullable=True))
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.add_column(sa.Column("source_ip", sa.String(length=45), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.drop_column("source_ip")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("ip_pool")
    with op.batch_alter_table("domains") as batch:
        batch.drop_column("ip_pool")
    op.drop_table("sending_ip_days")
    op.drop_table("sending_ips")
    op.drop_table("ip_pools")
