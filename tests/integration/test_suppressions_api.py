"""``/v1/suppressions``: list (paginated, by reason), add, get, remove; scoped per account."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from support.harness import Herald


async def test_add_list_filter_paginate_and_remove(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant()
    for i in range(5):
        added = await api.post(
            "/v1/suppressions",
            headers=tenant.headers,
            json={"email": f"User{i}@Example.com", "reason": "manual" if i % 2 else "bounce"},
        )
        assert added.status_code == 201, added.text
    assert added.json()["email"] == "user4@example.com"

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("/v1/suppressions", headers=tenant.headers, params=params)).json()
        seen += [s["email"] for s in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"user{i}@example.com" for i in (4, 3, 2, 1, 0)]

    bounces = await api.get("/v1/suppressions", headers=tenant.headers, params={"reason": "bounce"})
    assert [s["email"] for s in bounces.json()["data"]] == [
        "user4@example.com",
        "user2@example.com",
        "user0@example.com",
    ]
    one = await api.get("/v1/suppressions/USER1@example.com", headers=tenant.headers)
    assert one.status_code == 200 and one.json()["reason"] == "manual"
    assert (
        await api.delete("/v1/suppressions/user1@example.com", headers=tenant.headers)
    ).status_code == 204
    gone = await api.get("/v1/suppressions/user1@example.com", headers=tenant.headers)
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")


async def test_bad_input_is_a_problem_naming_the_field(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant()
    bad_email = await api.post(
        "/v1/suppressions", headers=tenant.headers, json={"email": "not-an-address"}
    )
    assert bad_email.status_code == 422
    assert [e["field"] for e in bad_email.json()["errors"]] == ["email"]
    bad_reason = await api.post(
        "/v1/suppressions", headers=tenant.headers, json={"email": "a@b.example", "reason": "x"}
    )
    assert [e["field"] for e in bad_reason.json()["errors"]] == ["reason"]
    bad_filter = await api.get("/v1/suppressions", headers=tenant.headers, params={"reason": "x"})
    assert bad_filter.status_code == 422
    bad_limit = await api.get("/v1/suppressions", headers=tenant.headers, params={"limit": 0})
    assert bad_limit.status_code == 400


async def test_scopes_and_tenants_are_separate(herald: Herald, api: AsyncTestClient[Any]) -> None:
    owner = await herald.create_tenant("one.example")
    other = await herald.create_tenant("two.example")
    reader = await herald.create_tenant("three.example", scopes=("read",))
    created = await api.post(
        "/v1/suppressions", headers=owner.headers, json={"email": "x@example.com"}
    )
    assert created.status_code == 201
    forbidden = await api.post(
        "/v1/suppressions", headers=reader.headers, json={"email": "x@example.com"}
    )
    assert forbidden.status_code == 403
    assert (await api.get("/v1/suppressions", headers=reader.headers)).status_code == 200
    assert (await api.get("/v1/suppressions", headers=other.headers)).json()["data"] == []
    assert (
        await api.get("/v1/suppressions/x@example.com", headers=other.headers)
    ).status_code == 404
    assert (
        await api.delete("/v1/suppressions/x@example.com", headers=other.headers)
    ).status_code == 404


async def test_a_bad_cursor_is_a_problem(herald: Herald, api: AsyncTestClient[Any]) -> None:
    tenant = await herald.create_tenant()
    response = await api.get("/v1/suppressions", headers=tenant.headers, params={"cursor": "!!"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]
