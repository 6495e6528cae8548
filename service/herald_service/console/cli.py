"""``herald users``: create console operators from the command line.

The password may come from ``--password``, from ``HERALD_USER_PASSWORD`` (so it stays out
of the shell history and the process list), or from a hidden prompt.
"""

from __future__ import annotations

import click

from herald_service.cli.output import emit, with_session
from herald_service.console.service import ROLES, create_user
from herald_service.settings import get_settings


@click.group()
def users() -> None:
    """Manage console users."""


@users.command("create")
@click.option("--email", required=True)
@click.option(
    "--password",
    envvar="HERALD_USER_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Default: $HERALD_USER_PASSWORD, else asked for.",
)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--account", "account_ids", multiple=True, required=True, help="Repeat for several.")
@click.option("--json", "as_json", is_flag=True)
def users_create(
    email: str, password: str, role: str, account_ids: tuple[str, ...], as_json: bool
) -> None:
    """Create a user who may sign in to the console and see ``--account``."""
    user = with_session(
        get_settings(), lambda s: create_user(s, email, password, role, account_ids)
    )
    payload = {
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "accounts": sorted(account_ids),
        "created_at": user.created_at.isoformat(),
    }
    emit(as_json, payload, f"created {user.role} {user.email} ({user.id})")
