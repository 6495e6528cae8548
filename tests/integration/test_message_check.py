"""``POST /v1/messages/check``: the findings for a message, which is never stored or sent."""

from __future__ import annotations

import base64
import socketserver
import threading
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from support.domains import verify
from support.harness import Herald

SENDER = "app@sender.example"
GOOD: dict[str, Any] = {
    "from": {"email": SENDER, "name": "App"},
    "to": "user@receiver.example",
    "subject": "Your receipt",
    "text": "Thanks for your order.",
    "html": '<p>Thanks for <a href="https://shop.example/o/1">your order</a>.</p>',
    "unsubscribe": {"url": "https://shop.example/unsubscribe"},
}


def checks(body: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["check"], f["severity"]) for f in body["findings"]}


async def test_a_ready_message_has_no_error_and_nothing_is_stored_or_queued(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant()
    await verify(api, tenant, tenant.domain_id)
    response = await api.post("/v1/messages/check", headers=tenant.headers, json=GOOD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"] == {"ok": True, "errors": 0, "warnings": 0, "info": 2}, body
    assert checks(body) == {("domain", "info"), ("spam", "info")}
    assert "not run" in next(f["message"] for f in body["findings"] if f["check"] == "spam")
    assert body["spam_score"] is None
    assert 500 < body["size"] < 5000 and body["size_limit"] == 25 * 1024 * 1024
    assert "RateLimit" in response.headers
    listed = await api.get("/v1/messages", headers=tenant.headers)
    assert listed.json()["data"] == []
    herald.flush_enqueues()
    assert herald.queued_message_ids() == []


async def test_html_and_header_problems_are_reported_with_their_place(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant()
    await verify(api, tenant, tenant.domain_id)
    html = (
        '<div><p>Hi</p>\n<img src="https://cdn.example/a.png">\n'
        '<a href="/account">account</a> <a href="#terms">terms</a> <b><i>x</b></i>'
    )
    message = {
        **GOOD,
        "subject": "",
        "html": html,
        "text": None,
        "reply_to": [SENDER, "b@s.example"],
    }
    response = await api.post("/v1/messages/check", headers=tenant.headers, json=message)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {
        ("html_structure", "error"),
        ("image_alt", "warning"),
        ("link", "error"),
        ("anchor", "error"),
        ("subject", "warning"),
        ("text_part", "info"),
        ("reply_to", "warning"),
    } <= checks(body)
    image = next(f for f in body["findings"] if f["check"] == "image_alt")
    assert (image["field"], image["location"]) == ("html", "line 2, column 1")
    assert body["summary"]["ok"] is False
    severities = [f["severity"] for f in body["findings"]]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)


async def test_domain_readiness_follows_the_account_and_the_last_verification(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant()
    before = (await api.post("/v1/messages/check", headers=tenant.headers, json=GOOD)).json()
    assert ("dkim", "warning") in checks(before)  # verified, but its records never checked
    other = {**GOOD, "from": "app@elsewhere.example"}
    response = await api.post("/v1/messages/check", headers=tenant.headers, json=other)
    refused = next(f for f in response.json()["findings"] if f["check"] == "domain")
    assert (refused["severity"], refused["field"]) == ("error", "from")
    assert "not a sending domain of this account" in refused["message"]
    sent = await api.post("/v1/messages", headers=tenant.headers, json=other)
    assert sent.status_code == 422

    pending = await herald.create_tenant("pending.example", verified=False, publish=False)
    pending_message = {**GOOD, "from": "app@pending.example"}
    body = (
        await api.post("/v1/messages/check", headers=pending.headers, json=pending_message)
    ).json()
    assert "is not verified" in body["findings"][0]["message"]
    assert body["summary"]["ok"] is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"to": "nobody"}, "to[0]"),
        ({"attachments": [{"filename": "a.pdf", "content": "@@"}]}, "attachments[0].content"),
    ],
)
async def test_an_invalid_message_is_refused_as_a_send_refuses_it(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    changes: dict[str, Any],
    field: str,
) -> None:
    tenant = await herald.create_tenant()
    message = {**GOOD, **changes}
    checked = await api.post("/v1/messages/check", headers=tenant.headers, json=message)
    sent = await api.post("/v1/messages", headers=tenant.headers, json=message)
    assert checked.status_code == sent.status_code
    assert checked.json()["errors"] == sent.json()["errors"]
    assert field in [e["field"] for e in checked.json()["errors"]]


