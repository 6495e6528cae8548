"""``/v3/mail/send``'s ``tracking_settings``: click, open and subscription tracking become
Herald's tracking and hosted one-click unsubscribe; SendGrid's parts Herald does not do
are refused by name."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sendgrid.helpers.mail import (
    ClickTracking,
    Mail,
    OpenTracking,
    SubscriptionTracking,
    TrackingSettings,
)
from sqlalchemy import update

from herald_service.storage.models import Domain
from simnet.fixtures import SMTPServerFactory
from support.dkim_check import verify_all
from support.harness import Herald

HTML = '<p>Your order: <a href="https://shop.example/o/1?a=b">track it</a>.</p>' + (
    '<p><a href="{{ unsubscribe_url }}">unsubscribe</a></p>'
)


def mail(sender: str, to: str, enable: bool) -> dict[str, Any]:
    """A SendGrid body built by the official helper, all three trackings set to ``enable``."""
    built = Mail(from_email=sender, to_emails=to, subject="Order", html_content=HTML)
    built.tracking_settings = TrackingSettings(
        click_tracking=ClickTracking(enable, False),
        open_tracking=OpenTracking(enable),
        subscription_tracking=SubscriptionTracking(enable),
    )
    body: dict[str, Any] = built.get()
    return body


async def test_tracking_settings_turn_tracking_and_one_click_unsubscribe_on_and_off(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,  # type: ignore[type-arg]
) -> None:
    plain = await herald.create_tenant("plain.example")
    tracked = await herald.create_tenant("tracked.example")
    with herald.engine.begin() as db:  # this domain tracks everything unless told otherwise
        db.execute(
            update(Domain)
            .where(Domain.id == tracked.domain_id)
            .values(tracking_opens=True, tracking_clicks=True, unsubscribe_default=True)
        )
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    on = mail("shop@plain.example", "ann@receiver.example", True)
    off = mail("shop@tracked.example", "bob@receiver.example", False)
    for tenant, body in ((plain, on), (tracked, off)):
        response = await api.post("/v3/mail/send", json=body, headers=tenant.headers)
        assert response.status_code == 202, response.text
    assert await herald.drain_queue() == 2

    ann, bob = sorted(mx.messages, key=lambda m: m.rcpt_tos[0])
    assert verify_all(ann.data, herald.dns) == [True, True]
    parsed = message_from_bytes(ann.data, policy=policy.default)
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "https://shop.example/o/1" not in html
    assert len(re.findall(r'href="[^"]*/t/c/[^"]+"', html)) == 1
    assert re.search(r'<img src="[^"]*/t/o/[^"]+"', html)
    (hosted,) = re.findall(r"<(https?://[^>]*/u/[^>]+)>", parsed["List-Unsubscribe"])
    assert f'href="{hosted}"' in html, "{{ unsubscribe_url }} filled in"
    assert "<mailto:u+" in parsed["List-Unsubscribe"]
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    untouched = message_from_bytes(bob.data, policy=policy.default)
    content = untouched.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert content == HTML.replace("{{ unsubscribe_url }}", "") + "\r\n", "enable: false wins"
    assert untouched["List-Unsubscribe"] is None


SUBSCRIPTION = "tracking_settings.subscription_tracking"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        (
            {"subscription_tracking": {"enable": True, "text": "Stop: <% %>"}},
            f"{SUBSCRIPTION}.text",
        ),
        ({"subscription_tracking": {"enable": True, "html": "<% %>"}}, f"{SUBSCRIPTION}.html"),
        (
            {"subscription_tracking": {"enable": True, "substitution_tag": "[unsub]"}},
            f"{SUBSCRIPTION}.substitution_tag",
        ),
        (
            {"open_tracking": {"enable": True, "substitution_tag": "%open%"}},
            "tracking_settings.open_tracking.substitution_tag",
        ),
        (
            {"click_tracking": {"enable": True, "enable_text": True}},
            "tracking_settings.click_tracking.enable_text",
        ),
        ({"ganalytics": {"enable": True}}, "tracking_settings.ganalytics"),
    ],
)
async def test_what_herald_does_not_track_is_refused_by_name(
    herald: Herald, api: AsyncTestClient[Any], settings: dict[str, Any], field: str
) -> None:
    tenant = await herald.create_tenant("sender.example")
    body = {**mail("x@sender.example", "a@r.example", True), "tracking_settings": settings}
    response = await api.post("/v3/mail/send", json=body, headers=tenant.headers)
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == field
    assert "not supported" in error["message"]
    assert herald.queued_message_ids() == []


async def test_subscription_tracking_needs_one_recipient_per_personalization(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    body = mail("x@sender.example", "a@r.example", True)
    body["personalizations"][0]["to"].append({"email": "b@r.example"})
    response = await api.post("/v3/mail/send", json=body, headers=tenant.headers)
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == f"{SUBSCRIPTION}.enable"
    assert "one recipient" in error["message"]
    body["tracking_settings"] = {"subscription_tracking": {"enable": False}}
    accepted = await api.post("/v3/mail/send", json=body, headers=tenant.headers)
    assert accepted.status_code == 202, accepted.text
