"""Recipients are charged to the daily caps only for messages that were accepted."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from support.harness import Herald, Tenant
from support.refusing import refused_subject

V1 = {"from": "app@sender.example", "to": ["a@r.example", "b@r.example"], "text": "x"}
V3 = {
    "personalizations": [{"to": [{"email": "a@r.example"}]}, {"to": [{"email": "b@r.example"}]}],
    "from": {"email": "app@sender.example"},
    "subject": "s",
    "content": [{"type": "text/plain", "value": "v"}],
}


async def capped_key(api: AsyncTestClient, admin: Tenant, cap: int) -> dict[str, str]:  # type: ignore[type-arg]
    response = await api.post(
        "/v1/api-keys",
        headers=admin.headers,
        json={"scopes": ["send"], "quotas": {"daily_recipients": cap}},
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['key']}"}


def remaining(response: Any) -> str:
    policies = dict(p.split(";", 1) for p in response.headers["RateLimit"].split(", "))
    return str(policies['"recipients-key-day"'])


async def test_refused_sends_leave_the_daily_cap_untouched(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    admin = await herald.create_tenant("sender.example")
    headers = await capped_key(api, admin, cap=2)
    not_ours = {"email": "app@not-ours.example"}
    for _ in range(3):
        v1 = await api.post("/v1/messages", headers=headers, json={**V1, "from": not_ours["email"]})
        assert v1.status_code == 422 and v1.json()["errors"][0]["field"] == "from", v1.text
        assert remaining(v1).startswith("r=2;"), v1.headers["RateLimit"]
        v3 = await api.post("/v3/mail/send", headers=headers, json={**V3, "from": not_ours})
        assert v3.status_code == 400 and v3.json()["errors"][0]["field"] == "from.email", v3.text
        assert remaining(v3).startswith("r=2;"), v3.headers["RateLimit"]
    accepted = await api.post("/v1/messages", headers=headers, json=V1)
    assert accepted.status_code == 202, accepted.text
    assert remaining(accepted).startswith("r=0;")
    over = await api.post("/v3/mail/send", headers=headers, json=V3)
    assert over.status_code == 429


async def test_a_send_that_cannot_be_stored_gives_its_recipients_back(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    admin = await herald.create_tenant("sender.example")
    headers = await capped_key(api, admin, cap=2)
    with refused_subject(herald, "refused by the database"):
        failing = {**V1, "subject": "refused by the database"}
        failed = await api.post("/v1/messages", headers=headers, json=failing)
        assert failed.status_code == 500, failed.text
        failing_v3 = {**V3, "subject": "refused by the database"}
        failed_v3 = await api.post("/v3/mail/send", headers=headers, json=failing_v3)
        assert failed_v3.status_code == 500, failed_v3.text
    accepted = await api.post("/v1/messages", headers=headers, json=V1)
    assert accepted.status_code == 202, accepted.text
    assert remaining(accepted).startswith("r=0;")
