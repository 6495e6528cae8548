"""A domain's tracking and unsubscribe defaults: ``PATCH /v1/domains/{id}`` and ``herald
domains tracking`` set them, ``GET`` shows them, and the next send from the domain follows
them (a message's own settings still win); another account's domain is a 404."""

from __future__ import annotations

import re
import subprocess
from email import message_from_bytes, policy

from litestar.testing import AsyncTestClient

from support.harness import Herald, Tenant
from support.processes import HERALD, child_env, herald_json

LINK = "https://shop.example/orders/42?ref=mail"
HTML = f'<html><body><p><a href="{LINK}">Your order</a></p></body></html>'


async def _send(api: AsyncTestClient, tenant: Tenant, **fields: object) -> str:  # type: ignore[type-arg]
    body = {
        "from": f"shop@{tenant.domain}",
        "to": "ann@receiver.example",
        "subject": "Your order",
        "html": HTML,
        "sandbox": True,
        **fields,
    }
    response = await api.post("/v1/messages", headers=tenant.headers, json=body)
    assert response.status_code == 202, response.text
    message_id: str = response.json()["id"]
    return message_id


async def _html_and_headers(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    message_id: str,
) -> tuple[str, dict[str, str]]:
    """The signed message's HTML part and headers, as stored for delivery."""
    raw = await api.get(f"/v1/messages/{message_id}/raw", headers=tenant.headers)
    assert raw.status_code == 200, raw.text
    parsed = message_from_bytes(raw.content, policy=policy.default)
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return html, {k.lower(): str(v) for k, v in parsed.items()}


def _tracked_links(html: str) -> list[str]:
    return re.findall(r'href="([^"]*/t/c/[^"]+)"', html)


async def test_patch_sets_the_defaults_the_next_send_follows(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("shop.example")
    shown = (await api.get(f"/v1/domains/{tenant.domain_id}", headers=tenant.headers)).json()
    assert shown["tracking"] == {"opens": False, "clicks": False, "host": None}
    assert shown["unsubscribe"] is False
    before = await _send(api, tenant)  # this API process now caches the domain
    html, headers = await _html_and_headers(api, tenant, before)
    assert _tracked_links(html) == [] and "list-unsubscribe" not in headers

    patched = await api.patch(
        f"/v1/domains/{tenant.domain_id}",
        headers=tenant.headers,
        json={"tracking": {"opens": True, "clicks": True}, "unsubscribe": True},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["tracking"] == {"opens": True, "clicks": True, "host": None}
    assert patched.json()["unsubscribe"] is True

    after = await _send(api, tenant)  # within the cache's TTL: the PATCH forgot the entry
    html, headers = await _html_and_headers(api, tenant, after)
    assert len(_tracked_links(html)) == 1 and LINK not in html
    assert "/t/o/" in html, "the open pixel"
    assert headers["list-unsubscribe-post"] == "List-Unsubscribe=One-Click"
    assert "/u/" in headers["list-unsubscribe"]

    own = await _send(api, tenant, tracking={"clicks": False}, unsubscribe=False)
    html, headers = await _html_and_headers(api, tenant, own)
    assert _tracked_links(html) == [] and f'href="{LINK}"' in html, "the message's own choice"
    assert "/t/o/" in html, "opens still follow the domain"
    assert "list-unsubscribe" not in headers

    # One field at a time; the others stay as they are.
    partial = await api.patch(
        f"/v1/domains/{tenant.domain_id}",
        headers=tenant.headers,
        json={"tracking": {"opens": False}},
    )
    assert partial.json()["tracking"] == {"opens": False, "clicks": True, "host": None}
    assert partial.json()["unsubscribe"] is True
    listed = (await api.get("/v1/domains", headers=tenant.headers)).json()["data"]
    assert [(d["tracking"], d["unsubscribe"]) for d in listed] == [
        ({"opens": False, "clicks": True, "host": None}, True)
    ]
    last = await _send(api, tenant)
    html, _ = await _html_and_headers(api, tenant, last)
    assert len(_tracked_links(html)) == 1 and "/t/o/" not in html


async def test_another_accounts_domain_scopes_and_refusals(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    url = f"/v1/domains/{theirs.domain_id}"
    foreign = await api.patch(url, headers=mine.headers, json={"unsubscribe": True})
    assert foreign.status_code == 404
    assert (await api.get(url, headers=theirs.headers)).json()["unsubscribe"] is False
    missing = await api.patch(
        "/v1/domains/dom_missing", headers=mine.headers, json={"unsubscribe": True}
    )
    assert missing.status_code == 404

    reader = await herald.create_tenant("reader.example", scopes=("send", "read"))
    own = f"/v1/domains/{reader.domain_id}"
    refused = await api.patch(own, headers=reader.headers, json={"unsubscribe": True})
    assert refused.status_code == 403

    mine_url = f"/v1/domains/{mine.domain_id}"
    for nothing in ({}, {"tracking": {}}, {"tracking": None, "unsubscribe": None}):
        same = await api.patch(mine_url, headers=mine.headers, json=nothing)
        assert same.status_code == 200, same.text
        assert (same.json()["tracking"], same.json()["unsubscribe"]) == (
            {"opens": False, "clicks": False, "host": None},
            False,
        )
    for body, status, field in (
        ({"tracking": {"opens": "yes"}}, 400, "tracking.opens"),
        ({"tracking": {"clicks": None, "opens": 1}}, 400, "tracking.opens"),
        ({"tracking": {"opens": True, "pixel": True}}, 400, "tracking.pixel"),
        ({"unsubscribe": True, "open_tracking": True}, 400, "open_tracking"),
        ({"unsubscribe": 1}, 400, "unsubscribe"),
    ):
        answer = await api.patch(mine_url, headers=mine.headers, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in answer.json()["errors"]] == [field], (body, answer.text)
    unchanged = (await api.get(mine_url, headers=mine.headers)).json()
    assert unchanged["tracking"] == {"opens": False, "clicks": False, "host": None}
    assert unchanged["unsubscribe"] is False


async def test_herald_domains_tracking(herald: Herald, settings_env: dict[str, str]) -> None:
    tenant = await herald.create_tenant("cli.example")
    command = ("domains", "tracking", "--account", tenant.account_id, tenant.domain_id)
    shown = herald_json(settings_env, *command)
    assert (shown["tracking"], shown["unsubscribe"]) == (
        {"opens": False, "clicks": False, "host": None},
        False,
    )
    changed = herald_json(settings_env, *command, "--clicks", "on", "--unsubscribe", "on")
    assert changed["tracking"] == {"opens": False, "clicks": True, "host": None}
    assert changed["unsubscribe"] is True
    text = subprocess.run(
        [*HERALD, *command, "--opens", "on"],
        env=child_env(settings_env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert text.strip() == (
        f"cli.example ({tenant.domain_id}): open tracking on, click tracking on, "
        "one-click unsubscribe on, tracking host none (HERALD_PUBLIC_URL)"
    )

    other = await herald.create_tenant("other.example")
    foreign = subprocess.run(
        [*HERALD, "domains", "tracking", "--account", tenant.account_id, other.domain_id],
        env=child_env(settings_env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert foreign.returncode == 1 and f"no domain {other.domain_id}" in foreign.stderr
    assert "Traceback" not in foreign.stderr
    bad = subprocess.run(
        [*HERALD, *command, "--opens", "maybe"],
        env=child_env(settings_env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "'maybe' is not one of 'on', 'off'" in bad.stderr
