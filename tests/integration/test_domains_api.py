"""``/v1/domains`` against the test DNS server: records, verification outcomes, FCrDNS,
tenant isolation, and which From domains may send."""

from __future__ import annotations

import base64

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from herald_service.security import secretbox
from herald_service.storage.models import DkimKey
from support.domains import SENDING_IPS, by_purpose, create, publish, verify
from support.harness import Herald


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "HERALD_SENDING_IPS": ",".join(SENDING_IPS)}


async def test_new_domain_lists_every_record_to_publish(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("owner.example")
    domain = await create(api, tenant, "Mail.Example.")
    assert domain["name"] == "mail.example"
    assert domain["status"] == "pending"
    assert {r["status"] for r in domain["records"]} == {"pending"}

    (mx,) = by_purpose(domain, "return_path")
    assert (mx["type"], mx["host"], mx["value"]) == (
        "MX",
        "bounces.mail.example",
        "10 mta.herald.example",
    )
    (spf,) = by_purpose(domain, "spf")
    assert spf["host"] == "bounces.mail.example"
    assert spf["value"] == "v=spf1 ip4:127.0.0.9 ip4:127.0.0.10 -all"
    assert spf["required"] is True
    (spf_from,) = by_purpose(domain, "spf_from")
    assert spf_from["host"] == "mail.example" and spf_from["required"] is False

    dkim = by_purpose(domain, "dkim")
    assert [r["value"].split(";")[1].strip() for r in dkim] == ["k=rsa", "k=ed25519"]
    for record in dkim:
        assert record["host"].endswith("._domainkey.mail.example")
        assert "".join(record["strings"]) == record["value"]
        assert all(len(s.encode()) <= 255 for s in record["strings"])
    assert len(dkim[0]["strings"]) == 2  # RSA-2048: longer than one character-string
    selectors = [k["selector"] for k in domain["dkim_keys"]]
    assert selectors[0].startswith("hrld") and selectors[0].endswith("r")
    assert [k["status"] for k in domain["dkim_keys"]] == ["active", "active"]

    (dmarc,) = by_purpose(domain, "dmarc")
    assert dmarc["host"] == "_dmarc.mail.example"
    assert dmarc["value"].startswith("v=DMARC1; p=none; rua=mailto:")
    stages = [s["value"] for s in domain["dmarc_progression"]]
    assert "p=none" in stages[0] and "pct=25" in stages[1]
    assert "p=quarantine" in stages[2] and "p=reject" in stages[3] and "sp=reject" in stages[3]

    ptrs = by_purpose(domain, "ptr")
    assert [r["host"] for r in ptrs] == ["9.0.0.127.in-addr.arpa", "10.0.0.127.in-addr.arpa"]

    # No private key material anywhere in the answer.
    async with herald.runtime.sessions() as session:
        keys = (
            await session.execute(select(DkimKey).where(DkimKey.domain_id == domain["id"]))
        ).scalars()
        for key in keys:
            private = secretbox.decrypt(herald.settings.secret_key or "", key.private_key_encrypted)
            secret_b64 = (
                base64.b64encode(private).decode() if key.algorithm == "rsa" else private.decode()
            )
            assert private.decode("latin-1")[40:80] not in str(domain)
            assert secret_b64[:40] not in str(domain)
    listed = await api.get("/v1/domains", headers=tenant.headers)
    assert "PRIVATE" not in listed.text
    assert [d["name"] for d in listed.json()["data"]] == ["owner.example", "mail.example"]


async def test_verified_when_everything_is_published(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("owner.example")
    domain = await create(api, tenant, "mail.example")
    publish(herald.dns, domain)
    checked = await verify(api, tenant, domain["id"])
    assert checked["status"] == "verified", checked["records"]
    assert checked["verified_at"] is not None
    assert {r["purpose"]: r["status"] for r in checked["records"]} == {
        "return_path": "verified",
        "spf": "verified",
        "dkim": "verified",
        "dmarc": "verified",
        "spf_from": "verified",
        "ptr": "verified",
    }
    ptr = by_purpose(checked, "ptr")[0]
    assert ptr["found"] == ["out-127-0-0-9.herald.example -> 127.0.0.9"]
    # GET shows the stored result of the last verification.
    again = await api.get(f"/v1/domains/{domain['id']}", headers=tenant.headers)
    assert again.json()["records"] == checked["records"]


async def test_missing_and_mismatched_records_are_reported(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("owner.example")
    domain = await create(api, tenant, "mail.example")
    publish(herald.dns, domain, skip=("return_path", "spf", "dkim", "dmarc", "ptr"))
    dns = herald.dns
    dns.add_txt("bounces.mail.example", "v=spf1 ip4:127.0.0.9 ~all")  # one IP, soft fail
    rsa, ed = by_purpose(domain, "dkim")
    other = await create(api, tenant, "other.example")
    dns.add_txt(rsa["host"], by_purpose(other, "dkim")[0]["value"])  # somebody else's key
    dns.add_ptr("127.0.0.9", "out.herald.example")
    dns.add_a("out.herald.example", "127.0.0.99")  # does not point back

    checked = await verify(api, tenant, domain["id"])
    assert checked["status"] == "pending"
    status = {(r["purpose"], r["host"]): r for r in checked["records"]}
    assert status[("return_path", "bounces.mail.example")]["status"] == "missing"
    spf = status[("spf", "bounces.mail.example")]
    assert spf["status"] == "mismatch"
    assert spf["found"] == ["v=spf1 ip4:127.0.0.9 ~all"]
    assert "127.0.0.10" in spf["detail"] and "-all" in spf["detail"]
    assert status[("dkim", rsa["host"])]["status"] == "mismatch"
    assert status[("dkim", rsa["host"])]["found"] == [by_purpose(other, "dkim")[0]["value"]]
    assert status[("dkim", ed["host"])]["status"] == "missing"
    assert status[("dmarc", "_dmarc.mail.example")]["status"] == "missing"
    assert status[("ptr", "9.0.0.127.in-addr.arpa")]["status"] == "mismatch"
    assert status[("ptr", "9.0.0.127.in-addr.arpa")]["found"] == [
        "out.herald.example -> 127.0.0.99"
    ]
    assert status[("ptr", "10.0.0.127.in-addr.arpa")]["status"] == "missing"

    # Fix everything required: verified, even though DMARC and PTR are still advice.
    dns.remove("bounces.mail.example")
    dns.remove(rsa["host"])
    publish(herald.dns, domain, skip=("dmarc", "ptr", "spf_from"))
    fixed = await verify(api, tenant, domain["id"])
    assert fixed["status"] == "verified"
    assert by_purpose(fixed, "dmarc")[0]["status"] == "missing"


async def test_a_dns_failure_does_not_unverify_and_a_removed_record_does(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("owner.example")
    domain = await create(api, tenant, "mail.example")
    publish(herald.dns, domain)
    assert (await verify(api, tenant, domain["id"]))["status"] == "verified"

    herald.dns.set_servfail("bounces.mail.example")
    checked = await verify(api, tenant, domain["id"])
    assert checked["status"] == "verified"
    assert by_purpose(checked, "spf")[0]["status"] == "error"
    assert (
        "SERVFAIL" in by_purpose(checked, "spf")[0]["detail"]
        or by_purpose(checked, "spf")[0]["detail"]
    )

    herald.dns.remove("bounces.mail.example")
    checked = await verify(api, tenant, domain["id"])
    assert checked["status"] == "pending"
    assert by_purpose(checked, "spf")[0]["status"] == "missing"


async def test_domains_are_scoped_to_the_account_and_by_key_scope(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    owner = await herald.create_tenant("owner.example")
    stranger = await herald.create_tenant("stranger.example")
    reader = await herald.create_tenant("reader.example", scopes=("send", "read"))
    domain = await create(api, owner, "mail.example")
    path = f"/v1/domains/{domain['id']}"
    for method, url in [
        ("GET", path),
        ("DELETE", path),
        ("POST", path + "/verify"),
        ("POST", path + "/dkim/rotate"),
    ]:
        response = await api.request(method, url, headers=stranger.headers)
        assert response.status_code == 404, (method, url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    listed = await api.get("/v1/domains", headers=stranger.headers)
    assert [d["name"] for d in listed.json()["data"]] == ["stranger.example"]

    denied = await api.post("/v1/domains", headers=reader.headers, json={"name": "x.example"})
    assert denied.status_code == 403
    assert (await api.get("/v1/domains", headers=reader.headers)).status_code == 200
    assert (await api.get(path, headers={"Authorization": "Bearer nope"})).status_code == 401


async def test_bad_input_is_a_problem_naming_the_field(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("owner.example")
    for body, field in [
        ({"name": "not a domain"}, "name"),
        ({"name": "ok.example", "dkim_selector": "bad selector!"}, "dkim_selector"),
        ({"name": "ok.example", "colour": "red"}, "colour"),
        ({}, "name"),
    ]:
        response = await api.post("/v1/domains", headers=tenant.headers, json=body)
        assert response.status_code in (400, 422), response.text
        assert [e["field"] for e in response.json()["errors"]] == [field], response.text
    duplicate = await api.post(
        "/v1/domains", headers=tenant.headers, json={"name": "owner.example"}
    )
    assert duplicate.status_code == 409


async def test_deleted_domain_stops_sending_and_can_be_added_again(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    message = {
        "from": "app@sender.example",
        "to": "a@receiver.example",
        "subject": "s",
        "text": "t",
    }
    assert (await api.post("/v1/messages", headers=tenant.headers, json=message)).status_code == 202
    deleted = await api.delete(f"/v1/domains/{tenant.domain_id}", headers=tenant.headers)
    assert deleted.status_code == 204
    assert (
        await api.get(f"/v1/domains/{tenant.domain_id}", headers=tenant.headers)
    ).status_code == 404
    refused = await api.post("/v1/messages", headers=tenant.headers, json=message)
    assert refused.status_code == 422
    async with herald.runtime.sessions() as session:
        keys = (
            await session.execute(select(DkimKey).where(DkimKey.domain_id == tenant.domain_id))
        ).scalars()
        assert {(k.status, k.private_key_encrypted) for k in keys} == {("retired", b"")}
    again = await create(api, tenant, "sender.example")
    assert again["id"] != tenant.domain_id and again["status"] == "pending"


@pytest.mark.parametrize(
    ("sender", "problem"),
    [
        ("app@unverified.example", "is not verified"),
        ("app@stranger.example", "is not a sending domain of this account"),
        ("app@sender.example.attacker.example", "is not a sending domain of this account"),
        ("app@mysender.example", "is not a sending domain of this account"),
        ("app@news.sender.example", "does not allow sending from subdomains"),
        ("app@news.unverified.example", "needs unverified.example verified"),
    ],
)
async def test_from_must_be_a_verified_domain_of_the_account(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    sender: str,
    problem: str,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    await herald.create_tenant("stranger.example")
    await create(api, tenant, "unverified.example", allow_subdomains=True)
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={"from": sender, "to": "a@receiver.example", "subject": "s", "text": "t"},
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert [e["field"] for e in body["errors"]] == ["from"]
    assert problem in body["errors"][0]["message"]


async def test_subdomains_send_when_the_domain_allows_them(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("owner.example")
    domain = await create(api, tenant, "brand.example", allow_subdomains=True)
    publish(herald.dns, domain)
    assert (await verify(api, tenant, domain["id"]))["status"] == "verified"
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={"from": "news@mail.brand.example", "to": "a@receiver.example", "text": "t"},
    )
    assert response.status_code == 202, response.text
