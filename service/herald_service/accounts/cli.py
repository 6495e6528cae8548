"""``herald accounts``: create and list accounts from the command line."""

from __future__ import annotations

import click

from herald_service.accounts.service import create_account, list_accounts
from herald_service.cli.output import emit, with_session
from herald_service.settings import get_settings


@click.group()
def accounts() -> None:
    """Manage accounts."""


@accounts.command("create")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def accounts_create(name: str, as_json: bool) -> None:
    """Create an account."""
    account = with_session(get_settings(), lambda s: create_account(s, name))
    emit(as_json, {"id": account.id, "name": account.name}, f"created account {account.id}")


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True)
def accounts_list(as_json: bool) -> None:
    """List every account, with its active keys and sending domains."""
    rows = with_session(get_settings(), list_accounts)
    payload = {
        "data": [
            {
                "id": a.id,
                "name": a.name,
                "created_at": a.created_at.isoformat(),
                "active_keys": a.active_keys,
                "domains": a.domains,
            }
            for a in rows
        ]
    }
    lines = [f"{a.id}  {a.active_keys:3} keys  {a.domains:3} domains  {a.name}" for a in rows]
    emit(as_json, payload, "\n".join(lines) or "no accounts")
