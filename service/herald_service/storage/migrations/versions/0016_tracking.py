"""open and click tracking, hosted one-click unsubscribe

Per sending domain: whether opens and clicks are tracked and whether messages carry Herald's
one-click unsubscribe by default (all off: transactional mail, privacy first). Per message:
what was tracked and the original URLs of its rewritten links (the only places a click
token can redirect to); ``NULL`` for a message with nothing tracked.

Revision ID: 0016_tracking
Revises: 0015_message_source
Create Date: 2026-12-04 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_tracking"
down_revision = "0015_message_source"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("domains", schema=None) as batch_op:
        for name in ("tracking_opens", "tracking_clicks", "unsubscribe_default"):
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
            )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracking", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("tracking")
    with op.batch_alter_table("domains", schema=None) as batch_op:
        for name in ("unsubscribe_default", "tracking_clicks", "tracking_opens"):
            batch_op.drop_column(name)
