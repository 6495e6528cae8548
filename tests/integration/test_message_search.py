"""``GET /v1/messages``: search by recipient, status, sender, tag and time, with cursors."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from support.harness import Herald


async def test_search_filters_and_paginates(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    other = await herald.create_tenant("other.example")
    ids = []
    for i in range(5):
        body = {
            "from": "app@sender.example",
            "to": [f"user{i}@receiver.example"],
            "subject": f"n{i}",
            "text": "t",
            "tags": ["welcome"] if i % 2 == 0 else ["reset"],
            "sandbox": i == 4,
        }
        response = await api.post("/v1/messages", json=body, headers=tenant.headers)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    await api.post(
        "/v1/messages",
        json={"from": "x@other.example", "to": "user0@receiver.example", "text": "t"},
        headers=other.headers,
    )

    async def search(**params: str | int) -> dict:  # type: ignore[type-arg]
        response = await api.get("/v1/messages", params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    everything = await search()
    assert [m["id"] for m in everything["data"]] == list(reversed(ids))
    assert everything["next_cursor"] is None

    by_recipient = await search(recipient="USER0@receiver.example")
    assert [m["id"] for m in by_recipient["data"]] == [ids[0]]
    assert by_recipient["data"][0]["recipients"] == [
        {"email": "user0@receiver.example", "status": "queued"}
    ]
    assert [m["id"] for m in (await search(tag="welcome"))["data"]] == [ids[4], ids[2], ids[0]]
    assert [m["id"] for m in (await search(status="captured"))["data"]] == [ids[4]]
    assert len((await search(**{"from": "app@sender.example"}))["data"]) == 5

    first = await search(limit=2)
    second = await search(limit=2, cursor=first["next_cursor"])
    third = await search(limit=2, cursor=second["next_cursor"])
    pages = [m["id"] for page in (first, second, third) for m in page["data"]]
    assert pages == list(reversed(ids))
    assert third["next_cursor"] is None

    bad = await api.get("/v1/messages", params={"cursor": "nope"}, headers=tenant.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"
    naive = await api.get(
        "/v1/messages", params={"since": "2026-01-01T00:00:00"}, headers=tenant.headers
    )
    assert naive.status_code == 422
    wrong_status = await api.get("/v1/messages", params={"status": "lost"}, headers=tenant.headers)
    assert wrong_status.status_code == 400
