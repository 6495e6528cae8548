"""``herald messages``: cancel a scheduled message, list the scheduled ones.

The operator's view: any account's message, written to the database directly with the
same rules as ``POST /v1/messages/{id}/cancel`` (the event and its webhooks included).
"""

from __future__ import annotations

import click

from herald_service.cli.output import emit, with_session
from herald_service.messages.cancel import cancel_in
from herald_service.messages.scheduled import scheduled_messages
from herald_service.settings import get_settings


@click.group()
def messages() -> None:
    """Scheduled messages: list and cancel."""


@messages.command("cancel")
@click.argument("message_id")
@click.option("--account", "account_id", default=None, help="Only if it is this account's.")
@click.option("--json", "as_json", is_flag=True)
def messages_cancel(message_id: str, account_id: str | None, as_json: bool) -> None:
    """Cancel a message whose recipients have not started (scheduled or not yet tried)."""
    canceled = with_session(get_settings(), lambda s: cancel_in(s, account_id, message_id))
    emit(
        as_json,
        {"id": message_id, "status": "canceled", "recipients": canceled},
        f"canceled {message_id} ({len(canceled)} recipient{'s' if len(canceled) != 1 else ''})",
    )


@messages.command("scheduled")
@click.option("--account", "account_id", required=True)
@click.option("--json", "as_json", is_flag=True)
def messages_scheduled(account_id: str, as_json: bool) -> None:
    """List an account's scheduled messages, the soonest due first."""
    rows = with_session(get_settings(), lambda s: scheduled_messages(s, account_id))
    payload = {
        "data": [
            {
                "id": m.id,
                "send_at": m.send_at.isoformat() if m.send_at else None,
                "subject": m.subject,
                "recipients": [r.email for r in m.recipients],
            }
            for m in rows
        ]
    }
    lines = [
        f"{m.id}  {m.send_at.isoformat() if m.send_at else '-'}  {len(m.recipients):>4}  "
        f"{m.subject}"
        for m in rows
    ]
    emit(as_json, payload, "\n".join(lines) or "no scheduled messages")
