"""The console's inbox: captured copies linked to their Herald message by the capture
server, sandbox messages beside them, newest first by cursor, searchable; each account sees
only its own; "Delete all" empties one account's inbox and nothing else."""

from __future__ import annotations

import base64
import html
import smtplib
from collections.abc import AsyncIterator, Iterator

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from herald_queue.capture import start_capture_server
from herald_service.api.app import create_app
from herald_service.inbox.service import list_inbox
from herald_service.storage.database import async_session_factory, make_async_engine
from herald_service.storage.models import CapturedMessage, Message
from support.console import add_user, csrf_of, sign_in
from support.harness import Herald, Tenant
from support.processes import free_port

HTML = '<p>Hello</p><img src="https://cdn.example/logo.png">'


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {
        **settings_env,
        "HERALD_DELIVERY_MODE": "capture",
        "HERALD_CAPTURE_PORT": str(free_port()),
    }


@pytest.fixture
def capture(herald: Herald) -> Iterator[int]:
    """The capture SMTP server, linking copies with the installation's secret key."""
    settings = herald.settings
    server = start_capture_server(
        herald.engine, settings.capture_host, settings.capture_port, settings.secret_key or ""
    )
    yield settings.capture_port
    server.stop()


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as c:
        c.follow_redirects = False
        with herald.serving(c):
            yield c


async def send(client: AsyncTestClient, tenant: Tenant, subject: str, **fields: object) -> str:  # type: ignore[type-arg]
    body = {
        "from": {"email": f"app@{tenant.domain}", "name": "The App"},
        "to": ["alice@receiver.example"],
        "subject": subject,
        "text": "Hello",
        "html": HTML,
        "tags": ["inbox"],
    }
    response = await client.post("/v1/messages", json=body | fields, headers=tenant.headers)
    assert response.status_code == 202, response.text
    message_id: str = response.json()["id"]
    return message_id


async def inbox(herald: Herald, account_id: str, q: str = "", limit: int = 50) -> list[str]:
    """The ``kind:message id`` of every item of the account's inbox, walking the cursor."""
    engine = make_async_engine(herald.settings.database_url)
    seen: list[str] = []
    cursor = None
    try:
        async with async_session_factory(engine)() as db:
            while True:
                page, cursor = await list_inbox(db, account_id, q, cursor, limit)
                seen += [f"{i.kind}:{i.message_id}" for i in page]
                if cursor is None:
                    return seen
    finally:
        await engine.dispose()


