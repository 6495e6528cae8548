"""Open and click tracking and hosted one-click unsubscribe, end to end: the tracked
message as the MX receives it, the live endpoints followed with a real HTTP client, the
events in the timeline and at a webhook receiver."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import httpx
import pytest
from litestar.testing import AsyncTestClient
from standardwebhooks import Webhook

from herald_queue.inbound import start_inbound_server
from simnet.fixtures import SMTPServerFactory
from support.console import add_user, sign_in
from support.dkim_check import verify_all
from support.harness import Herald, Tenant
from support.processes import free_port, start, stop, wait_http_ok
from support.webhooks import WebhookReceiver, drain_webhooks

LINK = "https://shop.example/orders/42?ref=mail&x=%2F#details"
HTML = (
    "<html><body><p>Hi! <a href='" + LINK.replace("&", "&amp;") + '\' class="btn">Your order</a>'
    ' <a href="mailto:help@shop.example">help</a>'
    ' <a href="https://shop.example/private" data-herald-track="off">account</a>'
    ' <a href="{{ unsubscribe_url }}">unsubscribe</a></p></body></html>'
)


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """Loopback webhook receivers allowed; the public URL is the live API's."""
    port = free_port()
    return {
        **settings_env,
        "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
        "HERALD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HERALD_TEST_API_PORT": str(port),
    }


@pytest.fixture
def live_api(settings_env: dict[str, str]) -> Iterator[str]:
    """``herald api`` as a child process on the port of ``HERALD_PUBLIC_URL``."""
    port = settings_env["HERALD_TEST_API_PORT"]
    process = start(settings_env, "api", "--host", "127.0.0.1", "--port", port)
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stderr = stop(process)
        assert "Traceback" not in stderr, stderr


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver("127.0.0.1")
    yield server
    server.stop()


