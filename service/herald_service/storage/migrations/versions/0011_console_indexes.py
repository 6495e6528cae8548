"""recipients indexed by message and status, and by address

Two of the console's queries read recipients (docs/performance-notes.md, "Console pages"):

- The Overview counts an account's recipients per status: it takes the account's
  messages of a time range (``ix_messages_account_created``) and, for each, its
  recipients' statuses. With ``(message_id, status)`` that lookup reads the index alone;
  with ``(message_id)`` PostgreSQL preferred to read the whole recipients table (a hash
  join): 85 ms for the last 24 hours of 100,000 messages instead of 15 ms. The new index
  serves every lookup by ``message_id`` the old one did, so it replaces it.
- Activity (and ``GET /v1/messages``) filtered by recipient looks the address up, case
  folded, in ``lower(email)`` and then reads only those messages; before, it checked the
  recipients of every message of the account, newest first, until it had a page: 750 ms
  for an address with a handful of messages among 100,000, now under 1 ms.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 17:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recipients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_recipients_message_status", ["message_id", "status"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_recipients_message_id"))
    op.create_index("ix_recipients_lower_email", "recipients", [sa.text("lower(email)")])


def downgrade() -> None:
    op.drop_index("ix_recipients_lower_email", table_name="recipients")
    with op.batch_alter_table("recipients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recipients_message_id"), ["message_id"], unique=False)
        batch_op.drop_index("ix_recipients_message_status")
