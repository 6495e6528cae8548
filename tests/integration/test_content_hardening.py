"""What hostile content gets: NUL anywhere, trace and identity headers and disguised
executables are refused naming the field; never a 500."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from support.harness import Herald, Tenant

SENDER = "app@sender.example"
OK: dict[str, Any] = {
    "from": SENDER,
    "to": "user@receiver.example",
    "subject": "Hi",
    "text": "x",
    "sandbox": True,
}
PDF = base64.b64encode(b"%PDF-1.4 test").decode()
NUL = "a\x00b"


def with_(**changes: Any) -> dict[str, Any]:
    return {**OK, **{k.rstrip("_"): v for k, v in changes.items()}}


def attachment(**changes: Any) -> dict[str, Any]:
    return {"filename": "report.pdf", "content": PDF, "content_type": "application/pdf", **changes}


def fields_of(response: Any) -> list[str]:
    return [e.get("field", "") for e in response.json().get("errors", [])]


@pytest.fixture
async def tenant(herald: Herald) -> Tenant:
    return await herald.create_tenant("sender.example")


# (request body, the field the 422 must name)
NUL_IN_MESSAGE: list[tuple[dict[str, Any], str]] = [
    (with_(text=NUL), "text"),
    (with_(html=NUL), "html"),
    (with_(subject=NUL), "subject"),
    (with_(from_=f"app{NUL}@sender.example"), "from"),
    (with_(from_={"email": SENDER, "name": NUL}), "from.name"),
    (with_(to=[f"u{NUL}@r.example"]), "to[0]"),
    (with_(to={"email": "u@r.example", "name": NUL}), "to.name"),
    (with_(cc=["ok@r.example", f"{NUL}@r.example"]), "cc[1]"),
    (with_(bcc=f"{NUL}@r.example"), "bcc"),
    (with_(reply_to=f"{NUL}@r.example"), "reply_to"),
    (with_(headers={"X-Ref": NUL}), "headers.X-Ref"),
    (with_(headers={f"X-{NUL}": "v"}), "headers"),
    (with_(tags=["ok", NUL]), "tags[1]"),
    (with_(metadata={"order": NUL}), "metadata.order"),
    (with_(metadata={NUL: "v"}), "metadata"),
    (with_(attachments=[attachment(filename=f"{NUL}.pdf")]), "attachments[0].filename"),
    (with_(attachments=[attachment(content_type=NUL)]), "attachments[0].content_type"),
    (with_(attachments=[attachment(content=NUL)]), "attachments[0].content"),
    (with_(unsubscribe={"url": f"https://u.example/{NUL}"}), "unsubscribe.url"),
    (with_(unsubscribe={"mailto": f"{NUL}@u.example"}), "unsubscribe.mailto"),
]


async def test_nul_in_any_message_field_is_refused_naming_it(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    failures = []
    for body, field in NUL_IN_MESSAGE:
        response = await api.post("/v1/messages", json=body, headers=tenant.headers)
        if response.status_code != 422 or field not in fields_of(response):
            failures.append(f"{field}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
    listed = await api.get("/v1/messages", headers=tenant.headers)
    assert listed.json()["data"] == []  # nothing was stored
    assert herald.queued_message_ids() == []


async def test_other_control_characters_are_legal_body_text(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    text = "col1\tcol2\x0cnext page \x1b[1mbold\x1b[0m"
    response = await api.post("/v1/messages", json=with_(text=text), headers=tenant.headers)
    assert response.status_code == 202, response.text
    raw = await api.get(f"/v1/messages/{response.json()['id']}/raw", headers=tenant.headers)
    assert b"\x1b[1mbold" in raw.content and b"\x00" not in raw.content


def sendgrid(**changes: Any) -> dict[str, Any]:
    personalization = {"to": [{"email": "u@r.example"}], **changes.pop("personalization", {})}
    return {
        "personalizations": [personalization],
        "from": {"email": SENDER},
        "subject": "s",
        "content": [{"type": "text/plain", "value": "hello"}],
        "mail_settings": {"sandbox_mode": {"enable": True}},
        **changes,
    }


NUL_IN_SENDGRID: list[tuple[dict[str, Any], str]] = [
    (sendgrid(content=[{"type": "text/plain", "value": NUL}]), "content[0].value"),
    (sendgrid(content=[{"type": "text/html", "value": NUL}]), "content[0].value"),
    (sendgrid(subject=NUL), "subject"),
    (sendgrid(**{"from": {"email": SENDER, "name": NUL}}), "from.name"),
    (sendgrid(personalization={"to": [{"email": f"{NUL}@r.example"}]}), "personalizations[0]"),
    (sendgrid(personalization={"custom_args": {"k": NUL}}), "personalizations[0].custom_args.k"),
    (sendgrid(categories=[NUL]), "categories[0]"),
    (sendgrid(headers={"X-Ref": NUL}), "headers.X-Ref"),
    (
        sendgrid(attachments=[{"content": PDF, "filename": f"{NUL}.pdf"}]),
        "attachments[0].filename",
    ),
]


async def test_nul_in_sendgrid_content_is_refused_in_sendgrid_shape(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    failures = []
    for body, field in NUL_IN_SENDGRID:
        response = await api.post("/v3/mail/send", json=body, headers=tenant.headers)
        named = [e["field"] or "" for e in response.json().get("errors", [])]
        if response.status_code != 400 or not any(f.startswith(field) for f in named):
            failures.append(f"{field}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
    listed = await api.get("/v1/messages", headers=tenant.headers)
    assert listed.json()["data"] == []


async def test_nul_anywhere_else_is_a_4xx_naming_the_field_on_every_backend(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    """PostgreSQL cannot store NUL in text: these were 500s before."""
    cases: list[tuple[str, str, dict[str, Any] | None, int, str]] = [
        ("POST", "/v1/api-keys", {"scopes": ["send"], "name": NUL}, 422, "name"),
        ("POST", "/v1/suppressions", {"email": "a@b.example", "detail": NUL}, 422, "detail"),
        (
            "POST",
            "/v1/webhooks",
            {"url": "https://hooks.example/x", "description": NUL},
            422,
            "description",
        ),
        ("POST", "/v1/domains", {"name": "x.example", "dkim_selector": NUL}, 422, "dkim_selector"),
        ("GET", "/v1/messages?recipient=a%00b@x.example", None, 400, "recipient"),
        ("GET", "/v1/messages?from=a%00b@x.example", None, 400, "from"),
        ("GET", "/v1/events?recipient=a%00b", None, 400, "recipient"),
        ("GET", "/v1/suppressions/a%00b@x.example", None, 400, "email"),
        ("DELETE", "/v1/suppressions/a%00b@x.example", None, 400, "email"),
        ("GET", "/v1/messages/msg_%00", None, 400, "message_id"),
    ]
    failures = []
    for method, url, body, status, field in cases:
        response = await api.request(method, url, json=body, headers=tenant.headers)
        if response.status_code != status or fields_of(response) != [field]:
            failures.append(f"{method} {url}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


async def test_nul_is_judged_only_after_the_api_key(
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    response = await api.post(
        "/v1/messages", json=with_(text=NUL), headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "name",
    [
        "Resent-From",
        "Resent-Sender",
        "resent-to",
        "Resent-Date",
        "Resent-Message-ID",
        "ARC-Seal",
        "ARC-Something-New",
        "Authentication-Results",
        "Received-SPF",
        "Received",
        "Return-Path",
        "Delivered-To",
        "Envelope-To",
        "X-Envelope-From",
        "Errors-To",
        "DKIM-Signature",
        "Content-Disposition",
    ],
)
async def test_trace_and_identity_headers_are_reserved(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    name: str,
) -> None:
    body = with_(headers={name: "forged"})
    response = await api.post("/v1/messages", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert fields_of(response) == [f"headers.{name}"]


async def test_threading_and_custom_headers_are_still_accepted(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    headers = {
        "In-Reply-To": "<a@b.example>",
        "References": "<a@b.example>",
        "X-Entity-Ref-ID": "42",
        "List-Id": "News <news.sender.example>",
        "Auto-Submitted": "auto-generated",
    }
    response = await api.post("/v1/messages", json=with_(headers=headers), headers=tenant.headers)
    assert response.status_code == 202, response.text
    raw = await api.get(f"/v1/messages/{response.json()['id']}/raw", headers=tenant.headers)
    assert b"\r\nX-Entity-Ref-ID: 42\r\n" in raw.content


@pytest.mark.parametrize(
    "filename",
    ["evil.EXE.", "evil.exe   ", "evil.exe . .", "evil.exe::$DATA", "invoice\u202efdp.exe"],
)
async def test_disguised_executables_are_refused(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    filename: str,
) -> None:
    body = with_(attachments=[attachment(filename=filename)])
    response = await api.post("/v1/messages", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert fields_of(response) == ["attachments[0].filename"]
