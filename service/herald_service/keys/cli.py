"""``herald keys``: create, list and revoke API keys from the command line.

The JSON output is the API's view of a key (:func:`~herald_service.keys.schemas.api_key_out`)
plus its ``account_id``.
"""

from __future__ import annotations

from typing import Any

import click
import msgspec

from herald_service.cli.output import emit, with_session
from herald_service.keys.schemas import api_key_out
from herald_service.keys.service import (
    KeyLimits,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from herald_service.settings import get_settings
from herald_service.storage.models import ApiKey


def _key_payload(key: ApiKey) -> dict[str, Any]:
    payload: dict[str, Any] = msgspec.to_builtins(api_key_out(key))
    return payload | {"account_id": key.account_id}


@click.group()
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.option("--account", "account_id", required=True)
@click.option("--scopes", default="send,read", show_default=True)
@click.option("--name", default="")
@click.option("--domains", default="", help="Comma-separated sending domains (default: all).")
@click.option("--rate", type=float, default=None, help="Requests per second (override).")
@click.option("--burst", type=int, default=None, help="Request burst (override).")
@click.option("--daily-recipients", type=int, default=None, help="Daily recipient cap.")
@click.option("--json", "as_json", is_flag=True)
def keys_create(
    account_id: str,
    scopes: str,
    name: str,
    domains: str,
    rate: float | None,
    burst: int | None,
    daily_recipients: int | None,
    as_json: bool,
) -> None:
    """Create an API key; the key is printed once and never shown again."""
    limits = KeyLimits(requests_per_second=rate, burst=burst, daily_recipients=daily_recipients)
    key, token = with_session(
        get_settings(),
        lambda s: create_api_key(
            s,
            account_id,
            scopes.split(","),
            name,
            domains=[d for d in domains.split(",") if d.strip()],
            limits=limits,
        ),
    )
    payload = _key_payload(key) | {"key": token}
    emit(as_json, payload, f"created key {key.id} ({','.join(key.scopes)}): {token}")


@keys.command("list")
@click.option("--account", "account_id", required=True)
@click.option("--json", "as_json", is_flag=True)
def keys_list(account_id: str, as_json: bool) -> None:
    """List an account's keys (never their secrets)."""
    rows = with_session(get_settings(), lambda s: list_api_keys(s, account_id))
    lines = [
        f"{k.id}  {','.join(k.scopes):16} {'revoked' if k.revoked_at else 'active':8} {k.name}"
        for k in rows
    ]
    emit(as_json, {"data": [_key_payload(k) for k in rows]}, "\n".join(lines) or "no keys")


@keys.command("revoke")
@click.option("--account", "account_id", required=True)
@click.argument("key_id")
@click.option("--json", "as_json", is_flag=True)
def keys_revoke(account_id: str, key_id: str, as_json: bool) -> None:
    """Revoke a key; every API process refuses it within five seconds."""
    key = with_session(get_settings(), lambda s: revoke_api_key(s, account_id, key_id))
    emit(as_json, _key_payload(key), f"revoked {key.id}")
