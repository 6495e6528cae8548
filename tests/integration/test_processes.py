"""Herald as separate processes: `herald api` and `herald worker` on the simulated internet."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from simnet.fixtures import SMTPServerFactory
from support.dkim_check import verify_all
from support.harness import Herald
from support.processes import free_port, herald_json, start, stop, wait_http_ok


def test_cli_creates_account_key_and_domain(settings_env: dict[str, str]) -> None:
    account = herald_json(settings_env, "accounts", "create", "Acme")
    assert account["id"].startswith("acct_")
    key = herald_json(
        settings_env, "keys", "create", "--account", account["id"], "--scopes", "send,read"
    )
    assert key["id"].startswith("key_") and key["key"].startswith("hrld_")
    domain = herald_json(
        settings_env, "domains", "add", "--account", account["id"], "Mail.Acme.Example"
    )
    assert domain["name"] == "mail.acme.example"
    assert domain["status"] == "pending"
    purposes = {r["purpose"] for r in domain["records"]}
    assert {"spf", "dkim", "dmarc", "return_path"} <= purposes
    dkim_values = [r["value"] for r in domain["records"] if r["purpose"] == "dkim"]
    assert any("k=rsa" in v for v in dkim_values) and any("k=ed25519" in v for v in dkim_values)
    assert herald_json(settings_env, "migrate") == {"status": "ok"}


def niceness(pid: int) -> int:
    """The nice value of a running process (field 19 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[16])


async def test_api_and_worker_processes_deliver_a_signed_message(
    herald: Herald, settings_env: dict[str, str], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    port = free_port()
    api = start(settings_env, "api", "--host", "127.0.0.1", "--port", str(port))
    worker = start(settings_env, "worker", "--nice", "7")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http_ok(f"{base}/healthz", api)
        assert httpx.get(f"{base}/readyz").json()["status"] == "ok"
        sent = httpx.post(
            f"{base}/v1/messages",
            headers=tenant.headers,
            json={
                "from": "app@sender.example",
                "to": "bob@receiver.example",
                "subject": "Reset your password",
                "text": "Here is the link.",
            },
        )
        assert sent.status_code == 202, sent.text
        message_id = sent.json()["id"]
        await mx.wait_for_async(1, timeout=15)
        assert verify_all(mx.messages[0].data, herald.dns) == [True, True]
        deadline = time.monotonic() + 10
        while True:
            message = httpx.get(f"{base}/v1/messages/{message_id}", headers=tenant.headers).json()
            if message["status"] == "delivered" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert message["status"] == "delivered"
        attempt = message["recipients"][0]["attempts"][0]
        assert (attempt["mx"], attempt["code"]) == ("mx.receiver.example", 250)
        assert niceness(worker.pid) == 7  # --nice: deliveries yield the CPU to the API
    finally:
        stop(worker)
        stop(api)
