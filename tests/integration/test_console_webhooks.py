"""The console's Webhooks pages: endpoints, test events delivered to a real loopback receiver,
secrets shown once, replays; admins change, viewers look, other accounts stay invisible."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Iterator

import pytest
from litestar.testing import AsyncTestClient
from standardwebhooks import Webhook

from herald_service.api.app import create_app
from support.console import add_user, csrf_of, sign_in
from support.harness import Herald, Tenant
from support.webhooks import Answer, WebhookReceiver, drain_webhooks

SECRET = re.compile(r'<code id="secret">(whsec_[^<]+)</code>')


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """Loopback receivers allowed; retries due at once."""
    return {
        **settings_env,
        "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
        "HERALD_WEBHOOK_RETRY_SCHEDULE": "0s,0s,0s",
    }


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as c:
        c.follow_redirects = False
        yield c


async def api_hook(client: AsyncTestClient, tenant: Tenant, hook_id: str) -> dict[str, object]:  # type: ignore[type-arg]
    response = await client.get(f"/v1/webhooks/{hook_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def create(
    console: AsyncTestClient,  # type: ignore[type-arg]
    csrf: str,
    tenant: Tenant,
    url: str,
) -> tuple[str, str]:
    """Create an endpoint through the console; its id and the secret the page showed."""
    created = await console.post(
        "/console/webhooks",
        data={
            "csrf_token": csrf,
            "account": tenant.account_id,
            "url": url,
            "description": "orders app",
            "event_types": ["message.delivered", "message.bounced"],
        },
    )
    assert created.status_code == 201, created.text
    secret = SECRET.search(created.text)
    assert secret is not None
    hook_id = re.search(r'data-webhook-id="(wh_[^"]+)"', created.text)
    assert hook_id is not None
    return hook_id.group(1), secret.group(1)


async def test_admin_creates_tests_rotates_and_replays(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
    receiver: WebhookReceiver,
) -> None:
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    await sign_in(console, "ops@example.com")
    page = await console.get("/console/webhooks")
    assert page.status_code == 200 and "No webhook endpoints yet." in page.text
    csrf = csrf_of(page.text)
    form = {"csrf_token": csrf, "account": tenant.account_id}

    hook_id, secret = await create(console, csrf, tenant, receiver.url())
    stored = await api_hook(console, tenant, hook_id)
    assert stored["url"] == receiver.url()
    assert stored["event_types"] == ["message.delivered", "message.bounced"]
    listed = await console.get("/console/webhooks")
    assert f'data-webhook-id="{hook_id}"' in listed.text and "orders app" in listed.text
    assert secret not in (await console.get(f"/console/webhooks/{hook_id}")).text

    receiver.default = Answer(200, body=b'{"thanks": "received"}')
    tested = await console.post(f"/console/webhooks/{hook_id}/test", data=form)
    assert tested.status_code == 303
    assert await drain_webhooks(herald) == 1
    (request,) = receiver.requests
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["type"] == "webhook.test" and payload["data"]["webhook_id"] == hook_id
    detail = html.unescape((await console.get(tested.headers["location"])).text)
    assert "Test event queued" in detail
    assert "succeeded" in detail and '<span class="code">200</span>' in detail
    assert '{"thanks": "received"}' in detail
    assert f'"webhook_id": "{hook_id}"' in detail  # the request body sent

    rotated = await console.post(f"/console/webhooks/{hook_id}/rotate-secret", data=form)
    assert rotated.status_code == 200
    new_secret = SECRET.search(rotated.text)
    assert new_secret is not None and new_secret.group(1) != secret

    receiver.default = Answer(500, body=b"boom")
    await console.post(f"/console/webhooks/{hook_id}/test", data=form)
    assert await drain_webhooks(herald, rounds=5) == 4
    failed = (await console.get(f"/console/webhooks/{hook_id}")).text
    replay = re.search(
        rf'action="(/console/webhooks/{hook_id}/deliveries/whd_[^"/]+/replay)"', failed
    )
    assert replay is not None and "boom" in failed
    receiver.default = Answer(204, body=b"")
    assert (await console.post(replay.group(1), data=form)).status_code == 303
    assert await drain_webhooks(herald) == 1
    after = (await console.get(f"/console/webhooks/{hook_id}")).text
    assert "/replay" not in after and after.count(">succeeded<") == 2

    disabled = await console.post(f"/console/webhooks/{hook_id}/disable", data=form)
    assert disabled.status_code == 303
    assert (await api_hook(console, tenant, hook_id))["enabled"] is False
    refused = await console.post(f"/console/webhooks/{hook_id}/test", data=form)
    assert refused.status_code == 409
    await console.post(f"/console/webhooks/{hook_id}/enable", data=form)
    assert (await api_hook(console, tenant, hook_id))["enabled"] is True

    deleted = await console.post(f"/console/webhooks/{hook_id}/delete", data=form)
    assert deleted.status_code == 303 and "done=deleted" in deleted.headers["location"]
    gone = await console.get(f"/v1/webhooks/{hook_id}", headers=tenant.headers)
    assert gone.status_code == 404


async def test_unsafe_url_and_unknown_event_type_are_refused(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    await sign_in(console, "ops@example.com")
    csrf = csrf_of((await console.get("/console/webhooks")).text)
    for url in ("http://10.1.2.3/hook", "http://169.254.169.254/latest", "not a url"):
        refused = await console.post(
            "/console/webhooks",
            data={"csrf_token": csrf, "account": tenant.account_id, "url": url},
        )
        assert refused.status_code == 422, (url, refused.text)
    unknown = await console.post(
        "/console/webhooks",
        data={
            "csrf_token": csrf,
            "account": tenant.account_id,
            "url": "http://127.0.0.1:9/hook",
            "event_types": ["message.exploded"],
        },
    )
    assert unknown.status_code == 422 and "message.exploded" in unknown.text
    listed = await console.get("/v1/webhooks", headers=tenant.headers)
    assert listed.json()["data"] == []


async def test_isolation_viewers_and_csrf(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
    receiver: WebhookReceiver,
) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    await add_user(herald.settings.database_url, "admin@example.com", "admin", mine.account_id)
    await add_user(herald.settings.database_url, "viewer@example.com", "viewer", mine.account_id)
    foreign = await console.post(
        "/v1/webhooks", json={"url": receiver.url("/theirs")}, headers=theirs.headers
    )
    assert foreign.status_code == 201
    foreign_id = foreign.json()["id"]

    await sign_in(console, "admin@example.com")
    csrf = csrf_of((await console.get("/console/webhooks")).text)
    own_id, _ = await create(console, csrf, mine, receiver.url("/mine"))
    assert (await console.get(f"/console/webhooks/{foreign_id}")).status_code == 404
    assert (
        await console.get(f"/console/webhooks/{foreign_id}?account={theirs.account_id}")
    ).status_code == 404
    for action in ("test", "disable", "rotate-secret", "delete"):
        for account in (mine.account_id, theirs.account_id):
            posted = await console.post(
                f"/console/webhooks/{foreign_id}/{action}",
                data={"csrf_token": csrf, "account": account},
            )
            assert posted.status_code == 404, (action, account)
    assert (await api_hook(console, theirs, foreign_id))["enabled"] is True
    assert receiver.url("/theirs") not in (await console.get("/console/webhooks")).text

    no_csrf = await console.post(
        f"/console/webhooks/{own_id}/delete", data={"account": mine.account_id}
    )
    assert no_csrf.status_code == 403
    await api_hook(console, mine, own_id)
    await console.post("/console/sign-out", data={"csrf_token": csrf})

    await sign_in(console, "viewer@example.com")
    page = await console.get(f"/console/webhooks/{own_id}")
    assert page.status_code == 200 and receiver.url("/mine") in page.text
    assert "Send test event" not in page.text and "Rotate secret" not in page.text
    viewer_csrf = csrf_of(page.text)  # the sign-out form's token: a valid one
    form = {"csrf_token": viewer_csrf, "account": mine.account_id}
    for path in (f"/{own_id}/test", f"/{own_id}/delete", f"/{own_id}/rotate-secret", "/"):
        refused = await console.post(f"/console/webhooks{path}", data={**form, "url": "x"})
        assert refused.status_code == 403 and "Viewers cannot change anything" in refused.text
    assert (await api_hook(console, mine, own_id))["enabled"] is True
    assert receiver.requests == []
