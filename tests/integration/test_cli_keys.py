"""``herald keys create/list/revoke`` against a real database."""

from __future__ import annotations

import subprocess

from support.harness import Herald
from support.processes import HERALD, child_env, herald_json


async def test_keys_create_list_revoke(herald: Herald, settings_env: dict[str, str]) -> None:
    tenant = await herald.create_tenant("sender.example")
    account = tenant.account_id
    created = herald_json(
        settings_env,
        *("keys", "create", "--account", account, "--scopes", "send", "--name", "ci"),
        *("--domains", "sender.example", "--rate", "5", "--burst", "10"),
        *("--daily-recipients", "1000"),
    )
    assert created["key"].startswith("hrld_")
    assert created["domains"] == ["sender.example"]
    assert created["quotas"] == {"requests_per_second": 5.0, "burst": 10, "daily_recipients": 1000}

    listed = herald_json(settings_env, "keys", "list", "--account", account)
    assert {k["id"] for k in listed["data"]} == {tenant.key_id, created["id"]}
    assert created["key"] not in str(listed)

    revoked = herald_json(settings_env, "keys", "revoke", "--account", account, created["id"])
    assert revoked["revoked_at"] is not None

    refused = subprocess.run(
        [*HERALD, "keys", "create", "--account", account, "--domains", "nope.example"],
        env=child_env(settings_env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert "nope.example is not a sending domain of this account" in refused.stderr
    assert "Traceback" not in refused.stderr
