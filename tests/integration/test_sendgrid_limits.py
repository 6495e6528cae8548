"""``/v3/mail/send`` bounds one request's work: personalizations, recipients, shared parts."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from herald_service.storage.models import Message
from support.harness import Herald, Tenant
from support.processes import free_port, start, stop, wait_http_ok


def mail(personalizations: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "personalizations": personalizations,
        "from": {"email": "app@sender.example"},
        "subject": "s",
        "content": [{"type": "text/plain", "value": "v"}],
        **extra,
    }


def each_to(count: int) -> list[dict[str, Any]]:
    return [{"to": [{"email": f"u{i}@r.example"}]} for i in range(count)]


SANDBOX = {"mail_settings": {"sandbox_mode": {"enable": True}}}


def message_count(herald: Herald) -> int:
    with herald.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(Message)).scalar_one())


def refused_field(response: Any) -> tuple[str, str]:
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    return error["field"], error["message"]


async def key_headers(
    api: AsyncTestClient,  # type: ignore[type-arg]
    admin: Tenant,
    **quotas: Any,
) -> dict[str, str]:
    response = await api.post(
        "/v1/api-keys", headers=admin.headers, json={"scopes": ["send"], "quotas": quotas}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['key']}"}


async def test_at_most_1000_personalizations_and_1000_recipients_per_request(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    too_many = await api.post("/v3/mail/send", json=mail(each_to(1001)), headers=tenant.headers)
    field, message = refused_field(too_many)
    assert field == "personalizations" and "1000" in message

    def addresses(prefix: str, count: int) -> list[dict[str, str]]:
        return [{"email": f"{prefix}{i}@r.example"} for i in range(count)]

    split = [
        {"to": addresses("a", 600)},
        {"to": addresses("b", 1), "cc": addresses("c", 298), "bcc": addresses("d", 102)},
    ]
    over = await api.post("/v3/mail/send", json=mail(split), headers=tenant.headers)
    field, message = refused_field(over)
    assert field == "personalizations" and "1001 recipients" in message and "1000" in message
    assert message_count(herald) == 0

    split[1]["bcc"] = addresses("d", 101)
    exactly = await api.post("/v3/mail/send", json=mail(split, **SANDBOX), headers=tenant.headers)
    assert exactly.status_code == 200, exactly.text
    assert message_count(herald) == 2


async def test_shared_parts_are_bounded_before_they_are_repeated(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    pdf = {"content": base64.b64encode(b"%PDF").decode(), "filename": "a.pdf"}
    cases = {
        "headers": {"headers": {f"X-H{i}": "v" for i in range(51)}},
        "custom_args": {"custom_args": {f"k{i}": "v" for i in range(51)}},
        "categories": {"categories": [f"c{i}" for i in range(11)]},
        "attachments": {"attachments": [pdf] * 101},
        "reply_to_list": {"reply_to_list": [{"email": f"r{i}@x.example"} for i in range(51)]},
        "personalizations[0].headers": {
            "personalizations": [
                {
                    "to": [{"email": "a@r.example"}],
                    "headers": {"X-A": "1"} | {f"X-H{i}": "v" for i in range(51)},
                }
            ]
        },
    }
    for name, extra in cases.items():
        response = await api.post(
            "/v3/mail/send", json=mail(each_to(2)) | extra, headers=tenant.headers
        )
        assert response.status_code == 400, (name, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [name], response.text
    assert message_count(herald) == 0


async def test_the_size_of_every_message_together_is_bounded(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    attachment = {"content": base64.b64encode(bytes(200_000)).decode(), "filename": "big.pdf"}
    expanded = mail(each_to(600), attachments=[attachment])
    response = await api.post("/v3/mail/send", json=expanded, headers=tenant.headers)
    field, message = refused_field(response)
    assert field == "personalizations" and "MB" in message
    assert message_count(herald) == 0
    fewer = mail(each_to(20), attachments=[attachment], **SANDBOX)
    assert (await api.post("/v3/mail/send", json=fewer, headers=tenant.headers)).status_code == 200


async def test_a_request_is_charged_once_with_all_its_recipients(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    admin = await herald.create_tenant("sender.example")
    # A slow refill (one request per 100 s), so a machine that takes over a second to
    # accept 1,000 personalizations does not get a token back between the requests.
    headers = await key_headers(
        api, admin, requests_per_second=0.01, burst=10, daily_recipients=1500
    )
    sent = await api.post("/v3/mail/send", json=mail(each_to(1000)), headers=headers)
    assert sent.status_code == 202, sent.text
    assert '"requests";r=9;' in sent.headers["RateLimit"]
    assert '"recipients-key-day";r=500;' in sent.headers["RateLimit"]
    sandboxed = await api.post(
        "/v3/mail/send", json=mail(each_to(1000), **SANDBOX), headers=headers
    )
    assert sandboxed.status_code == 200  # sandbox: a request, but no recipients
    assert '"requests";r=8;' in sandboxed.headers["RateLimit"]
    assert '"recipients-key-day";r=500;' in sandboxed.headers["RateLimit"]
    over = await api.post("/v3/mail/send", json=mail(each_to(501)), headers=headers)
    assert over.status_code == 429, over.text
    assert over.headers["Retry-After"]
    assert message_count(herald) == 2000
    herald.empty_queue()


async def health_while(
    client: httpx.AsyncClient, send: Callable[[], Awaitable[httpx.Response]]
) -> tuple[httpx.Response, float, float]:
    """``send()``'s response, how long it took, and the slowest ``/healthz`` meanwhile."""
    latencies: list[float] = []
    sending = True

    async def poll_health() -> None:
        while sending:
            began = time.monotonic()
            assert (await client.get("/healthz")).status_code == 200
            latencies.append(time.monotonic() - began)
            await asyncio.sleep(0.005)

    poller = asyncio.create_task(poll_health())
    await asyncio.sleep(0.1)
    began = time.monotonic()
    response = await send()
    took = time.monotonic() - began
    sending = False
    await poller
    return response, took, max(latencies)


async def test_health_answers_while_a_large_request_is_worked_on(
    herald: Herald, settings_env: dict[str, str]
) -> None:
    """Building and signing 1,000 messages, or one with megabytes of HTML to turn into
    text, must not hold the event loop for the duration."""
    tenant = await herald.create_tenant("sender.example")
    port = free_port()
    process = start(settings_env, "api", "--host", "127.0.0.1", "--port", str(port))
    many = mail(each_to(1000), **SANDBOX)
    many["content"] = [{"type": "text/html", "value": "<p>Your receipt</p>" * 200}]
    big = {
        "from": "app@sender.example",
        "to": "user@r.example",
        "html": "<p>Your receipt, <a href='https://shop.example/r'>online</a></p>" * 40_000,
        "sandbox": True,
    }
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", process)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for path, body, status in (("/v3/mail/send", many, 200), ("/v1/messages", big, 202)):

                async def send(path: str = path, body: dict[str, Any] = body) -> httpx.Response:
                    return await client.post(path, json=body, headers=tenant.headers)

                response, took, slowest = await health_while(client, send)
                assert response.status_code == status, response.text
                # Health may wait for a slice of the work, never for most of it.
                assert slowest < 0.3 * took, (path, slowest, took)
    finally:
        stop(process)
