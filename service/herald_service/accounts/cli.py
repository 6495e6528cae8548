"""``herald accounts``: create accounts from the command line."""

from __future__ import annotations

import click

from herald_service.accounts.service import create_account
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
