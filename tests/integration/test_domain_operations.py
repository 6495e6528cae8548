"""Operating domains: the CLI, the periodic re-check in the worker, start-up without a
secret key, and no private key in what the processes print."""

from __future__ import annotations

import subprocess
import time
from functools import partial
from pathlib import Path

from sqlalchemy import select

from herald_queue.domain_checker import check_due_domains
from herald_queue.runtime import WorkerRuntime
from herald_queue.scheduler import Duty
from herald_service.dns import make_resolver
from herald_service.domains.checks import recheck_due_domains
from herald_service.domains.service import dns_records
from herald_service.storage.models import Domain
from herald_service.storage.types import utcnow
from support.domains import publish
from support.harness import Herald
from support.processes import HERALD, child_env, herald_json


def test_cli_adds_and_verifies_a_domain(herald: Herald, settings_env: dict[str, str]) -> None:
    account = herald_json(settings_env, "accounts", "create", "Acme")
    domain = herald_json(
        settings_env,
        "domains",
        "add",
        "--account",
        account["id"],
        "--selector",
        "acme2026",
        "--allow-subdomains",
        "acme.example",
    )
    assert [k["selector"] for k in domain["dkim_keys"]] == ["acme2026r", "acme2026e"]
    assert domain["allow_subdomains"] is True
    verify_args = ("domains", "verify", "--account", account["id"], domain["id"])
    pending = herald_json(settings_env, *verify_args)
    assert pending["status"] == "pending"
    assert {r["status"] for r in pending["records"]} == {"missing"}

    publish(herald.dns, domain)
    verified = herald_json(settings_env, *verify_args)
    assert verified["status"] == "verified"
    human = subprocess.run(
        [*HERALD, *verify_args], env=child_env(settings_env), capture_output=True, text=True
    )
    assert human.returncode == 0
    assert "[verified] TXT  acme2026r._domainkey.acme.example" in human.stdout
    assert "PRIVATE" not in human.stdout + human.stderr

    rotated = herald_json(
        settings_env, "domains", "rotate", "--account", account["id"], domain["id"]
    )
    assert [k["status"] for k in rotated["dkim_keys"]] == ["active", "active", "pending", "pending"]
    wrong_account = subprocess.run(
        [*HERALD, "domains", "verify", "--account", "acct_other", domain["id"]],
        env=child_env(settings_env),
        capture_output=True,
        text=True,
    )
    assert wrong_account.returncode == 1
    assert f"no domain {domain['id']}" in wrong_account.stderr


async def test_due_domains_are_rechecked_once_per_interval(herald: Herald) -> None:
    tenant = await herald.create_tenant("sender.example", verified=False, publish=False)
    resolver = make_resolver(herald.settings, cache=False)
    sessions = herald.runtime.sessions
    assert await recheck_due_domains(sessions, herald.settings, resolver, utcnow()) == 1
    assert await recheck_due_domains(sessions, herald.settings, resolver, utcnow()) == 0
    async with sessions() as session:
        domain = await session.get(Domain, tenant.domain_id)
        assert domain is not None and domain.status == "pending"
        records = dns_records(domain, herald.settings)
    for record in records:
        if record.type == "TXT":
            herald.dns.add_txt(record.host, record.value)
        elif record.type == "MX":
            herald.dns.add_mx(record.host, [(10, record.value.split()[1])])
    later = utcnow().replace(microsecond=0)
    later = later.fromtimestamp(
        later.timestamp() + herald.settings.domain_check_interval + 1, later.tzinfo
    )
    assert await recheck_due_domains(sessions, herald.settings, resolver, later) == 1
    async with sessions() as session:
        domain = await session.get(Domain, tenant.domain_id)
        assert domain is not None and domain.status == "verified"


async def test_worker_duty_rechecks_domains(herald: Herald) -> None:
    tenant = await herald.create_tenant("sender.example", verified=True, publish=False)
    runtime = WorkerRuntime(herald.settings)
    recheck = partial(check_due_domains, runtime.sessions, herald.settings)
    runtime.duties.add(Duty("domain re-check", 0.1, recheck))
    runtime.start()
    try:
        deadline = time.monotonic() + 20
        status = "verified"
        while time.monotonic() < deadline:
            async with herald.runtime.sessions() as session:
                row = (
                    await session.execute(select(Domain).where(Domain.id == tenant.domain_id))
                ).scalar_one()
                status = row.status
                if row.last_checked_at is not None:
                    break
            time.sleep(0.1)
        # Nothing is published in the DNS: the re-check unverifies the domain.
        assert status == "pending"
    finally:
        runtime.close()


def test_api_and_worker_refuse_to_start_without_a_secret_key(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    env = child_env({k: v for k, v in settings_env.items() if k != "HERALD_SECRET_KEY"})
    for command in (["api", "--port", "1"], ["worker", "--burst"]):
        result = subprocess.run(
            [*HERALD, *command], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2, (command, result.stderr)
        assert "HERALD_SECRET_KEY is not set" in result.stderr