async def _send(api: AsyncTestClient, tenant: Tenant, **fields: object) -> str:  # type: ignore[type-arg]
    body = {
        "from": f"shop@{tenant.domain}",
        "to": "ann@receiver.example",
        "subject": "Your order",
        "html": HTML,
        **fields,
    }
    response = await api.post("/v1/messages", headers=tenant.headers, json=body)
    assert response.status_code == 202, response.text
    message_id: str = response.json()["id"]
    return message_id


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_tracked_message_is_signed_and_its_links_pixel_and_unsubscribe_work(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    live_api: str,
    smtp_server_factory: SMTPServerFactory,  # type: ignore[type-arg]
    receiver: WebhookReceiver,
) -> None:
    tenant = await herald.create_tenant("shop.example")
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    hook = await api.post(
        "/v1/webhooks",
        headers=tenant.headers,
        json={"url": receiver.url(), "event_types": ["message.clicked"]},
    )
    assert hook.status_code == 201, hook.text
    message_id = await _send(
        api, tenant, tracking={"opens": True, "clicks": True}, unsubscribe=True
    )
    assert await herald.drain_queue() == 1
    (received,) = mx.messages
    assert verify_all(received.data, herald.dns) == [True, True]
    parsed = message_from_bytes(received.data, policy=policy.default)
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    clicks = re.findall(r'href="(' + re.escape(live_api) + r'/t/c/[^"]+)"', html)
    assert len(clicks) == 1, html
    assert 'href="mailto:help@shop.example"' in html
    assert 'href="https://shop.example/private"' in html, "opted out of tracking"
    (pixel,) = re.findall(r'<img src="(' + re.escape(live_api) + r'/t/o/[^"]+)"', html)
    unsubscribe_url = f"{live_api}/u/" + parsed["List-Unsubscribe"].split("/u/")[1].split(">")[0]
    assert f'href="{unsubscribe_url}"' in html, "{{ unsubscribe_url }} filled in, untracked"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "<mailto:u+" in parsed["List-Unsubscribe"]

    with httpx.Client(follow_redirects=False, headers={"User-Agent": "Mozilla/5.0 (X11)"}) as web:
        followed = web.get(clicks[0])
        assert followed.status_code == 302
        assert followed.headers["location"] == LINK, "query string and fragment intact"
        token = urlsplit(clicks[0]).path.rsplit("/", 1)[1]
        forged = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
        assert web.get(f"{live_api}/t/c/{forged}").status_code == 404
        assert "location" not in web.get(f"{live_api}/t/c/{forged}").headers
        image = web.get(pixel)
        assert image.status_code == 200 and image.headers["content-type"] == "image/gif"
        assert image.content.startswith(b"GIF89a") and "no-store" in image.headers["cache-control"]
        assert web.get(pixel).status_code == 200  # the same hour: answered, not recorded again
        page = web.get(unsubscribe_url)
        assert page.status_code == 200 and "ann@receiver.example" in page.text
        assert "set-cookie" not in page.headers
        suppressed = await api.get("/v1/suppressions", headers=tenant.headers)
        assert suppressed.json()["data"] == [], "a GET never unsubscribes"
        done = web.post(unsubscribe_url, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200 and "set-cookie" not in done.headers
        again = web.post(unsubscribe_url, data={"List-Unsubscribe": "One-Click"})
        assert again.status_code == 200

    shown = (await api.get(f"/v1/messages/{message_id}", headers=tenant.headers)).json()
    types = [e["type"] for e in shown["events"]]
    assert types.count("message.clicked") == 1
    assert types.count("message.opened") == 1
    assert types.count("message.unsubscribed") == 1
    clicked = next(e for e in shown["events"] if e["type"] == "message.clicked")
    assert clicked["recipient"] == "ann@receiver.example"
    assert clicked["data"]["url"] == LINK and clicked["data"]["ip"] == "127.0.0.0/24"
    entries = (await api.get("/v1/suppressions", headers=tenant.headers)).json()["data"]
    assert [(s["email"], s["reason"]) for s in entries] == [("ann@receiver.example", "unsubscribe")]
    next_id = await _send(api, tenant)
    statuses = (await api.get(f"/v1/messages/{next_id}", headers=tenant.headers)).json()
    assert [r["status"] for r in statuses["recipients"]] == ["suppressed"]

    await add_user(herald.settings.database_url, "ops@shop.example", "viewer", tenant.account_id)
    async with httpx.AsyncClient(base_url=live_api) as console:
        assert (await sign_in(console, "ops@shop.example")).status_code == 303
        preview = await console.get(f"/console/messages/{message_id}/preview?images=remote")
    assert preview.status_code == 200
    assert f'href="{LINK.replace("&", "&amp;")}"' in preview.text, "the original link"
    assert "/t/c/" not in preview.text and "/t/o/" not in preview.text, "no open, no click"

    assert await drain_webhooks(herald) == 1
    (request,) = receiver.requests
    payload = Webhook(str(hook.json()["secret"])).verify(request.body, request.headers)
    assert payload["type"] == "message.clicked"
    assert payload["data"]["details"]["url"] == LINK


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_untracked_html_is_delivered_byte_identical(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    smtp_server_factory: SMTPServerFactory,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("shop.example")
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    html = HTML.replace("{{ unsubscribe_url }}", "https://shop.example/unsubscribe")
    await _send(api, tenant, html=html, tracking={"opens": False, "clicks": False})
    await _send(api, tenant, html=html)  # the domain's defaults: off
    assert await herald.drain_queue() == 2
    for received in mx.messages:
        parsed = message_from_bytes(received.data, policy=policy.default)
        content = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert content == html + "\r\n", "as written, plus the line end MIME ends a part with"
        assert parsed["List-Unsubscribe"] is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_one_click_unsubscribe_needs_a_single_recipient(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("shop.example")
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={
            "from": f"shop@{tenant.domain}",
            "to": ["a@receiver.example", "b@receiver.example"],
            "text": "hi",
            "unsubscribe": True,
        },
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["unsubscribe"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_mail_to_the_unsubscribe_address_unsubscribes_through_herald_inbound(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    smtp_server_factory: SMTPServerFactory,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("shop.example")
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    message_id = await _send(api, tenant, unsubscribe=True)
    untracked_id = await _send(api, tenant, to="bob@receiver.example", tracking={"opens": True})
    assert await herald.drain_queue() == 2
    ann, bob = sorted(mx.messages, key=lambda m: m.rcpt_tos[0])
    header = message_from_bytes(ann.data, policy=policy.default)["List-Unsubscribe"]
    (mailto,) = re.findall(r"<mailto:([^>]+)>", header)
    local, _, host = mailto.partition("@")
    assert local.startswith("u+") and host == ann.mail_from.partition("@")[2]
    bob_mail = message_from_bytes(bob.data, policy=policy.default)
    assert bob_mail["List-Unsubscribe"] is None
    # A valid token of the message without hosted unsubscribe (its pixel's), a forged one.
    (pixel,) = re.findall(r"/t/o/([^\"]+)", bob_mail.get_body(("html",)).get_content())  # type: ignore[union-attr]
    forged = local[:-3] + ("A" if local[-3] != "A" else "B") + local[-2:]

    port = free_port()
    controller = start_inbound_server(herald.settings, "127.0.0.1", port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            client.mail("")
            for refused in (f"{forged}@{host}", f"u+{pixel}@{host}", f"u+@{host}"):
                assert client.rcpt(refused)[0] == 550, refused
            assert client.rcpt(mailto)[0] == 250
            assert client.data(b"Subject: unsubscribe\r\n\r\nunsubscribe\r\n")[0] == 250
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("ann@receiver.example", [mailto], b"Subject: again\r\n\r\n")
    finally:
        controller.stop()

    entries = (await api.get("/v1/suppressions", headers=tenant.headers)).json()["data"]
    assert [(s["email"], s["reason"]) for s in entries] == [("ann@receiver.example", "unsubscribe")]
    shown = (await api.get(f"/v1/messages/{message_id}", headers=tenant.headers)).json()
    unsubscribed = [e for e in shown["events"] if e["type"] == "message.unsubscribed"]
    assert len(unsubscribed) == 1, "a second mail records nothing more"
    assert unsubscribed[0]["recipient"] == "ann@receiver.example"
    assert unsubscribed[0]["data"] == {"method": "mailto"}
    other = (await api.get(f"/v1/messages/{untracked_id}", headers=tenant.headers)).json()
    assert "message.unsubscribed" not in [e["type"] for e in other["events"]]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_domains_own_tracking_host_is_used_once_its_cname_verifies(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    smtp_server_factory: SMTPServerFactory,  # type: ignore[type-arg]
    live_api: str,
) -> None:
    tenant = await herald.create_tenant("shop.example")
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    changed = await api.patch(
        f"/v1/domains/{tenant.domain_id}",
        headers=tenant.headers,
        json={"tracking": {"clicks": True, "host": True}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["tracking"]["host"] == "track.shop.example"
    (cname,) = [r for r in changed.json()["records"] if r["purpose"] == "tracking"]
    assert (cname["type"], cname["host"], cname["value"]) == (
        "CNAME",
        "track.shop.example",
        "127.0.0.1",  # the host of HERALD_PUBLIC_URL
    )
    await _send(api, tenant)  # not verified yet: the public URL
    herald.dns.add_cname("track.shop.example", "wrong.example")
    verified = await api.post(f"/v1/domains/{tenant.domain_id}/verify", headers=tenant.headers)
    (cname,) = [r for r in verified.json()["records"] if r["purpose"] == "tracking"]
    assert cname["status"] == "mismatch"
    await _send(api, tenant)  # a CNAME elsewhere: still the public URL
    herald.dns.add_cname("track.shop.example", "127.0.0.1")
    verified = await api.post(f"/v1/domains/{tenant.domain_id}/verify", headers=tenant.headers)
    (cname,) = [r for r in verified.json()["records"] if r["purpose"] == "tracking"]
    assert cname["status"] == "verified"
    await _send(api, tenant)
    assert await herald.drain_queue() == 3
    hosts = []
    for received in mx.messages:
        html = message_from_bytes(received.data, policy=policy.default).get_body(("html",))
        (link,) = re.findall(r'href="([^"]+/t/c/[^"]+)"', html.get_content())  # type: ignore[union-attr]
        hosts.append(urlsplit(link).netloc)
        assert verify_all(received.data, herald.dns) == [True, True]
    assert hosts == ["127.0.0.1:" + live_api.rsplit(":", 1)[1]] * 2 + ["track.shop.example"]
    path = urlsplit(link).path
    followed = httpx.get(f"{live_api}{path}", headers={"Host": "track.shop.example"})
    assert followed.status_code == 302 and followed.headers["location"] == LINK
