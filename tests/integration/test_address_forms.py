"""Addresses as callers write them: bare or RFC 5322 name-addr, within RFC 5321's limits,
never on a special-use domain (refused when the domain is added, by the same rule)."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from support.harness import Herald, Tenant
from support.message_checks import addresses

SENDER = "app@sender.example"
OK: dict[str, Any] = {
    "from": SENDER,
    "to": "user@receiver.example",
    "subject": "Hi",
    "text": "x",
    "sandbox": True,
}


def with_(**changes: Any) -> dict[str, Any]:
    return {**OK, **{k.rstrip("_"): v for k, v in changes.items()}}


def fields_of(response: Any) -> list[str]:
    return [e.get("field", "") for e in response.json().get("errors", [])]


@pytest.fixture
async def tenant(herald: Herald) -> Tenant:
    return await herald.create_tenant("sender.example")


async def raw_headers(api: AsyncTestClient, tenant: Tenant, body: dict[str, Any]) -> Any:  # type: ignore[type-arg]
    response = await api.post("/v1/messages", json=body, headers=tenant.headers)
    assert response.status_code == 202, response.text
    raw = await api.get(f"/v1/messages/{response.json()['id']}/raw", headers=tenant.headers)
    return message_from_bytes(raw.content, policy=policy.default)


async def test_name_addr_strings_are_accepted_wherever_an_address_is_taken(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    body = with_(
        from_="Acme Support <app@sender.example>",
        to=["Ann Example <ann@receiver.example>", "bob@receiver.example"],
        cc='"Doe, Jane (Ops)" <jane@receiver.example>',
        bcc="<hidden@receiver.example>",
        reply_to="Help Desk <help@sender.example>",
    )
    parsed = await raw_headers(api, tenant, body)
    assert addresses(parsed["From"]) == [(SENDER, "Acme Support")]
    assert addresses(parsed["To"]) == [
        ("ann@receiver.example", "Ann Example"),
        ("bob@receiver.example", ""),
    ]
    assert addresses(parsed["Cc"]) == [("jane@receiver.example", "Doe, Jane (Ops)")]
    assert addresses(parsed["Reply-To"]) == [("help@sender.example", "Help Desk")]
    assert parsed["Bcc"] is None


async def test_display_names_are_quoted_or_encoded_in_the_message(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    plain = await raw_headers(
        api, tenant, with_(from_='"Acme, Inc. \\"EU\\"" <app@sender.example>')
    )
    assert addresses(plain["From"]) == [(SENDER, 'Acme, Inc. "EU"')]
    assert plain["From"].defects == ()
    encoded = await raw_headers(
        api, tenant, with_(from_="=?utf-8?q?J=C3=B6rg_M=C3=BCller?= <app@sender.example>")
    )
    assert addresses(encoded["From"]) == [(SENDER, "Jörg Müller")]
    unicode_name = await raw_headers(api, tenant, with_(to="Zoë Ångström <z@receiver.example>"))
    assert addresses(unicode_name["To"]) == [("z@receiver.example", "Zoë Ångström")]
    for parsed in (encoded, unicode_name):
        head = parsed.as_bytes().split(b"\n\n", 1)[0]
        assert head.isascii() and b"=?utf-8?" in head.lower()


async def test_the_object_form_takes_a_name_addr_too(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    parsed = await raw_headers(
        api, tenant, with_(to={"email": "<ann@receiver.example>", "name": "Ann"})
    )
    assert addresses(parsed["To"]) == [("ann@receiver.example", "Ann")]
    twice = await api.post(
        "/v1/messages",
        json=with_(to={"email": "Ann <ann@receiver.example>", "name": "Other"}),
        headers=tenant.headers,
    )
    assert twice.status_code == 422 and fields_of(twice) == ["to[0].name"]


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("Acme <app@sender.example>, other@receiver.example", "to[0]"),  # two mailboxes
        ("Team: a@receiver.example;", "to[0]"),  # a group
        ("Acme <a@receiver.example> trailing", "to[0]"),
        ("Acme <a@receiver.example", "to[0]"),
        ("Acme <a@receiver.example>\r\nBcc: x@evil.example", "to[0]"),
        ("Acme\n <a@receiver.example>", "to[0]"),
        ('"ceo@bank.example" <a@receiver.example>', "to[0].name"),  # a spoofed address
        ('Acme <"odd local"@receiver.example>', "to[0]"),
        ("Acme <a@host.test>", "to[0]"),
        ("Acme <>", "to[0]"),
    ],
)
async def test_malformed_or_hostile_name_addrs_are_refused(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    value: str,
    field: str,
) -> None:
    response = await api.post("/v1/messages", json=with_(to=[value]), headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert fields_of(response) == [field]
    assert herald.queued_message_ids() == []


async def test_sendgrid_endpoint_takes_a_name_addr_in_email(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    body = {
        "personalizations": [{"to": [{"email": "Ann Example <ann@receiver.example>"}]}],
        "from": {"email": "Acme Support <app@sender.example>"},
        "subject": "s",
        "content": [{"type": "text/plain", "value": "hello"}],
    }
    response = await api.post("/v3/mail/send", json=body, headers=tenant.headers)
    assert response.status_code == 202, response.text
    message_id = response.headers["X-Message-Id"]
    raw = await api.get(f"/v1/messages/{message_id}/raw", headers=tenant.headers)
    parsed = message_from_bytes(raw.content, policy=policy.default)
    assert addresses(parsed["From"]) == [(SENDER, "Acme Support")]
    assert addresses(parsed["To"]) == [("ann@receiver.example", "Ann Example")]


async def test_suppressions_take_a_bare_address(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    response = await api.post(
        "/v1/suppressions", json={"email": "Ann <ann@receiver.example>"}, headers=tenant.headers
    )
    assert response.status_code == 422 and fields_of(response) == ["email"]
    assert "bare address" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("name", ["acme.test", "mail.acme.invalid", "x.localhost", "box.local"])
async def test_special_use_domains_are_refused_when_added_as_when_sending(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    name: str,
) -> None:
    added = await api.post("/v1/domains", json={"name": name}, headers=tenant.headers)
    assert added.status_code == 422, added.text
    assert fields_of(added) == ["name"]
    refusal = added.json()["errors"][0]["message"]
    assert "special-use" in refusal
    sent = await api.post("/v1/messages", json=with_(from_=f"app@{name}"), headers=tenant.headers)
    assert sent.status_code == 422 and fields_of(sent) == ["from"]
    assert refusal in sent.json()["errors"][0]["message"]  # the same rule, the same words
    key = await api.post(
        "/v1/api-keys", json={"scopes": ["send"], "domains": [name]}, headers=tenant.headers
    )
    assert key.status_code == 422, key.text
    listed = await api.get("/v1/domains", headers=tenant.headers)
    assert [d["name"] for d in listed.json()["data"]] == ["sender.example"]


async def test_example_domains_stay_usable(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    """``herald dev`` sends from dev.herald.example; RFC 6761 leaves .example usable."""
    added = await api.post(
        "/v1/domains", json={"name": "dev.herald.example"}, headers=tenant.headers
    )
    assert added.status_code == 201, added.text


async def test_address_length_limits_of_rfc_5321(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    label = "d" * 63
    accepted = [
        "l" * 64 + "@r.example",  # the longest local part
        f"u@{label}.example",  # the longest label
        "l" * 64 + "@" + ".".join([label, label, "d" * 53, "example"]),  # 254 in all
    ]
    refused = [
        "l" * 65 + "@r.example",
        f"u@{label}d.example",
        "l" * 64 + "@" + ".".join([label, label, "d" * 54, "example"]),  # 255
        "u@" + ".".join([label] * 4) + ".example",  # domain over 253
    ]
    assert len(accepted[2]) == 254 and len(refused[2]) == 255
    for address in accepted:
        response = await api.post("/v1/messages", json=with_(to=address), headers=tenant.headers)
        assert response.status_code == 202, (address, response.text)
    for address in refused:
        for field, body in (("to[0]", with_(to=address)), ("from", with_(from_=address))):
            response = await api.post("/v1/messages", json=body, headers=tenant.headers)
            assert response.status_code == 422, (address, response.text)
            assert field in fields_of(response)
    suppression = await api.post(
        "/v1/suppressions", json={"email": "l" * 65 + "@r.example"}, headers=tenant.headers
    )
    assert suppression.status_code == 422 and fields_of(suppression) == ["email"]
