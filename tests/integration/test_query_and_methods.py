"""Query parameters are parsed as documented, and method errors say which methods exist."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from support.harness import Herald

DOCUMENT = json.loads(
    (Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text()
)


async def test_timestamps_in_queries_are_rfc_3339_with_a_time_zone(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    for path in ("/v1/events", "/v1/messages"):
        for name in ("since", "until"):
            for bad in ("0.5", "1700000000", "2024-05-01", "yesterday"):
                response = await api.get(path, params={name: bad}, headers=tenant.headers)
                assert response.status_code == 422, (path, name, bad, response.text)
                assert [e["field"] for e in response.json()["errors"]] == [name]
            naive = await api.get(
                path, params={name: "2024-05-01T12:00:00"}, headers=tenant.headers
            )
            assert naive.status_code == 422, naive.text
            for good in ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00.5+02:00"):
                response = await api.get(path, params={name: good}, headers=tenant.headers)
                assert response.status_code == 200, (path, name, good, response.text)
            parameter = next(
                p for p in DOCUMENT["paths"][path]["get"]["parameters"] if p["name"] == name
            )
            assert parameter["schema"]["format"] == "date-time"


class _PathValues(dict[str, str]):
    """A path parameter's own name as its value (``1`` for an integer one)."""

    def __init__(self, operations: dict[str, Any]) -> None:
        super().__init__()
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                    self[parameter["name"]] = "1"

    def __missing__(self, key: str) -> str:
        return key


async def test_allow_lists_every_method_of_the_path(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    checked = 0
    for template, operations in DOCUMENT["paths"].items():
        path = template.format_map(_PathValues(operations))
        documented = {m.upper() for m in operations} | {"OPTIONS"}
        options = await api.options(path, headers=tenant.headers)
        assert options.status_code == 204, (path, options.text)
        assert set(options.headers["allow"].split(", ")) == documented, path
        if "PUT" not in documented:
            refused = await api.put(path, headers=tenant.headers)
            assert refused.status_code == 405, path
            assert refused.headers["content-type"] == "application/problem+json"
            assert set(refused.headers["allow"].split(", ")) == documented, path
        checked += 1
    assert checked >= 20


async def test_dkim_rotation_body_is_optional_in_the_document_and_the_server(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    for path in ("/v1/domains/{domain_id}/dkim/rotate", "/v1/webhooks/{webhook_id}/rotate-secret"):
        assert DOCUMENT["paths"][path]["post"]["requestBody"]["required"] is False, path
    rotated = await api.post(f"/v1/domains/{tenant.domain_id}/dkim/rotate", headers=tenant.headers)
    assert rotated.status_code == 201, rotated.text
    for body in ({}, {"dkim_selector": "q3"}):
        again = await api.post(
            f"/v1/domains/{tenant.domain_id}/dkim/rotate", json=body, headers=tenant.headers
        )
        assert again.status_code in (201, 409), again.text


async def test_nul_in_a_path_or_query_parameter_is_a_400_naming_it(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    """PostgreSQL refuses NUL in text: it must be refused before any lookup, by name."""
    tenant = await herald.create_tenant("sender.example")
    cases = [
        ("/v1/webhooks/%00", {}, "webhook_id"),
        ("/v1/messages/a%00b", {}, "message_id"),
        ("/v1/suppressions/x%00@y.example", {}, "email"),
        ("/v1/events", {"recipient": "a\x00"}, "recipient"),
        ("/v1/messages", {"tag": "\x00"}, "tag"),
        ("/v1/suppressions", {"cursor": "\x00"}, "cursor"),
    ]
    for path, params, field in cases:
        response = await api.get(path, params=params, headers=tenant.headers)
        assert response.status_code == 400, (path, params, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field], response.text
