"""``herald templates ...`` against a real database."""

from __future__ import annotations

import subprocess

from support.harness import Herald
from support.processes import HERALD, child_env, herald_json


async def test_templates_create_update_versions_activate_render_delete(
    herald: Herald, settings_env: dict[str, str]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    account = ("--account", tenant.account_id)
    created = herald_json(
        settings_env,
        *("templates", "create", *account, "--name", "Welcome", "--alias", "welcome"),
        *("--subject", "Hi {{ name }}", "--text", "Hello {{ name }}"),
    )
    tid = created["id"]
    assert created["active_version"] == 1 and created["account_id"] == tenant.account_id

    updated = herald_json(
        settings_env, "templates", "update", *account, tid, "--html", "<b>{{ name }}</b>"
    )
    assert updated["active_version"] == 2 and updated["text"] == "Hello {{ name }}"
    versions = herald_json(settings_env, "templates", "versions", *account, tid)
    assert [(v["version"], v["active"]) for v in versions["data"]] == [(2, True), (1, False)]

    rendered = herald_json(
        settings_env, "templates", "render", *account, tid, "--data", '{"name": "<Ann>"}'
    )
    assert rendered == {"subject": "Hi <Ann>", "html": "<b>&lt;Ann&gt;</b>", "text": "Hello <Ann>"}
    activated = herald_json(settings_env, "templates", "activate", *account, tid, "1")
    assert activated["active_version"] == 1 and activated["html"] is None
    listed = herald_json(settings_env, "templates", "list", *account)
    assert [t["id"] for t in listed["data"]] == [tid]

    missing = subprocess.run(
        [*HERALD, "templates", "render", *account, tid],
        env=child_env(settings_env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1
    assert "template_data.name: missing" in missing.stderr
    assert "Traceback" not in missing.stderr

    assert herald_json(settings_env, "templates", "delete", *account, tid)["deleted"] is True
    assert herald_json(settings_env, "templates", "list", *account)["data"] == []
