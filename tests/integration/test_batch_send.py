"""``POST /v1/messages/batch``: each message accepted or refused on its own, in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from herald_service.api.context import ApiContext
from herald_service.domains.service import add_domain
from herald_service.storage.models import Message
from support.harness import Herald, Tenant
from support.refusing import refused_subject

BATCH = "/v1/messages/batch"


def message(n: int, **changes: Any) -> dict[str, Any]:
    return {"from": "app@sender.example", "to": f"user{n}@r.example", "text": f"#{n}", **changes}


def stored_ids(herald: Herald) -> set[str]:
    with herald.engine.connect() as connection:
        return set(connection.execute(select(Message.id)).scalars())


def message_count(herald: Herald) -> int:
    with herald.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(Message)).scalar_one())


async def key(api: AsyncTestClient, admin: Tenant, **body: Any) -> dict[str, str]:  # type: ignore[type-arg]
    response = await api.post("/v1/api-keys", headers=admin.headers, json=body)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['key']}"}


def remaining(response: Any) -> str:
    policies = dict(p.split(";", 1) for p in response.headers["RateLimit"].split(", "))
    return str(policies['"recipients-key-day"'])


async def test_results_in_order_with_each_refusal_at_its_place(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    herald_context: ApiContext = api.app.state.herald
    async with herald_context.sessions.begin() as session:
        await add_domain(session, herald.settings, tenant.account_id, "news.example", verified=True)
    restricted = await key(api, tenant, scopes=["send"], domains=["sender.example"])
    batch = [
        message(0),
        message(1, to="not an address"),
        message(2, cc=["c@r.example"], sandbox=True),
        message(3, bogus=1),
        message(4, **{"from": "app@mail.sender.example"}),
        message(5, **{"from": "app@news.example"}),
        7,
        message(7, subject="x" * 999, to=5),
        message(8),
        message(9, unsubscribe={"url": "https://[unclosed"}),
    ]
    response = await api.post(BATCH, headers=restricted, json={"messages": batch})
    assert response.status_code == 200, response.text
    body = response.json()
    results = body["results"]
    assert (body["accepted"], body["refused"], len(results)) == (3, 7, 10)
    accepted = {i: results[i] for i in (0, 2, 8)}
    assert accepted[0]["status"] == "queued"
    assert accepted[0]["recipients"] == [{"email": "user0@r.example", "status": "queued"}]
    assert accepted[2]["status"] == "captured" and len(accepted[2]["recipients"]) == 2
    refused = {
        i: (r["status"], [e["field"] for e in r["errors"]])
        for i, r in enumerate(results)
        if i not in accepted
    }
    assert refused[1] == (422, ["messages[1].to[0]"])
    assert refused[3] == (400, ["messages[3].bogus"])
    assert refused[4] == (422, ["messages[4].from"])
    assert refused[5] == (403, ["messages[5].from"])
    assert refused[6] == (400, ["messages[6]"])
    assert refused[9] == (422, ["messages[9].unsubscribe.url"])
    assert refused[7][0] == 400 and set(refused[7][1]) == {"messages[7].to", "messages[7].subject"}
    for i in (1, 3, 4, 5, 6, 7, 9):
        assert results[i]["type"].startswith("/problems#")
        assert results[i]["detail"].startswith(f"messages[{i}]: ")
        assert "id" not in results[i]
    ids = [accepted[i]["id"] for i in (0, 2, 8)]
    assert stored_ids(herald) == set(ids)
    assert sorted(herald.queued_message_ids()) == sorted([ids[0], ids[2]])  # not the sandboxed
    fetched = await api.get(f"/v1/messages/{ids[1]}", headers=tenant.headers)
    assert fetched.json()["sandbox"] is True


async def test_a_malformed_envelope_is_refused_whole_naming_the_field(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    cases: list[tuple[Any, int, str]] = [
        ([message(0)], 400, "body"),
        ({}, 400, "messages"),
        ({"messages": []}, 422, "messages"),
        ({"messages": [message(i) for i in range(501)]}, 422, "messages"),
        ({"messages": [message(0)], "send_later": True}, 400, "send_later"),
        ({"messages": {"0": message(0)}}, 400, "messages"),
        (
            {
                "messages": [
                    message(i, cc=[f"c{j}@r.example" for j in range(39)]) for i in range(251)
                ]
            },
            422,
            "messages",
        ),  # 10,040 recipients in all
    ]
    for body, status, field in cases:
        response = await api.post(BATCH, headers=tenant.headers, json=body)
        assert response.status_code == status, (body, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field], response.text
    assert message_count(herald) == 0


async def test_an_idempotency_key_covers_the_whole_batch(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    headers = {**tenant.headers, "Idempotency-Key": "batch-1"}
    body = {"messages": [message(0), message(1, to="nope"), message(2)]}
    first = await api.post(BATCH, headers=headers, json=body)
    again = await api.post(BATCH, headers=headers, json=body)
    assert first.status_code == again.status_code == 200, first.text
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert message_count(herald) == 2
    changed = await api.post(BATCH, headers=headers, json={"messages": [message(0)]})
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["field"] == "Idempotency-Key"
    assert message_count(herald) == 2


async def test_a_batch_over_quota_is_refused_whole_and_storing_failures_refund(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    admin = await herald.create_tenant("sender.example")
    headers = await key(api, admin, scopes=["send"], quotas={"daily_recipients": 4})
    single = await api.post("/v1/messages", headers=headers, json=message(9, cc="c9@r.example"))
    assert single.status_code == 202, single.text
    over = await api.post(
        BATCH,
        headers=headers,
        json={"messages": [message(0, cc="c0@r.example"), message(1, cc="c1@r.example")]},
    )
    assert over.status_code == 429, over.text
    assert over.json()["status"] == 429 and int(over.headers["Retry-After"]) > 0
    assert message_count(herald) == 1
    assert remaining(over).startswith("r=2;"), over.headers["RateLimit"]
    with refused_subject(herald, "refused by the database"):
        failing = [message(0), message(1, subject="refused by the database")]
        failed = await api.post(BATCH, headers=headers, json={"messages": failing})
        assert failed.status_code == 500, failed.text
    assert message_count(herald) == 1
    # Refused messages cost nothing; the two recipients accepted use the cap up.
    fits = [message(0), message(1, to="bad"), message(2)]
    accepted = await api.post(BATCH, headers=headers, json={"messages": fits})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["accepted"] == 2
    assert remaining(accepted).startswith("r=0;"), accepted.headers["RateLimit"]


async def test_another_accounts_domain_and_messages_stay_out_of_reach(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    a = await herald.create_tenant("a.example")
    b = await herald.create_tenant("b.example")
    batch = {
        "messages": [message(0, **{"from": "x@a.example"}), message(1, **{"from": "x@b.example"})]
    }
    response = await api.post(BATCH, headers=a.headers, json=batch)
    results = response.json()["results"]
    assert results[1]["status"] == 422 and results[1]["errors"][0]["field"] == "messages[1].from"
    own = await api.get(f"/v1/messages/{results[0]['id']}", headers=a.headers)
    assert own.status_code == 200
    theirs = await api.get(f"/v1/messages/{results[0]['id']}", headers=b.headers)
    assert theirs.status_code == 404
    read_only = await key(api, a, scopes=["read"])
    forbidden = await api.post(BATCH, headers=read_only, json=batch)
    assert forbidden.status_code == 403
    assert message_count(herald) == 1


async def test_templates_and_send_at_work_per_message_and_for_the_whole_batch(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    created = await api.post(
        "/v1/templates",
        headers=tenant.headers,
        json={"name": "hi", "alias": "hi", "subject": "Hi {{ name }}", "text": "Hello {{ name }}"},
    )
    assert created.status_code == 201, created.text
    later = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    own = later + timedelta(hours=1)
    batch = {
        "send_at": later.isoformat(),
        "messages": [
            message(0, template_alias="hi", template_data={"name": "Ann"}, text=None),
            message(1, template_alias="hi", template_data={}, text=None),
            message(2, send_at=own.isoformat()),
            message(3, template_alias="nope", template_data={}, text=None),
        ],
    }
    response = await api.post(BATCH, headers=tenant.headers, json=batch)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["scheduled", 422, "scheduled", 422]
    assert "messages[1].template_data.name" in [e["field"] for e in results[1]["errors"]]
    assert [e["field"] for e in results[3]["errors"]] == ["messages[3].template_alias"]
    first = (await api.get(f"/v1/messages/{results[0]['id']}", headers=tenant.headers)).json()
    assert first["subject"] == "Hi Ann"
    assert datetime.fromisoformat(first["send_at"]) == later
    second = (await api.get(f"/v1/messages/{results[2]['id']}", headers=tenant.headers)).json()
    assert datetime.fromisoformat(second["send_at"]) == own
    too_far = {"send_at": (later + timedelta(days=30)).isoformat(), "messages": [message(0)]}
    refused = (await api.post(BATCH, headers=tenant.headers, json=too_far)).json()["results"]
    assert [e["field"] for e in refused[0]["errors"]] == ["messages[0].send_at"]