async def test_the_check_needs_the_send_scope(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    reader = await herald.create_tenant(scopes=("read",))
    response = await api.post("/v1/messages/check", headers=reader.headers, json=GOOD)
    assert response.status_code == 403
    anonymous = await api.post("/v1/messages/check", json=GOOD)
    assert anonymous.status_code == 401


class _Spamd(socketserver.StreamRequestHandler):
    """A SPAMC peer: scores a message by the word SPAM in it (a protocol test, not rules)."""

    def handle(self) -> None:
        length = 0
        while (line := self.rfile.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        message = self.rfile.read(length)
        score = 9.5 if b"SPAM" in message else 1.2
        verdict = b"True" if score >= 5 else b"False"
        self.wfile.write(b"SPAMD/1.1 0 EX_OK\r\nSpam: %s ; %.1f / 5.0\r\n\r\n" % (verdict, score))


@pytest.fixture
async def spamd_api(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The API with a spamd on a loopback port (served from a thread: the test client
    blocks this event loop while the app answers)."""
    with socketserver.TCPServer(("127.0.0.1", 0), _Spamd) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.server_address[1]
        settings = msgspec.structs.replace(herald.settings, spamd_url=f"tcp://127.0.0.1:{port}")
        async with AsyncTestClient(create_app(settings)) as client:
            yield client
        server.shutdown()
        thread.join()


async def test_spamd_scores_the_built_message_when_configured(
    herald: Herald,
    spamd_api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant()
    clean = (await spamd_api.post("/v1/messages/check", headers=tenant.headers, json=GOOD)).json()
    assert clean["spam_score"] == 1.2
    spammy = {
        **GOOD,
        "text": "SPAM",
        "attachments": [{"filename": "a.txt", "content": base64.b64encode(b"x").decode()}],
    }
    flagged = (
        await spamd_api.post("/v1/messages/check", headers=tenant.headers, json=spammy)
    ).json()
    assert flagged["spam_score"] == 9.5
    assert ("spam", "error") in checks(flagged)


async def test_an_unreachable_spamd_is_a_warning_not_a_failure(herald: Herald) -> None:
    with socketserver.TCPServer(("127.0.0.1", 0), _Spamd) as closed:
        port = closed.server_address[1]
    settings = msgspec.structs.replace(herald.settings, spamd_url=f"127.0.0.1:{port}")
    tenant = await herald.create_tenant()
    async with AsyncTestClient(create_app(settings)) as client:
        response = await client.post("/v1/messages/check", headers=tenant.headers, json=GOOD)
    assert response.status_code == 200
    spam = next(f for f in response.json()["findings"] if f["check"] == "spam")
    assert spam["severity"] == "warning" and "did not answer" in spam["message"]


async def test_a_check_counts_as_a_request_and_charges_no_recipients(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    admin = await herald.create_tenant()
    created = await api.post(
        "/v1/api-keys",
        headers=admin.headers,
        json={
            "scopes": ["send"],
            "quotas": {"daily_recipients": 2, "burst": 3, "requests_per_second": 0.001},
        },
    )
    headers = {"Authorization": f"Bearer {created.json()['key']}"}
    many = {**GOOD, "to": [f"u{i}@receiver.example" for i in range(3)]}
    for _ in range(3):
        response = await api.post("/v1/messages/check", headers=headers, json=many)
        assert response.status_code == 200, response.text
        policies = dict(p.split(";", 1) for p in response.headers["RateLimit"].split(", "))
        assert policies['"recipients-key-day"'].startswith("r=2;"), response.headers["RateLimit"]
    refused = await api.post("/v1/messages/check", headers=headers, json=many)
    assert refused.status_code == 429  # the fourth request, with a burst of 3
