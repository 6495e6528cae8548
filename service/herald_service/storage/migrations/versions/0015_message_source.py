"""messages.source: the door a message came in by, ``api`` or ``smtp``

Existing rows came through the API; the server default says so without rewriting them.

Revision ID: 0015_message_source
Revises: 0014_scheduled
Create Date: 2026-12-04 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_message_source"
down_revision = "0014_scheduled"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=8), nullable=False, server_default="api")
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("source")
