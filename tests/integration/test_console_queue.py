"""The console's Queue page: waiting recipients per recipient domain and status, a page at
a time; admins retry deferred mail (all, one recipient domain's, one message's) and cancel
a message that has not started. Viewers only look, a form without the CSRF token is
refused, and another account's messages are neither shown nor touched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import insert, select, update

from herald_service.api.app import create_app
from herald_service.shaping.store import ShapingStore, shaping_redis
from herald_service.storage.database import make_async_engine
from herald_service.storage.models import DestinationCooldown, Recipient
from support.console import add_user, csrf_of, sign_in
from support.harness import Herald, Tenant
from support.stored import store_message

LATER = datetime.now(UTC) + timedelta(hours=2)


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as c:
        c.follow_redirects = False
        yield c


async def waiting_at(herald: Herald, tenant: Tenant, domain: str, *statuses: str) -> str:
    """A message whose recipients at ``domain`` wait in ``statuses``, due in two hours
    (the deferred ones after one attempt); its id."""
    url = herald.settings.database_url
    message_id = await store_message(
        url, tenant.account_id, tenant.domain_id, datetime.now(UTC), *statuses
    )
    engine = make_async_engine(url)
    try:
        async with engine.begin() as db:
            await db.execute(
                update(Recipient)
                .where(Recipient.message_id == message_id)
                .values(domain=domain, next_attempt_at=LATER)
            )
            await db.execute(
                update(Recipient)
                .where(Recipient.message_id == message_id, Recipient.status == "deferred")
                .values(attempt_count=1)
            )
    finally:
        await engine.dispose()
    return message_id


async def due(herald: Herald, message_id: str) -> dict[str, bool]:
    """Per recipient status, whether it is due now rather than in two hours."""
    engine = make_async_engine(herald.settings.database_url)
    try:
        async with engine.connect() as db:
            rows = await db.execute(
                select(Recipient.email, Recipient.status, Recipient.next_attempt_at).where(
                    Recipient.message_id == message_id
                )
            )
            return {
                f"{email} {status}": at is not None and at.replace(tzinfo=UTC) < LATER
                for email, status, at in rows
            }
    finally:
        await engine.dispose()


async def test_counts_list_pages_and_admin_actions(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    await add_user(herald.settings.database_url, "admin@example.com", "admin", mine.account_id)
    slow = await waiting_at(herald, mine, "slow.example", "deferred", "deferred", "queued")
    also_slow = await waiting_at(herald, mine, "slow.example", "deferred")
    paused = await waiting_at(herald, mine, "held.example", "held", "delivered")
    other = await waiting_at(herald, theirs, "secret.example", "deferred")

    await sign_in(console, "admin@example.com")
    page = await console.get("/console/queue")
    assert page.status_code == 200
    assert 'href="/console/queue" aria-current="page"' in page.text
    assert 'data-domain="slow.example"' in page.text and 'data-domain="held.example"' in page.text
    assert "secret.example" not in page.text and other not in page.text
    slow_row = page.text.split('data-domain="slow.example"')[1].split("</tr>")[0]
    assert '<td data-label="deferred">3</td>' in slow_row
    assert '<td data-label="queued">1</td>' in slow_row
    assert page.text.count('<tr data-message="') == 5  # the delivered one is not waiting
    assert "Retry all deferred now (3)" in page.text
    csrf = csrf_of(page.text)

    deferred_only = await console.get("/console/queue", params={"status": "deferred"})
    assert deferred_only.text.count('<tr data-message="') == 3
    held_only = await console.get("/console/queue", params={"domain": "held.example"})
    assert held_only.text.count('<tr data-message="') == 1 and paused in held_only.text

    one = await console.post(
        f"/console/queue/messages/{also_slow}/retry",
        data={"csrf_token": csrf, "account": mine.account_id, "status": "deferred"},
    )
    assert one.status_code == 303 and "status=deferred" in one.headers["location"]
    assert await due(herald, also_slow) == {"r0@receiver.example deferred": True}
    assert await due(herald, slow) == {
        "r0@receiver.example deferred": False,
        "r1@receiver.example deferred": False,
        "r2@receiver.example queued": False,
    }
    nothing = await console.post(
        f"/console/queue/messages/{paused}/retry",
        data={"csrf_token": csrf, "account": mine.account_id},
    )
    assert nothing.status_code == 409

    every = await console.post(
        "/console/queue/retry",
        data={"csrf_token": csrf, "account": mine.account_id, "domain": "slow.example"},
    )
    assert every.status_code == 303
    shown = await console.get(every.headers["location"])
    assert "3 deferred recipients due now" in shown.text
    assert (await due(herald, slow))["r1@receiver.example deferred"] is True
    assert (await due(herald, other)) == {"r0@receiver.example deferred": False}

    canceled = await console.post(
        f"/console/queue/messages/{paused}/cancel",
        data={"csrf_token": csrf, "account": mine.account_id},
    )
    assert canceled.status_code == 303
    assert await herald.recipients(paused) == {
        "r0@receiver.example": "canceled",
        "r1@receiver.example": "delivered",
    }
    assert "Message canceled" in (await console.get(canceled.headers["location"])).text

    for action in ("retry", "cancel"):
        foreign = await console.post(
            f"/console/queue/messages/{other}/{action}",
            data={"csrf_token": csrf, "account": mine.account_id},
        )
        assert foreign.status_code == 404, action
        not_member = await console.post(
            f"/console/queue/messages/{other}/{action}",
            data={"csrf_token": csrf, "account": theirs.account_id},
        )
        assert not_member.status_code == 404, action
    assert await herald.recipients(other) == {"r0@receiver.example": "deferred"}
    theirs_page = await console.get("/console/queue", params={"account": theirs.account_id})
    assert theirs_page.status_code == 404


async def test_pages_of_fifty(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("many.example")
    await add_user(herald.settings.database_url, "v@example.com", "viewer", tenant.account_id)
    await waiting_at(herald, tenant, "big.example", *(["queued"] * 53))
    await sign_in(console, "v@example.com")
    first = await console.get("/console/queue")
    assert first.text.count('<tr data-message="') == 50
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    second = await console.get("/console/queue", params={"page": "2"})
    assert second.text.count('<tr data-message="') == 3
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text


async def test_viewers_look_and_forms_need_the_token(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("mine.example")
    url = herald.settings.database_url
    await add_user(url, "viewer@example.com", "viewer", tenant.account_id)
    await add_user(url, "admin@example.com", "admin", tenant.account_id)
    message_id = await waiting_at(herald, tenant, "slow.example", "deferred")

    await sign_in(console, "viewer@example.com")
    page = await console.get("/console/queue")
    assert message_id in page.text and 'data-domain="slow.example"' in page.text
    assert "Retry all deferred" not in page.text
    assert 'action="/console/queue/messages' not in page.text
    csrf = csrf_of(page.text)
    for path in (
        "/console/queue/retry",
        f"/console/queue/messages/{message_id}/retry",
        f"/console/queue/messages/{message_id}/cancel",
    ):
        refused = await console.post(path, data={"csrf_token": csrf, "account": tenant.account_id})
        assert refused.status_code == 403, path
    await console.post("/console/sign-out", data={"csrf_token": csrf})

    await sign_in(console, "admin@example.com")
    for path in ("/console/queue/retry", f"/console/queue/messages/{message_id}/cancel"):
        refused = await console.post(path, data={"account": tenant.account_id})
        assert refused.status_code == 403, path
    assert await due(herald, message_id) == {"r0@receiver.example deferred": False}


async def test_the_rate_now_halvings_and_suspensions_per_destination(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    mine = await herald.create_tenant("mine.example")
    await add_user(herald.settings.database_url, "viewer@example.com", "viewer", mine.account_id)
    await waiting_at(herald, mine, "gmail.com", "deferred")
    await waiting_at(herald, mine, "busy.example", "queued")
    await waiting_at(herald, mine, "blocked.example", "deferred")
    redis = shaping_redis(herald.settings.redis_url)
    try:  # busy.example said "slow down" once: halved from the default 600/min
        await ShapingStore(redis).slow_down("busy.example", 600.0, 60.0, 1 / 16)
    finally:
        await redis.aclose()
    engine = make_async_engine(herald.settings.database_url)
    try:
        async with engine.begin() as db:
            await db.execute(
                insert(DestinationCooldown).values(
                    domain_id=mine.domain_id,
                    destination="blocked.example",
                    account_id=mine.account_id,
                    window_started_at=datetime.now(UTC),
                    blocks=0,
                    until=LATER,
                    last_reply="550 5.7.1 spam",
                )
            )
    finally:
        await engine.dispose()

    await sign_in(console, "viewer@example.com")
    page = await console.get("/console/queue")
    assert page.status_code == 200

    def row(domain: str) -> str:
        return page.text.split(f'data-domain="{domain}"')[1].split("</tr>")[0]

    gmail = row("gmail.com")
    assert "1,200/min, 36,000/h" in gmail and "(gmail)" in gmail
    busy = row("busy.example")
    assert "300/min" in busy and "halved</span> until" in busy
    blocked = row("blocked.example")
    assert "unlimited" in blocked
    assert f'suspended</span> until <time datetime="{LATER.isoformat()}' in blocked
