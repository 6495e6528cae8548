"""One request's work and answer stay bounded, whatever it lists or asks for."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from support.harness import Herald

OK: dict[str, Any] = {"from": "app@sender.example", "to": "user@r.example", "text": "x"}


async def test_long_lists_are_refused_with_one_error_each(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    cases: dict[str, dict[str, Any]] = {
        "reply_to": {"reply_to": [f"r{i}@x.example" for i in range(51)]},
        "tags": {"tags": ["bad tag!"] * 2000},
        "to": {"to": [f"u{i}@r.example" for i in range(1001)]},
        "attachments": {"attachments": [{"filename": "a.txt", "content": "eA=="}] * 101},
        "headers": {"headers": {f"X-H{i}": "v" for i in range(51)}},
        "metadata": {"metadata": {f"k{i}": "v" for i in range(51)}},
    }
    for field, change in cases.items():
        response = await api.post("/v1/messages", headers=tenant.headers, json=OK | change)
        assert response.status_code == 422, (field, response.text)
        errors = response.json()["errors"]
        assert len(errors) == 1, (field, errors[:3])
        assert re.fullmatch(rf"{field}(\[\d+\])?", errors[0]["field"]), (field, errors)


async def test_dev_inbox_pages_are_bounded(herald: Herald) -> None:
    settings = msgspec.structs.replace(herald.settings, delivery_mode="capture")
    async with AsyncTestClient(create_app(settings)) as client:
        for limit in (-1, 0, 501):  # -1 was "no limit" to SQLite
            response = await client.get(f"/dev/inbox/messages?limit={limit}")
            assert response.status_code == 400, (limit, response.text)
        assert (await client.get("/dev/inbox/messages?limit=500")).json() == []
