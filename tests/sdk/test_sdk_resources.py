"""Every resource method of the SDK against the real app in process (SQLite and PostgreSQL)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from litestar.testing import TestClient

from herald import (
    ApiKey,
    AsyncHerald,
    Attachment,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    Domain,
    EventLogEntry,
    EventPage,
    Herald,
    KeyQuotas,
    NotFoundError,
    PayloadTooLargeError,
    Suppression,
    Unsubscribe,
)
from support.harness import Herald as HeraldHarness

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """A 1 MB request limit, so a 413 is cheap to provoke."""
    return {**settings_env, "HERALD_MAX_REQUEST_BYTES": str(1024 * 1024)}


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_send_with_every_field_and_read_the_source(client: Herald, tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    report.write_bytes(b"id,total\n1,42\n")
    sent = client.messages.send(
        from_="app@sender.example",
        to="alice@receiver.example",
        bcc=["audit@receiver.example"],
        subject="Your report",
        text="See attached.",
        html='<p>See attached.</p><img src="cid:logo">',
        attachments=[
            Attachment(b"%PDF-1.4 invoice", filename="invoice.pdf"),
            report,
            Attachment.inline(PNG, "logo", filename="logo.png"),
        ],
        headers={"X-Campaign": "spring"},
        unsubscribe=Unsubscribe(url="https://sender.example/unsub?u=1"),
        tags=["report"],
        metadata={"user_id": "7"},
        sandbox=True,
    )
    message = client.messages.get(sent.id)
    assert message.sandbox is True
    assert message.tags == ["report"]

    raw = client.messages.raw(sent.id)
    assert isinstance(raw, bytes)
    parsed = parse(raw)
    assert parsed["Subject"] == "Your report"
    assert parsed["X-Campaign"] == "spring"
    assert "https://sender.example/unsub?u=1" in parsed["List-Unsubscribe"]
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "audit@receiver.example" not in raw.decode()
    parts = {part.get_filename(): part for part in parsed.walk() if part.get_filename() is not None}
    assert parts["invoice.pdf"].get_content_type() == "application/pdf"
    assert parts["invoice.pdf"].get_payload(decode=True) == b"%PDF-1.4 invoice"
    assert parts["report.csv"].get_content_type() == "text/csv"
    assert parts["report.csv"].get_payload(decode=True) == b"id,total\n1,42\n"
    logo = parts["logo.png"]
    assert logo.get_content_type() == "image/png"
    assert logo["Content-ID"] == "<logo>"
    assert logo.get_content_disposition() == "inline"
    assert logo.get_payload(decode=True) == PNG


def test_attachment_needs_a_filename_with_bytes() -> None:
    with pytest.raises(ValueError, match="filename"):
        Attachment(b"data").to_body()


def test_events_list_filters_and_iterate_over_every_page(client: Herald) -> None:
    ids = [
        client.messages.send(
            from_="app@sender.example",
            to=[f"user{i}@receiver.example", f"other{i}@receiver.example"],
            text="hi",
            tags=["batch" if i < 3 else "single"],
        ).id
        for i in range(4)
    ]
    page = client.events.list(tag="batch", limit=2)
    assert isinstance(page, EventPage)
    assert len(page.data) == 2
    assert page.next_cursor
    assert all(isinstance(e, EventLogEntry) and e.type == "message.accepted" for e in page.data)

    following = client.events.list(tag="batch", limit=2, cursor=page.next_cursor)
    assert not {e.id for e in following.data} & {e.id for e in page.data}

    everything = list(client.events.iter(tag="batch", limit=2))
    assert len(everything) == 6
    assert len({e.id for e in everything}) == 6
    assert {e.message_id for e in everything} == set(ids[:3])
    assert [e.at for e in everything] == sorted((e.at for e in everything), reverse=True)

    one = list(client.events.iter(message_id=ids[3], type=["message.accepted"]))
    assert {e.recipient for e in one} == {"user3@receiver.example", "other3@receiver.example"}
    assert list(client.events.iter(type="message.bounced")) == []
    since = datetime.now(UTC) + timedelta(hours=1)
    assert client.events.list(since=since).data == []
    with pytest.raises(ValueError, match="time zone"):
        client.events.list(since=datetime(2030, 1, 1))


async def test_async_events_iterate_across_pages(async_client: AsyncHerald) -> None:
    for i in range(3):
        await async_client.messages.send(
            from_="app@sender.example", to=f"u{i}@receiver.example", text="hi", sandbox=True
        )
    seen = [event.recipient async for event in async_client.events.iter(limit=1)]
    assert sorted(seen) == ["u0@receiver.example", "u1@receiver.example", "u2@receiver.example"]
    page = await async_client.events.list(limit=1)
    assert len(page.data) == 1 and page.next_cursor


def test_domains_add_get_list_verify_rotate_delete(client: Herald, herald: HeraldHarness) -> None:
    added = client.domains.add("news.example", dkim_selector="s2030")
    assert isinstance(added, Domain)
    assert added.name == "news.example"
    assert added.status != "verified"
    assert {k.selector for k in added.dkim_keys} >= {"s2030"} or any(
        k.selector.startswith("s2030") for k in added.dkim_keys
    )
    assert {r.type for r in added.records} >= {"TXT"}
    assert client.domains.get(added.id) == added
    assert {d.name for d in client.domains.list()} == {"sender.example", "news.example"}

    verified = client.domains.verify(added.id)
    assert verified.last_checked_at is not None
    assert {r.status for r in verified.records if r.required} <= {"missing", "mismatch"}

    sender = next(d for d in client.domains.list() if d.name == "sender.example")
    rotated = client.domains.rotate_dkim(sender.id)
    assert any(k.status == "pending" for k in rotated.dkim_keys)
    assert len(rotated.dkim_keys) > len(sender.dkim_keys)

    with pytest.raises(ConflictError) as duplicate:
        client.domains.add("news.example")
    assert duplicate.value.status == 409

    assert client.domains.delete(added.id) is None
    with pytest.raises(NotFoundError):
        client.domains.get(added.id)
    assert [d.name for d in client.domains.list()] == ["sender.example"]


async def test_async_domains(async_client: AsyncHerald) -> None:
    added = await async_client.domains.add("shop.example", allow_subdomains=True)
    assert added.allow_subdomains is True
    assert (await async_client.domains.get(added.id)).name == "shop.example"
    assert "shop.example" in {d.name for d in await async_client.domains.list()}
    assert (await async_client.domains.verify(added.id)).last_checked_at is not None
    assert (await async_client.domains.rotate_dkim(added.id, dkim_selector="r1")).dkim_keys
    await async_client.domains.delete(added.id)
    with pytest.raises(NotFoundError):
        await async_client.domains.delete(added.id)


def test_api_keys_create_list_get_update_revoke(
    client: Herald,
    app_client: TestClient,  # type: ignore[type-arg]
) -> None:
    created = client.api_keys.create(
        ["send", "read"], name="ci", domains=["sender.example"], quotas=KeyQuotas(burst=10)
    )
    assert isinstance(created, ApiKey)
    assert created.key and created.scopes == ["send", "read"]
    assert created.domains == ["sender.example"]
    assert created.quotas.burst == 10
    fetched = client.api_keys.get(created.id)
    assert fetched.key is None and fetched.name == "ci"
    assert created.id in {k.id for k in client.api_keys.list()}
    renamed = client.api_keys.update(created.id, name="deploys")
    assert renamed.name == "deploys"

    with Herald(
        api_key=created.key, base_url=str(app_client.base_url), http_client=app_client
    ) as ci:
        assert ci.messages.send(from_="app@sender.example", to="a@receiver.example", text="hi")
    client.api_keys.revoke(created.id)
    assert client.api_keys.get(created.id).revoked_at is not None

    # A revoked key stops working (at once when this process has not cached it yet).
    unused = client.api_keys.create(["read"])
    assert unused.key
    client.api_keys.revoke(unused.id)
    with (
        Herald(
            api_key=unused.key, base_url=str(app_client.base_url), http_client=app_client
        ) as gone,
        pytest.raises(AuthenticationError),
    ):
        gone.domains.list()


async def test_async_api_keys(async_client: AsyncHerald) -> None:
    created = await async_client.api_keys.create(["read"])
    assert (await async_client.api_keys.get(created.id)).scopes == ["read"]
    assert created.id in {k.id for k in await async_client.api_keys.list()}
    assert (await async_client.api_keys.update(created.id, name="r")).name == "r"
    await async_client.api_keys.revoke(created.id)
    assert (await async_client.api_keys.get(created.id)).revoked_at is not None


def test_suppressions_add_get_list_iterate_delete(client: Herald) -> None:
    added = client.suppressions.add("gone@receiver.example", detail="asked by phone")
    assert isinstance(added, Suppression)
    assert (added.email, added.reason) == ("gone@receiver.example", "manual")
    assert client.suppressions.get("gone@receiver.example").detail == "asked by phone"
    for i in range(3):
        client.suppressions.add(f"x{i}@receiver.example")
    page = client.suppressions.list(limit=2)
    assert len(page.data) == 2 and page.next_cursor
    assert len(list(client.suppressions.iter(limit=2))) == 4
    assert len(list(client.suppressions.iter(reason="manual"))) == 4

    client.suppressions.delete("gone@receiver.example")
    with pytest.raises(NotFoundError):
        client.suppressions.get("gone@receiver.example")


async def test_async_suppressions(async_client: AsyncHerald) -> None:
    await async_client.suppressions.add("a@receiver.example")
    assert (await async_client.suppressions.get("a@receiver.example")).reason == "manual"
    assert [s.email async for s in async_client.suppressions.iter()] == ["a@receiver.example"]
    assert len((await async_client.suppressions.list()).data) == 1
    await async_client.suppressions.delete("a@receiver.example")
    assert (await async_client.suppressions.list()).data == []


def test_bad_query_is_a_bad_request(client: Herald) -> None:
    with pytest.raises(BadRequestError) as caught:
        client.events.list(limit=0)
    assert caught.value.status == 400
    assert "limit" in {e.field for e in caught.value.errors} or "limit" in str(caught.value)


def test_too_large_a_body_is_payload_too_large(client: Herald) -> None:
    with pytest.raises(PayloadTooLargeError) as caught:
        client.messages.send(
            from_="app@sender.example",
            to="a@receiver.example",
            text="big",
            attachments=[Attachment(b"\0" * (1024 * 1024), filename="big.bin")],
        )
    assert caught.value.status == 413
    assert caught.value.problem.title == "Payload too large"


def test_messages_list_and_iterate(client: Herald) -> None:
    ids = [
        client.messages.send(
            from_="app@sender.example", to=f"u{i}@receiver.example", text="hi", tags=[f"t{i % 2}"]
        ).id
        for i in range(5)
    ]
    page = client.messages.list(limit=2)
    assert [m.id for m in page.data] == ids[::-1][:2]
    assert page.next_cursor
    assert [m.id for m in client.messages.iter(limit=2)] == ids[::-1]
    assert [m.id for m in client.messages.iter(tag="t0")] == [ids[4], ids[2], ids[0]]
    (found,) = client.messages.list(recipient="U1@receiver.example").data
    assert found.id == ids[1]
    assert found.from_ == "app@sender.example"
    assert found.recipients[0].status == "queued"
    assert len(client.messages.list(from_="app@sender.example").data) == 5
