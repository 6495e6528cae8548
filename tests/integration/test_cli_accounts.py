"""``herald accounts create/list`` against a real database."""

from __future__ import annotations

from support.harness import Herald
from support.processes import herald_json


async def test_accounts_list_shows_every_account_with_its_keys_and_domains(
    herald: Herald, settings_env: dict[str, str]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    created = herald_json(settings_env, "accounts", "create", "Acme")
    herald_json(settings_env, "keys", "create", "--account", created["id"], "--scopes", "send")
    revoked = herald_json(settings_env, "keys", "create", "--account", created["id"])
    herald_json(settings_env, "keys", "revoke", "--account", created["id"], revoked["id"])

    listed = herald_json(settings_env, "accounts", "list")
    by_id = {a["id"]: a for a in listed["data"]}
    assert by_id[created["id"]]["name"] == "Acme"
    assert by_id[created["id"]]["active_keys"] == 1  # the revoked one is not counted
    assert by_id[created["id"]]["domains"] == 0
    assert by_id[tenant.account_id]["active_keys"] == 1
    assert by_id[tenant.account_id]["domains"] == 1
    order = [a["id"] for a in listed["data"]]
    assert order.index(tenant.account_id) < order.index(created["id"])  # oldest first
