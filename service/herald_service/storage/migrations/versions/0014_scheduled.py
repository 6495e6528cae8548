"""scheduled send: messages.send_at and the account's scheduled messages by due time

Scheduled recipients wait with status ``scheduled`` and ``next_attempt_at = send_at``, so
the sweeper finds the due ones through the existing ``ix_recipients_due`` index; the
message keeps the time it was scheduled for, and a partial index (only scheduled messages
are in it) lists an account's by due time.

Revision ID: 0014_scheduled
Revises: 0013_templates
Create Date: 2026-12-03 20:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import herald_service.storage.types

revision = "0014_scheduled"
down_revision = "0013_templates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "send_at",
                herald_service.storage.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_index(
            "ix_messages_account_send_at",
            ["account_id", "send_at"],
            unique=False,
            sqlite_where=sa.text("send_at IS NOT NULL"),
            postgresql_where=sa.text("send_at IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_account_send_at")
        batch_op.drop_column("send_at")
