"""The console's Templates page: admins create, edit, activate and delete; the preview
renders unsaved content; viewers only look (and preview); other accounts are 404s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from support.console import add_user, csrf_of, sign_in
from support.harness import Herald


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as c:
        c.follow_redirects = False
        yield c


FORM = {
    "name": "Welcome",
    "alias": "welcome",
    "subject": "Hi {{ first_name }}",
    "html": "<p>{{ first_name }}</p>",
    "text": "Hello {{ first_name }}",
}


async def test_admin_creates_edits_activates_previews_and_deletes(
    herald: Herald, console: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant()
    await add_user(herald.settings.database_url, "ops@example.com", "admin", tenant.account_id)
    await sign_in(console, "ops@example.com")
    page = await console.get("/console/templates")
    assert page.status_code == 200 and "No templates yet." in page.text
    csrf = csrf_of(page.text)
    base = {"csrf_token": csrf, "account": tenant.account_id}

    created = await console.post("/console/templates", data={**base, **FORM})
    assert created.status_code == 303, created.text
    location = created.headers["location"]
    tid = location.split("/console/templates/")[1].split("?")[0]
    shown = await console.get(location)
    assert "Template created." in shown.text and 'data-version="1"' in shown.text

    saved = await console.post(
        f"/console/templates/{tid}", data={**base, **FORM, "subject": "Hey {{ first_name }}"}
    )
    assert saved.status_code == 303
    api = (await console.get(f"/v1/templates/{tid}", headers=tenant.headers)).json()
    assert (api["active_version"], api["subject"]) == (2, "Hey {{ first_name }}")
    renamed = await console.post(
        f"/console/templates/{tid}",
        data={**base, **FORM, "subject": "Hey {{ first_name }}", "name": "Renamed"},
    )
    assert renamed.status_code == 303
    api = (await console.get(f"/v1/templates/{tid}", headers=tenant.headers)).json()
    assert (api["active_version"], api["name"]) == (2, "Renamed")  # no content change

    broken = await console.post(
        f"/console/templates/{tid}", data={**base, **FORM, "html": "{% if %}"}
    )
    assert broken.status_code == 422 and "html: line 1" in broken.text

    activated = await console.post(f"/console/templates/{tid}/versions/1/activate", data=base)
    assert activated.status_code == 303
    api = (await console.get(f"/v1/templates/{tid}", headers=tenant.headers)).json()
    assert api["active_version"] == 1

    preview = await console.post(
        "/console/templates/preview",
        data={**base, **FORM, "template_data": '{"first_name": "<b>Ann</b>"}'},
    )
    assert preview.status_code == 200
    assert '<dd id="preview-subject">Hi &lt;b&gt;Ann&lt;/b&gt;</dd>' in preview.text
    # The HTML part is escaped by the template, then shown as source: escaped twice.
    assert "&lt;p&gt;&amp;lt;b&amp;gt;Ann&amp;lt;/b&amp;gt;&lt;/p&gt;" in preview.text
    missing = await console.post(
        "/console/templates/preview", data={**base, **FORM, "template_data": "{}"}
    )
    assert 'data-field="template_data.first_name"' in missing.text
    not_json = await console.post(
        "/console/templates/preview", data={**base, **FORM, "template_data": "[1"}
    )
    assert 'data-field="template_data"' in not_json.text

    deleted = await console.post(f"/console/templates/{tid}/delete", data=base)
    assert deleted.status_code == 303
    assert (await console.get(f"/v1/templates/{tid}", headers=tenant.headers)).status_code == 404


async def test_viewer_only_looks_and_other_accounts_are_404(
    herald: Herald, console: AsyncTestClient[Any]
) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    await add_user(herald.settings.database_url, "viewer@example.com", "viewer", mine.account_id)
    ours = await console.post("/v1/templates", headers=mine.headers, json=FORM)
    foreign = await console.post("/v1/templates", headers=theirs.headers, json=FORM)
    tid, their_id = ours.json()["id"], foreign.json()["id"]

    await sign_in(console, "viewer@example.com")
    page = await console.get(f"/console/templates/{tid}")
    assert page.status_code == 200 and "readonly" in page.text
    assert "Save as a new version" not in page.text and "Activate" not in page.text
    csrf = csrf_of(page.text)
    base = {"csrf_token": csrf, "account": mine.account_id}
    refused = await console.post(f"/console/templates/{tid}", data={**base, **FORM})
    assert refused.status_code == 403
    preview = await console.post(
        "/console/templates/preview", data={**base, **FORM, "template_data": '{"first_name": 1}'}
    )
    assert preview.status_code == 200 and "Hi 1" in preview.text

    assert (await console.get(f"/console/templates/{their_id}")).status_code == 404
    other = await console.get(f"/console/templates?account={theirs.account_id}")
    assert other.status_code == 404
