"""The console's Activity page: a member account's messages, filtered, never another's."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from support.console import add_user, sign_in
from support.harness import Herald, Tenant

TEMPLATES = Path(__file__).parents[2] / "service/herald_service/console/templates"


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as c:
        c.follow_redirects = False
        yield c


async def send(client: AsyncTestClient, tenant: Tenant, **fields: object) -> str:  # type: ignore[type-arg]
    body = {"from": f"app@{tenant.domain}", "to": ["user@receiver.example"], "text": "t"}
    response = await client.post("/v1/messages", json=body | fields, headers=tenant.headers)
    assert response.status_code == 202, response.text
    message_id: str = response.json()["id"]
    return message_id


def shown(html: str) -> list[str]:
    return re.findall(r'data-message-id="([^"]+)"', html)


async def test_activity_lists_filters_and_isolates(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    await add_user(herald.settings.database_url, "viewer@example.com", "viewer", mine.account_id)
    first = await send(console, mine, subject="Welcome <b>aboard</b>", tags=["welcome"])
    second = await send(console, mine, subject="Reset", to=["other@receiver.example"])
    foreign = await send(console, theirs, subject="Not yours")
    assert (await sign_in(console, "viewer@example.com")).status_code == 303

    page = await console.get("/console")
    assert page.status_code == 200
    assert shown(page.text) == [second, first]
    assert "Welcome &lt;b&gt;aboard&lt;/b&gt;" in page.text  # escaped, never markup
    assert "Not yours" not in page.text and foreign not in page.text
    assert 'hx-get="/console/activity/rows?account=' in page.text

    async def rows(**params: str) -> list[str]:
        response = await console.get("/console/activity/rows", params=params)
        assert response.status_code == 200, response.text
        assert "<html" not in response.text  # a fragment
        return shown(response.text)

    assert await rows(tag="welcome") == [first]
    assert await rows(recipient="OTHER@receiver.example") == [second]
    assert await rows(q="other@receiver.example") == [second]
    assert await rows(q=first) == [first]
    assert await rows(q=foreign) == []  # another account's id is not found
    assert await rows(status="queued") == [second, first]
    assert await rows(status="delivered") == []
    assert await rows(domain="mine.example") == [second, first]
    assert await rows(domain="theirs.example") == []
    assert await rows(since="2000-01-01T00:00", until="2000-01-02T00:00") == []

    other_account = await console.get("/console", params={"account": theirs.account_id})
    assert other_account.status_code == 404
    for params in ({"status": "nope"}, {"since": "yesterday"}, {"cursor": "garbage"}):
        refused = await console.get("/console/activity/rows", params=params)
        assert refused.status_code == 422, params
    nul = await console.get("/console/activity/rows", params={"q": "a\x00b"})
    assert nul.status_code == 400 and "NUL" in nul.text


async def test_activity_pages_by_cursor(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    ids = [await send(console, tenant, subject=f"n{i}") for i in range(52)]
    await sign_in(console, "ops@example.com")
    first = await console.get("/console")
    assert shown(first.text) == list(reversed(ids))[:50]
    older = re.search(r'href="(/console\?[^"]*cursor=[^"]+)"', first.text)
    assert older is not None
    second = await console.get(older.group(1).replace("&amp;", "&"))
    assert shown(second.text) == list(reversed(ids))[50:]
    assert "hx-trigger" not in second.text  # only the newest page updates itself


async def test_static_assets_are_served_and_cached(console: AsyncTestClient) -> None:  # type: ignore[type-arg]
    for path, kind in (
        ("/console/static/console.css", "text/css"),
        ("/console/static/vendor/htmx.min.js", "javascript"),
    ):
        response = await console.get(path)
        assert response.status_code == 200
        assert kind in response.headers["content-type"]
        assert "max-age=31536000" in response.headers["cache-control"]
        assert "content-security-policy" in response.headers


def test_templates_have_no_inline_script_or_style() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\ssrc=)", text), template.name
        assert "<style" not in text and " style=" not in text, template.name
        assert not re.search(r"\son[a-z]+=", text), template.name  # no event handlers
