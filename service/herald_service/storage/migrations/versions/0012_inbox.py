"""console inbox: captured messages linked to their Herald message, sandbox index

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-03 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import herald_service.storage.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("captured_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("account_id", sa.String(length=40), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_captured_messages_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(
            "ix_captured_messages_account_received", ["account_id", "received_at"], unique=False
        )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "inbox_cleared_at",
                herald_service.storage.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_sandbox_account_created",
            ["account_id", "created_at"],
            unique=False,
            sqlite_where=sa.text("sandbox = 1"),
            postgresql_where=sa.text("sandbox"),
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_sandbox_account_created")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("inbox_cleared_at")
    with op.batch_alter_table("captured_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_captured_messages_account_received")
        batch_op.drop_index(batch_op.f("ix_captured_messages_message_id"))
        batch_op.drop_column("account_id")
        batch_op.drop_column("message_id")
