"""The ``herald`` group lists every command, and each feature group loads from its slice."""

from __future__ import annotations

import click
import pytest

from herald_service.cli import FEATURE_COMMANDS, main

COMMANDS = {
    "accounts": {"create", "list"},
    "api": None,
    "dev": None,
    "domains": {"add", "verify", "rotate", "tracking", "reputation", "resume"},
    "inbound": None,
    "ip-pools": {"list", "create", "set-ips", "delete", "warmup", "domain"},
    "ips": {"check", "listings"},
    "keys": {"create", "list", "revoke"},
    "messages": {"cancel", "scheduled"},
    "migrate": None,
    "openapi": None,
    "prune": None,
    "queue": {"list", "show", "retry", "cancel", "destinations"},
    "smtp": {"settings", "lockouts", "unlock"},
    "stats": None,
    "submission": None,
    "templates": {"create", "list", "show", "update", "delete", "versions", "activate", "render"},
    "users": {"create"},
    "webhooks-worker": None,
    "worker": None,
}
# A group named differently from the slice that holds it.
SLICES = {
    "ip-pools": "ip_pools",
    "ips": "blocklists",
    "users": "console",
    "smtp": "submission",
    "queue": "messages",
    "prune": "retention",
}


def test_the_group_lists_every_command_sorted() -> None:
    assert main.list_commands(click.Context(main)) == sorted(COMMANDS)


@pytest.mark.parametrize(("name", "subcommands"), sorted(COMMANDS.items()))
def test_each_command_loads(name: str, subcommands: set[str] | None) -> None:
    command = main.get_command(click.Context(main), name)
    assert command is not None
    assert command.name == name
    if subcommands is None:
        assert not isinstance(command, click.Group)
    else:
        assert isinstance(command, click.Group)
        assert set(command.commands) == subcommands
        slice_name = SLICES.get(name, name)
        assert FEATURE_COMMANDS[name].startswith(f"herald_service.{slice_name}.cli:")
