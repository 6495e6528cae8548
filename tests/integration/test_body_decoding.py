"""Request bodies are decoded strictly and safely on every JSON endpoint.

Deeply nested JSON is a 400 naming where it is (never a 500 from the decoder's recursion),
a value of the wrong JSON type is refused rather than coerced (``"true"`` is not ``true``),
and the decoder's errors name the field, not ``body``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from herald_service.storage.database import make_engine
from herald_service.storage.models import Message
from support.harness import Herald, Tenant

SENDER = "app@sender.example"
MESSAGE: dict[str, Any] = {"from": SENDER, "to": "user@receiver.example", "text": "x"}
SENDGRID: dict[str, Any] = {
    "personalizations": [{"to": [{"email": "user@receiver.example"}]}],
    "from": {"email": SENDER},
    "content": [{"type": "text/plain", "value": "x"}],
}
DEPTH = 5000
NESTED_ARRAYS = "[" * DEPTH + "]" * DEPTH
NESTED_OBJECTS = '{"a":' * DEPTH + "1" + "}" * DEPTH

# (method, path, a body that decodes, the field a nested value is put in)
ENDPOINTS: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/v1/messages", MESSAGE, "metadata"),
    ("POST", "/v3/mail/send", SENDGRID, "custom_args"),
    ("POST", "/v1/webhooks", {"url": "https://hooks.example/x"}, "description"),
    ("PATCH", "/v1/webhooks/wh_nope", {}, "description"),
    ("POST", "/v1/webhooks/wh_nope/rotate-secret", {}, "overlap_seconds"),
    ("POST", "/v1/api-keys", {"scopes": ["send"]}, "name"),
    ("PATCH", "/v1/api-keys/key_nope", {}, "quotas"),
    ("POST", "/v1/suppressions", {"email": "a@receiver.example"}, "detail"),
    ("POST", "/v1/domains", {"name": "new.example"}, "name"),
    ("POST", "/v1/domains/{domain_id}/dkim/rotate", {}, "dkim_selector"),
]


def with_raw(body: dict[str, Any], field: str, raw_json: str) -> bytes:
    """``body`` serialized, with ``field`` set to ``raw_json`` verbatim."""
    encoded = json.dumps({**body, field: "PLACEHOLDER"})
    return encoded.replace('"PLACEHOLDER"', raw_json).encode()


def error_fields(response: Any) -> list[str]:
    return [e.get("field") or "" for e in response.json().get("errors", [])]


def names(response: Any, field: str) -> bool:
    """True when an error names ``field`` or a part of it (``field.x``, ``field[0]``)."""
    return any(
        f == field or f.startswith((field + ".", field + "[")) for f in error_fields(response)
    )


async def send_raw(
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    method: str,
    path: str,
    content: bytes,
) -> Any:
    headers = {**tenant.headers, "Content-Type": "application/json"}
    url = path.format(domain_id=tenant.domain_id)
    return await api.request(method, url, content=content, headers=headers)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS]
)
async def test_deep_nesting_is_a_400_naming_the_field(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    cases = {
        f"arrays in {field}": (with_raw(body, field, NESTED_ARRAYS), field),
        f"objects in {field}": (with_raw(body, field, NESTED_OBJECTS), field),
        "arrays as an unknown field": (with_raw(body, "zz", NESTED_ARRAYS), "zz"),
        "arrays as the body": (NESTED_ARRAYS.encode(), "body"),
        "objects as the body": (NESTED_OBJECTS.encode(), "a"),
    }
    for name, (content, expected) in cases.items():
        response = await send_raw(api, tenant, method, path, content)
        assert response.status_code == 400, (name, response.status_code, response.text[:300])
        assert names(response, expected), (name, response.text[:300])
        if not path.startswith("/v3/"):
            assert response.headers["content-type"] == "application/problem+json", name


async def test_types_are_strict_and_nothing_is_stored(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/v1/messages", {**MESSAGE, "sandbox": "true"}, "sandbox"),
        ("POST", "/v1/messages", {**MESSAGE, "sandbox": 1}, "sandbox"),
        ("POST", "/v1/messages", {**MESSAGE, "subject": 5}, "subject"),
        (
            "POST",
            "/v3/mail/send",
            {**SENDGRID, "mail_settings": {"sandbox_mode": {"enable": "true"}}},
            "mail_settings.sandbox_mode.enable",
        ),
        ("POST", "/v1/webhooks", {"url": "https://h.example/", "enabled": "false"}, "enabled"),
        (
            "POST",
            "/v1/domains",
            {"name": "new.example", "allow_subdomains": "true"},
            "allow_subdomains",
        ),
        (
            "POST",
            "/v1/webhooks/wh_nope/rotate-secret",
            {"overlap_seconds": "60"},
            "overlap_seconds",
        ),
        ("POST", "/v1/api-keys", {"scopes": ["send"], "quotas": {"burst": "5"}}, "quotas.burst"),
    ]
    for method, path, body, field in cases:
        response = await send_raw(api, tenant, method, path, json.dumps(body).encode())
        assert response.status_code == 400, (path, body, response.text)
        assert error_fields(response) == [field], (path, body, response.text)
    engine = make_engine(herald.settings.database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(Message)).scalar() == 0
    finally:
        engine.dispose()


async def test_decoder_errors_name_the_field_not_the_body(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    cases: list[tuple[dict[str, Any], int, list[str]]] = [
        (
            {**MESSAGE, "attachments": [{"filename": 5, "content": ""}]},
            400,
            ["attachments[0].filename"],
        ),
        ({**MESSAGE, "to": {"email": "a@r.example", "nme": "A"}}, 400, ["to.nme"]),
        ({**MESSAGE, "metadata": {"ok": "1", "n": 2}}, 400, ["metadata.n"]),
        ({**MESSAGE, "headers": {"X-A": "1", "Bad Name": "v"}}, 422, ["headers.Bad Name"]),
        ({**MESSAGE, "tags": ["ok", "no\nnewline"]}, 422, ["tags[1]"]),
        (
            {**MESSAGE, "attachments": [{"filename": "a.pdf", "content": "!!"}]},
            422,
            ["attachments[0].content"],
        ),
    ]
    for body, status, fields in cases:
        response = await send_raw(api, tenant, "POST", "/v1/messages", json.dumps(body).encode())
        assert response.status_code == status, (body, response.text)
        assert error_fields(response) == fields, (body, response.text)


async def test_nul_in_free_text_is_refused_by_name(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    """PostgreSQL cannot store NUL in text or JSON: a 422 naming the field, not a 500."""
    tenant = await herald.create_tenant("sender.example")
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/v1/messages", {**MESSAGE, "metadata": {"k": "a\x00"}}, "metadata.k"),
        (
            "POST",
            "/v1/webhooks",
            {"url": "https://h.example/", "description": "\x00"},
            "description",
        ),
        ("POST", "/v1/api-keys", {"scopes": ["send"], "name": "a\x00b"}, "name"),
        ("POST", "/v1/suppressions", {"email": "a@r.example", "detail": "\x00"}, "detail"),
    ]
    for method, path, body, field in cases:
        response = await send_raw(api, tenant, method, path, json.dumps(body).encode())
        assert response.status_code == 422, (path, body, response.text)
        assert error_fields(response) == [field], (path, body, response.text)
