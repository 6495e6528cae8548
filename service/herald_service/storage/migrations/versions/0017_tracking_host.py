"""a sending domain's own tracking host: ``track.<domain>``, a CNAME to Herald

When set and its CNAME verifies, the domain's tracked links, pixels and unsubscribe URLs use
it instead of ``HERALD_PUBLIC_URL``, so recipients see the sender's own domain in them.

Revision ID: 0017_tracking_host
Revises: 0016_tracking
Create Date: 2026-12-04 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_tracking_host"
down_revision = "0016_tracking"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracking_host", sa.String(length=253), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.drop_column("tracking_host")
