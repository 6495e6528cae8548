"""DKIM end to end: publish the returned records, verify, send, and check both signatures
on the delivered message with dkimpy and with mailauth, before and after a key rotation."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from herald_service.domains.checks import verify_domain
from herald_service.domains.service import get_domain
from herald_service.mail.dkim_keys import generate_rsa, txt_record_value
from herald_service.storage.types import utcnow
from simnet.fixtures import SMTPServerFactory
from support.dkim_check import verify_all
from support.domains import by_purpose, create, publish, verify
from support.harness import Herald, Tenant
from support.mailauth import mailauth_results


def selectors(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    return re.findall(r"\bs=([a-z0-9-]+);", head)


async def send_and_deliver(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    mx: Any,
    subject: str,
) -> bytes:
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={
            "from": "app@brand.example",
            "to": "alice@receiver.example",
            "subject": subject,
            "text": "Hello",
        },
    )
    assert response.status_code == 202, response.text
    before = len(mx.messages)
    assert await herald.drain_queue() == 1
    assert len(mx.messages) == before + 1
    raw: bytes = mx.messages[-1].data
    return raw


async def test_signatures_verify_independently_before_and_after_rotation(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    smtp_server_factory: SMTPServerFactory,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("owner.example")
    domain = await create(api, tenant, "brand.example")
    publish(herald.dns, domain)
    assert (await verify(api, tenant, domain["id"]))["status"] == "verified"
    old_rsa, old_ed = (k["selector"] for k in domain["dkim_keys"])
    herald.add_mx("receiver.example", (10, "mx1.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")

    first = await send_and_deliver(herald, api, tenant, mx, "Before rotation")
    assert selectors(first) == [old_rsa, old_ed]
    assert verify_all(first, herald.dns) == [True, True]
    assert mailauth_results(first, herald.dns) == [
        ("rsa-sha256", old_rsa, "pass"),
        ("ed25519-sha256", old_ed, "pass"),
    ]

    rotated = await api.post(f"/v1/domains/{domain['id']}/dkim/rotate", headers=tenant.headers)
    assert rotated.status_code == 201, rotated.text
    body = rotated.json()
    assert [k["status"] for k in body["dkim_keys"]] == ["active", "active", "pending", "pending"]
    new_rsa, new_ed = (k["selector"] for k in body["dkim_keys"][2:])
    assert {new_rsa, new_ed}.isdisjoint({old_rsa, old_ed})
    pending_records = [r for r in by_purpose(body, "dkim") if not r["required"]]
    assert [r["host"].split(".")[0] for r in pending_records] == [new_rsa, new_ed]
    again = await api.post(f"/v1/domains/{domain['id']}/dkim/rotate", headers=tenant.headers)
    assert again.status_code == 409

    # Not published yet: signing stays on the old keys, the domain stays verified.
    checked = await verify(api, tenant, domain["id"])
    assert checked["status"] == "verified"
    assert [k["status"] for k in checked["dkim_keys"]] == ["active", "active", "pending", "pending"]
    assert [r["status"] for r in by_purpose(checked, "dkim")[2:]] == [
        "missing",
        "missing",
    ]
    second = await send_and_deliver(herald, api, tenant, mx, "During rotation")
    assert selectors(second) == [old_rsa, old_ed]

    for record in pending_records:
        herald.dns.add_txt(record["host"], record["value"])
    switched = await verify(api, tenant, domain["id"])
    statuses = [(k["selector"], k["status"]) for k in switched["dkim_keys"]]
    assert statuses == [
        (old_rsa, "retiring"),
        (old_ed, "retiring"),
        (new_rsa, "active"),
        (new_ed, "active"),
    ]
    assert switched["dkim_keys"][0]["retire_at"] is not None
    assert switched["status"] == "verified"

    third = await send_and_deliver(herald, api, tenant, mx, "After rotation")
    assert selectors(third) == [new_rsa, new_ed]
    assert verify_all(third, herald.dns) == [True, True]
    assert mailauth_results(third, herald.dns) == [
        ("rsa-sha256", new_rsa, "pass"),
        ("ed25519-sha256", new_ed, "pass"),
    ]
    # Mail signed before the switch still verifies during the overlap.
    assert verify_all(first, herald.dns) == [True, True]

    # A missing or wrong key in DNS fails in both verifiers.
    herald.dns.remove(f"{new_rsa}._domainkey.brand.example")
    herald.dns.remove(f"{new_ed}._domainkey.brand.example")
    wrong_key = txt_record_value("rsa", generate_rsa().public_key)
    herald.dns.add_txt(f"{new_rsa}._domainkey.brand.example", wrong_key)
    assert verify_all(third, herald.dns) == [False, False]
    assert "pass" not in [r[2] for r in mailauth_results(third, herald.dns)]
    herald.dns.remove(f"{new_rsa}._domainkey.brand.example")
    for record in pending_records:
        herald.dns.add_txt(record["host"], record["value"])

    # After the overlap the old keys are retired: unpublished and erased.
    async with herald.runtime.sessions.begin() as session:
        row = await get_domain(session, tenant.account_id, domain["id"])
        later = utcnow() + timedelta(seconds=herald.settings.dkim_rotation_overlap + 1)
        await verify_domain(session, herald.settings, herald.runtime.resolver, row, later)
        retired = [k for k in row.dkim_keys if k.selector in (old_rsa, old_ed)]
        assert {(k.status, k.private_key_encrypted) for k in retired} == {("retired", b"")}
    final = (await api.get(f"/v1/domains/{domain['id']}", headers=tenant.headers)).json()
    assert [r["host"].split(".")[0] for r in by_purpose(final, "dkim")] == [new_rsa, new_ed]
    assert final["status"] == "verified"
