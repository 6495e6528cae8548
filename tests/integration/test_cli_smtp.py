"""``herald smtp settings/lockouts/unlock`` against the real Redis the submission servers
share: the operator's view of every lock-out, whatever account its client meant."""

from __future__ import annotations

import subprocess

import pytest
from redis.asyncio import Redis

from herald_service.submission.lockout import Lockout
from support.harness import Herald
from support.processes import HERALD, child_env, herald_json

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_settings_list_and_unlock(herald: Herald, settings_env: dict[str, str]) -> None:
    shown = herald_json(settings_env, "smtp", "settings")
    assert (shown["host"], shown["port"], shown["tls_port"]) == ("mta.herald.example", 587, 465)
    assert shown["password"] == "an API key with the send scope"

    assert herald_json(settings_env, "smtp", "lockouts") == {"data": []}
    redis = Redis.from_url(herald.settings.redis_url)
    try:
        lockout = Lockout.from_settings(redis, herald.settings)
        for _ in range(5):
            await lockout.record_failure("192.0.2.10")
        assert await lockout.is_locked("192.0.2.10")

        listed = herald_json(settings_env, "smtp", "lockouts")
        assert [e["address"] for e in listed["data"]] == ["192.0.2.10"]
        assert 0 < listed["data"][0]["expires_in"] <= herald.settings.submission_lockout_duration

        human = subprocess.run(
            [*HERALD, "smtp", "lockouts"],
            env=child_env(settings_env),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert "192.0.2.10" in human.stdout and "s to go" in human.stdout

        unlocked = herald_json(settings_env, "smtp", "unlock", "192.0.2.10")
        assert unlocked == {"address": "192.0.2.10", "unlocked": True}
        assert not await lockout.is_locked("192.0.2.10")
    finally:
        await redis.aclose()

    again = subprocess.run(
        [*HERALD, "smtp", "unlock", "192.0.2.10"],
        env=child_env(settings_env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 1
    assert "192.0.2.10 is not locked out" in again.stderr and "Traceback" not in again.stderr
