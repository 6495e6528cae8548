"""``/v1/ip-pools``, ``/v1/sending-ips`` and ``herald ip-pools``: any admin key reads the
pools, an operator account's changes them; bad input is a 4xx naming the field."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from support.harness import Herald, Tenant
from support.processes import herald_json

SENDING_IPS = "127.0.0.10=mta1.sender.test,127.0.0.11,127.0.0.12"


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "HERALD_SENDING_IPS": SENDING_IPS, "HERALD_WARMUP_SCHEDULE": "3,10"}


def operator_app(herald: Herald, operator: Tenant) -> AsyncTestClient:  # type: ignore[type-arg]
    settings = msgspec.structs.replace(herald.settings, operator_accounts=(operator.account_id,))
    return AsyncTestClient(create_app(settings))


def addresses(pool: dict[str, Any]) -> list[str]:
    return [ip["address"] for ip in pool["ips"]]


async def test_an_operator_manages_pools_and_warm_up(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    operator = await herald.create_tenant("ops.example")
    tenant = await herald.create_tenant()
    async with operator_app(herald, operator) as ops:
        listed = (await ops.get("/v1/ip-pools", headers=operator.headers)).json()["data"]
        assert [(p["name"], addresses(p)) for p in listed] == [
            ("default", ["127.0.0.10", "127.0.0.11", "127.0.0.12"])
        ]
        assert listed[0]["ips"][0]["ehlo_name"] == "mta1.sender.test"

        created = await ops.post(
            "/v1/ip-pools",
            headers=operator.headers,
            json={"name": "bulk", "description": "newsletters", "ips": ["127.0.0.11"]},
        )
        assert created.status_code == 201, created.text
        assert addresses(created.json()) == ["127.0.0.11"]
        again = await ops.post("/v1/ip-pools", headers=operator.headers, json={"name": "bulk"})
        assert again.status_code == 409

        moved = await ops.put(
            "/v1/ip-pools/bulk/ips",
            headers=operator.headers,
            json={"ips": ["127.0.0.11", "127.0.0.12"]},
        )
        assert addresses(moved.json()) == ["127.0.0.11", "127.0.0.12"]
        warming = await ops.patch(
            "/v1/sending-ips/127.0.0.12", headers=operator.headers, json={"warming": True}
        )
        assert warming.status_code == 200, warming.text
        warmup = warming.json()["warmup"]
        assert (warmup["day"], warmup["days"], warmup["cap_today"], warmup["sent_today"]) == (
            1,
            2,
            3,
            0,
        )

        # Any admin key reads them (to choose a pool), none but an operator's changes them.
        seen = (await api.get("/v1/ip-pools", headers=tenant.headers)).json()["data"]
        assert [(p["name"], addresses(p)) for p in seen] == [
            ("default", ["127.0.0.10"]),
            ("bulk", ["127.0.0.11", "127.0.0.12"]),
        ]
        refused = await api.delete("/v1/ip-pools/bulk", headers=tenant.headers)
        assert refused.status_code == 403
        assert "HERALD_OPERATOR_ACCOUNTS" in refused.json()["detail"]

        domain = await api.patch(
            f"/v1/domains/{tenant.domain_id}", headers=tenant.headers, json={"ip_pool": "bulk"}
        )
        assert (domain.status_code, domain.json()["ip_pool"]) == (200, "bulk")
        unknown = await api.patch(
            f"/v1/domains/{tenant.domain_id}", headers=tenant.headers, json={"ip_pool": "nope"}
        )
        assert unknown.status_code == 422
        assert [e["field"] for e in unknown.json()["errors"]] == ["ip_pool"]

        gone = await ops.delete("/v1/ip-pools/bulk", headers=operator.headers)
        assert gone.status_code == 204
        after = (await ops.get("/v1/ip-pools", headers=operator.headers)).json()["data"]
        assert [p["name"] for p in after] == ["default"]
        assert len(after[0]["ips"]) == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Bad Name"}, "name"),
        ({"name": "default"}, "name"),
        ({"name": "ok", "ips": ["192.0.2.99"]}, "ips"),
    ],
)
async def test_bad_pools_are_refused_naming_the_field(
    herald: Herald, body: dict[str, Any], field: str
) -> None:
    operator = await herald.create_tenant("ops.example")
    async with operator_app(herald, operator) as ops:
        response = await ops.post("/v1/ip-pools", headers=operator.headers, json=body)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [field]
        missing = await ops.patch(
            "/v1/sending-ips/192.0.2.99", headers=operator.headers, json={"warming": True}
        )
        assert missing.status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_command_line(herald: Herald, settings_env: dict[str, str]) -> None:
    created = herald_json(settings_env, "ip-pools", "create", "bulk", "127.0.0.11")
    assert addresses(created) == ["127.0.0.11"]
    warm = herald_json(settings_env, "ip-pools", "warmup", "127.0.0.11", "--start", "2020-01-01")
    assert warm["warming"] is False  # past the two-day schedule: warm again
    listed = herald_json(settings_env, "ip-pools", "list")
    assert [p["name"] for p in listed["data"]] == ["default", "bulk"]
    assert herald_json(settings_env, "ip-pools", "delete", "bulk") == {"deleted": "bulk"}
