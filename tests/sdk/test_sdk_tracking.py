"""The SDK's tracking settings: ``domains.update`` (blocking and asyncio) and a send's own
``tracking`` and ``unsubscribe=True``, read back from the signed source the app stored."""

from __future__ import annotations

import email
import email.policy
import re

import pytest

from herald import (
    AsyncHerald,
    BadRequestError,
    DomainTracking,
    Herald,
    NotFoundError,
    Tracking,
    UnprocessableEntityError,
    Unsubscribe,
)
from support.harness import Herald as HeraldHarness
from support.harness import Tenant

LINK = "https://sender.example/welcome?step=1"
HTML = f'<p>Welcome! <a href="{LINK}">Start</a> <a href="{{{{ unsubscribe_url }}}}">stop</a></p>'


def _signed(client: Herald, message_id: str) -> tuple[str, str | None]:
    """The stored message's HTML part and its ``List-Unsubscribe`` header."""
    parsed = email.message_from_bytes(client.messages.raw(message_id), policy=email.policy.default)
    body = parsed.get_body(("html",))
    assert isinstance(body, email.message.EmailMessage)
    unsubscribe = parsed["List-Unsubscribe"]
    return body.get_content(), None if unsubscribe is None else str(unsubscribe)


def _tracked(html: str) -> int:
    return len(re.findall(r'href="[^"]*/t/c/[^"]+"', html))


def test_domain_defaults_and_a_messages_own_settings(client: Herald, tenant: Tenant) -> None:
    domain = client.domains.get(tenant.domain_id)
    assert domain.tracking == DomainTracking(opens=False, clicks=False)
    assert domain.unsubscribe is False

    updated = client.domains.update(tenant.domain_id, tracking=Tracking(clicks=True))
    assert updated.tracking == DomainTracking(opens=False, clicks=True)
    assert updated.unsubscribe is False
    updated = client.domains.update(tenant.domain_id, unsubscribe=True)
    assert (updated.tracking.clicks, updated.unsubscribe) == (True, True), "clicks kept"
    assert client.domains.get(tenant.domain_id) == updated
    hosted = client.domains.update(tenant.domain_id, tracking_host=True)
    assert hosted.tracking.host == "track.sender.example" and hosted.tracking.clicks
    assert any(r.host == "track.sender.example" for r in hosted.records)
    assert client.domains.update(tenant.domain_id, tracking_host=False).tracking.host is None

    message = {"from_": "app@sender.example", "to": "ann@receiver.example", "subject": "Hi"}
    by_domain = client.messages.send(**message, html=HTML, sandbox=True)
    html, unsubscribe = _signed(client, by_domain.id)
    assert _tracked(html) == 1 and LINK not in html and "/t/o/" not in html
    assert unsubscribe is not None and "/u/" in unsubscribe
    assert f'href="{unsubscribe.split("<", 1)[1].split(">", 1)[0]}"' in html

    own = client.messages.send(
        **message, html=HTML, sandbox=True, tracking=Tracking(opens=True, clicks=False)
    )
    html, unsubscribe = _signed(client, own.id)
    assert _tracked(html) == 0 and f'href="{LINK}"' in html and "/t/o/" in html
    assert unsubscribe is not None, "unsubscribe still the domain's"

    none = client.messages.send(**message, html=HTML, sandbox=True, unsubscribe=False)
    assert _signed(client, none.id)[1] is None
    theirs = client.messages.send(
        **message, html=HTML, sandbox=True, unsubscribe=Unsubscribe(url="https://x.example/u")
    )
    assert _signed(client, theirs.id)[1] == "<https://x.example/u>"

    with pytest.raises(UnprocessableEntityError) as several:
        client.messages.send(
            **{**message, "to": ["a@receiver.example", "b@receiver.example"]},
            text="hi",
            unsubscribe=True,
        )
    assert [e.field for e in several.value.errors] == ["unsubscribe"]
    assert client.domains.update(tenant.domain_id) == client.domains.get(tenant.domain_id)


async def test_async_update(async_client: AsyncHerald, herald: HeraldHarness) -> None:
    domains = await async_client.domains.list()
    (domain,) = domains
    updated = await async_client.domains.update(
        domain.id, tracking=Tracking(opens=True, clicks=True), unsubscribe=True
    )
    assert updated.tracking == DomainTracking(opens=True, clicks=True)
    assert updated.unsubscribe is True
    assert (await async_client.domains.get(domain.id)).tracking.opens is True
    other = await herald.create_tenant("other.example")
    with pytest.raises(NotFoundError):
        await async_client.domains.update(other.domain_id, unsubscribe=True)
    with pytest.raises(BadRequestError):
        await async_client.domains.update(domain.id, unsubscribe="yes")  # type: ignore[arg-type]
