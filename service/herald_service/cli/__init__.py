"""The ``herald`` command line.

This package is Herald's composition root. :mod:`.processes` holds the commands that run
a process (``api``, ``worker``, ``webhooks-worker``, ``inbound``, ``migrate``, ``dev``,
``openapi``); starting the delivery workers, it is where ``herald_service`` imports
``herald_queue`` (lazily, inside those commands only). Each feature's commands live in
its slice (``accounts/cli.py``, ``domains/cli.py``, ``keys/cli.py``, ``messages/cli.py``,
``submission/cli.py``, ``stats/cli.py``, ``retention/cli.py``, ``console/cli.py``,
``blocklists/cli.py``) and are named here by import path: they are loaded when used or
listed, so ``herald worker`` never imports them, and they can share :mod:`.output`
without an import cycle through this module.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from typing import Any

import click

from herald_service.cli import processes
from herald_service.errors import HeraldError
from herald_service.settings import ConfigError, get_settings

FEATURE_COMMANDS: Mapping[str, str] = {
    "accounts": "herald_service.accounts.cli:accounts",
    "domains": "herald_service.domains.cli:domains",
    "ip-pools": "herald_service.ip_pools.cli:ip_pools",
    "ips": "herald_service.blocklists.cli:ips",
    "keys": "herald_service.keys.cli:keys",
    "templates": "herald_service.templates.cli:templates",
    "messages": "herald_service.messages.cli:messages",
    "prune": "herald_service.retention.cli:prune",
    "queue": "herald_service.messages.cli:queue",
    "smtp": "herald_service.submission.cli:smtp",
    "stats": "herald_service.stats.cli:stats",
    "users": "herald_service.console.cli:users",
}


class HeraldGroup(click.Group):
    """A group whose feature command groups are loaded from ``FEATURE_COMMANDS`` on use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Process commands and feature groups, sorted (as click lists them)."""
        return sorted({*super().list_commands(ctx), *FEATURE_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A process command, or the feature group named ``cmd_name`` imported now."""
        path = FEATURE_COMMANDS.get(cmd_name)
        if path is None:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = path.partition(":")
        command: Any = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=HeraldGroup)
@click.version_option(package_name="herald-server")
def main() -> None:
    """Herald: self-hosted transactional email."""
    from herald_service.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)


for _command in processes.COMMANDS:
    main.add_command(_command)


def run() -> None:
    """Entry point that turns configuration errors into a one-line message."""
    try:
        main()
    except ConfigError as exc:
        click.echo(f"herald: configuration error: {exc}", err=True)
        sys.exit(2)
    except HeraldError as exc:
        details = "".join(f"\n  {e.field}: {e.message}" for e in exc.errors)
        click.echo(f"herald: {exc.detail}{details}", err=True)
        sys.exit(1)
