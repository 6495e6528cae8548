"""``client.templates`` and sending by template, blocking and asyncio, against the real app
in process (SQLite and PostgreSQL)."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

from herald import (
    AsyncHerald,
    ConflictError,
    Herald,
    NotFoundError,
    RenderedTemplate,
    Template,
    UnprocessableEntityError,
)


def test_templates_create_update_versions_activate_render_send(client: Herald) -> None:
    created = client.templates.create(
        name="Welcome",
        alias="welcome",
        subject="Welcome, {{ name }}",
        html="<p>Hi {{ name }}</p>",
        text="Hi {{ name }}",
    )
    assert isinstance(created, Template) and created.active_version == 1
    with pytest.raises(ConflictError):
        client.templates.create(name="Again", alias="welcome", subject="s", text="t")

    updated = client.templates.update(created.id, subject="Hello {{ name }}!")
    assert updated.active_version == 2 and updated.html == "<p>Hi {{ name }}</p>"
    versions = client.templates.versions(created.id).data
    assert [(v.version, v.active) for v in versions] == [(2, True), (1, False)]
    rendered = client.templates.render(created.id, {"name": "<Ann>"})
    assert rendered == RenderedTemplate("Hello <Ann>!", "<p>Hi &lt;Ann&gt;</p>", "Hi <Ann>")
    assert client.templates.render(created.id, {"name": "A"}, version=1).subject == "Welcome, A"
    assert client.templates.activate(created.id, 1).active_version == 1
    assert client.templates.get(created.id).subject == "Welcome, {{ name }}"

    with pytest.raises(UnprocessableEntityError) as missing:
        client.templates.render(created.id, {})
    assert [e.field for e in missing.value.errors] == ["template_data.name"]

    sent = client.messages.send(
        from_="app@sender.example",
        to="ann@receiver.example",
        template_alias="welcome",
        template_data={"name": "Ann"},
        sandbox=True,
    )
    raw = client.messages.raw(sent.id)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Welcome, Ann"

    client.templates.create(name="Second", subject="s", text="t")
    assert [t.name for t in client.templates.iter(limit=1)] == ["Second", "Welcome"]
    assert len(client.templates.list().data) == 2
    client.templates.delete(created.id)
    with pytest.raises(NotFoundError):
        client.templates.get(created.id)


async def test_async_templates(async_client: AsyncHerald) -> None:
    created = await async_client.templates.create(name="A", subject="{{ s }}", text="{{ t }}")
    updated = await async_client.templates.update(created.id, name="B", text="x {{ t }}")
    assert (updated.name, updated.active_version) == ("B", 2)
    assert len((await async_client.templates.versions(created.id)).data) == 2
    assert (await async_client.templates.activate(created.id, 1)).text == "{{ t }}"
    rendered = await async_client.templates.render(created.id, {"s": "S", "t": "T"})
    assert (rendered.subject, rendered.text, rendered.html) == ("S", "T", None)
    assert [t.id async for t in async_client.templates.iter()] == [created.id]
    assert (await async_client.templates.get(created.id)).name == "B"
    assert len((await async_client.templates.list()).data) == 1
    sent = await async_client.messages.send(
        from_="app@sender.example",
        to="ann@receiver.example",
        template_id=created.id,
        template_data={"s": "Subject", "t": "Body"},
        sandbox=True,
    )
    raw = await async_client.messages.raw(sent.id)
    assert b"Subject: Subject" in raw and b"Body" in raw
    await async_client.templates.delete(created.id)
    assert (await async_client.templates.list()).data == []
