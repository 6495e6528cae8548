"""``herald stats`` against a real database."""

from __future__ import annotations

import subprocess
from typing import Any

from litestar.testing import AsyncTestClient

from support.harness import Herald
from support.processes import HERALD, child_env, herald_json


async def test_stats_as_json_and_as_a_table(
    herald: Herald, api: AsyncTestClient[Any], settings_env: dict[str, str]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    for tags in (["welcome"], ["welcome", "promo"]):
        response = await api.post(
            "/v1/messages",
            headers=tenant.headers,
            json={
                "from": "app@sender.example",
                "to": ["a@r.example", "b@r.example"],
                "subject": "Hi",
                "text": "Hi",
                "tags": tags,
            },
        )
        assert response.status_code == 202, response.text
    account = ("--account", tenant.account_id)

    report = herald_json(settings_env, "stats", *account, "--group-by", "tag")
    assert {g["key"]: g["counts"]["accepted_recipients"] for g in report["groups"]} == {
        "promo": 2,
        "welcome": 4,
    }
    assert report["total"]["counts"]["accepted_requests"] == 2
    only = herald_json(
        settings_env, "stats", *account, "--tag", "promo", "--domain", "sender.example"
    )
    assert only["total"]["counts"]["accepted_recipients"] == 2

    table = subprocess.run(
        [*HERALD, "stats", *account, "--group-by", "domain"],
        env=child_env(settings_env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    assert table[0].split()[:3] == ["domain", "accepted", "delivered"]
    assert table[1].split()[:3] == ["sender.example", "4", "0"]
    assert table[-1].split()[:2] == ["total", "4"]

    refused = subprocess.run(
        [*HERALD, "stats", *account, "--from", "2026-02-01", "--to", "2026-01-01"],
        env=child_env(settings_env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert "from must be before to" in refused.stderr
    assert "Traceback" not in refused.stderr