async def test_inbox_lists_searches_isolates_and_empties(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
    capture: int,
) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    await add_user(herald.settings.database_url, "admin@example.com", "admin", mine.account_id)
    await add_user(herald.settings.database_url, "viewer@example.com", "viewer", mine.account_id)
    first = await send(console, mine, "Welcome aboard")
    assert await herald.drain_queue() == 1
    sandboxed = await send(console, mine, "Trial receipt", sandbox=True)
    second = await send(console, mine, "Password reset", to=["bob@receiver.example"])
    other = await send(console, theirs, "Their secret")
    assert await herald.drain_queue() == 2
    with smtplib.SMTP("127.0.0.1", capture) as smtp:  # not from Herald: a forged return path
        smtp.sendmail(
            f"b+{first}.1.aaaaaaaaaaaaaaaa@x.example", ["z@x.example"], b"Subject: x\r\n\r\nx"
        )

    assert await inbox(herald, mine.account_id) == [
        f"captured:{second}",
        f"sandbox:{sandboxed}",
        f"captured:{first}",
    ]
    assert await inbox(herald, mine.account_id, limit=1) == await inbox(herald, mine.account_id)
    assert await inbox(herald, theirs.account_id) == [f"captured:{other}"]
    assert await inbox(herald, mine.account_id, "RESET") == [f"captured:{second}"]
    assert await inbox(herald, mine.account_id, "bob@receiver.example") == [f"captured:{second}"]
    everything = await inbox(herald, mine.account_id)
    assert await inbox(herald, mine.account_id, f"APP@{mine.domain}") == everything  # the sender
    assert await inbox(herald, mine.account_id, f"app@{theirs.domain}") == []
    assert await inbox(herald, mine.account_id, sandboxed) == [f"sandbox:{sandboxed}"]
    assert await inbox(herald, mine.account_id, "their") == []
    assert await inbox(herald, mine.account_id, "100%_") == []

    assert (await sign_in(console, "admin@example.com")).status_code == 303
    page = await console.get("/console/inbox")
    assert page.status_code == 200
    assert 'href="/console/inbox" aria-current="page"' in page.text
    assert html.escape("The App <app@mine.example>") in page.text  # From header, not VERP
    assert "Their secret" not in page.text and "b+msg_" not in page.text
    async with async_session_factory(make_async_engine(herald.settings.database_url))() as db:
        copies = dict(
            (await db.execute(select(CapturedMessage.message_id, CapturedMessage.id))).all()
        )
        unlinked = (
            await db.execute(select(CapturedMessage.id).where(CapturedMessage.account_id.is_(None)))
        ).scalar_one()
    for path in (
        f"/console/inbox/captured/{copies[other]}",
        f"/console/inbox/captured/{copies[other]}/preview",
        f"/console/inbox/captured/{unlinked}",
        f"/console/inbox/sandbox/{first}",
        f"/console/inbox/sandbox/{'x' * 500}",
        f"/console/inbox/captured/{'9' * 40}",
        "/console/inbox/elsewhere/1",
        f"/console/inbox?account={theirs.account_id}",
    ):
        assert (await console.get(path)).status_code == 404, path
    huge = base64.urlsafe_b64encode(b"2026-12-03T00:00:00+00:00|captured|" + b"9" * 40).decode()
    for cursor in ("bm9wZQ", huge, "%FF%FE", "////"):
        assert (await console.get(f"/console/inbox?cursor={cursor}")).status_code == 422
    for q in ("\u00b2", "9" * 40, "%", "msg_" + "x" * 300, "@"):
        assert (await console.get("/console/inbox", params={"q": q})).status_code == 200
    assert (await console.get("/console/inbox/captured/\u00b2")).status_code == 404

    view = await console.get(f"/console/inbox/captured/{copies[first]}?tab=check")
    assert view.status_code == 200
    assert 'data-check="image_alt"' in view.text
    assert "dkim-pass" in view.text
    preview = await console.get(f"/console/inbox/sandbox/{sandboxed}/preview")
    assert "sandbox" in preview.headers["content-security-policy"]
    assert b"cdn.example/logo.png" in preview.content

    # A viewer sees no delete link and cannot post; a post without the token is refused.
    viewer = AsyncTestClient(console.app, base_url="http://127.0.0.1")
    async with viewer:
        viewer.follow_redirects = False
        assert (await sign_in(viewer, "viewer@example.com")).status_code == 303
        listed = await viewer.get("/console/inbox")
        assert "Their secret" not in listed.text and "delete-all" not in listed.text
        token = csrf_of(listed.text)
        refused = await viewer.post("/console/inbox/delete", data={"csrf_token": token})
        assert refused.status_code == 403
        assert (await viewer.get("/console/inbox/delete")).status_code == 403
    assert (await console.post("/console/inbox/delete", data={})).status_code == 403
    confirm = await console.get(f"/console/inbox/delete?account={mine.account_id}")
    form = {"csrf_token": csrf_of(confirm.text), "account": mine.account_id}
    done = await console.post("/console/inbox/delete", data=form)
    assert done.status_code == 303
    assert (await console.get(done.headers["location"])).text.count("data-inbox=") == 0

    assert await inbox(herald, mine.account_id) == []
    assert await inbox(herald, theirs.account_id) == [f"captured:{other}"]
    async with async_session_factory(make_async_engine(herald.settings.database_url))() as db:
        kept = (await db.execute(select(func.count()).select_from(Message))).scalar_one()
    assert kept == 4  # messages themselves, sandbox or not, stay in Activity and the API
    detail = await console.get(f"/v1/messages/{sandboxed}", headers=mine.headers)
    assert detail.status_code == 200
    later = await send(console, mine, "After the purge", sandbox=True)
    assert await inbox(herald, mine.account_id) == [f"sandbox:{later}"]

    legacy = await console.get("/dev/inbox/")
    assert legacy.status_code == 302 and legacy.headers["location"] == "/console/inbox"
    assert len((await console.get("/dev/inbox/messages")).json()) == 2  # theirs, unlinked


async def test_the_nav_offers_the_inbox_when_there_is_something_to_show(
    herald: Herald,
) -> None:
    tenant = await herald.create_tenant("mine.example")
    await add_user(herald.settings.database_url, "ops@example.com", "viewer", tenant.account_id)
    settings = msgspec.structs.replace(herald.settings, delivery_mode="mx")
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        client.follow_redirects = False
        with herald.serving(client):
            assert (await sign_in(client, "ops@example.com")).status_code == 303
            assert 'href="/console/inbox"' not in (await client.get("/console")).text
            page = await client.get("/console/inbox")
            assert page.status_code == 200 and "only sandbox messages" in page.text
            assert (await client.get("/dev/inbox/messages")).status_code == 404
            await send(client, tenant, "Trial", sandbox=True)
            assert 'href="/console/inbox"' in (await client.get("/console")).text
