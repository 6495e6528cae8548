"""The console's Message page: headers, attempts, timeline, webhooks, a sandboxed preview
with its own CSP, the escaped raw source with verified DKIM signatures; never another
account's message."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from herald_service.console.web import CONTENT_SECURITY_POLICY
from simnet.fixtures import SMTPServerFactory
from support.console import add_user, csrf_of, sign_in
from support.harness import Herald, Tenant

TRACKER = "https://tracker.example/open.gif"
HTML = f'<p>Hello <b>there</b></p><img src="{TRACKER}" alt="">'


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"}


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as c:
        c.follow_redirects = False
        with herald.serving(c):
            yield c


async def send(client: AsyncTestClient, tenant: Tenant, **fields: object) -> str:  # type: ignore[type-arg]
    body = {
        "from": {"email": f"app@{tenant.domain}", "name": "The App"},
        "to": ["alice@receiver.example"],
        "cc": ["carol@receiver.example"],
        "subject": "Your <receipt>",
        "text": "Thanks for the order.",
        "html": HTML,
        "tags": ["receipts"],
        "metadata": {"order": "A-17"},
        "attachments": [
            {
                "filename": "receipt.pdf",
                "content_type": "application/pdf",
                "content": base64.b64encode(b"%PDF-1.4 " + b"x" * 91).decode(),
            }
        ],
    }
    response = await client.post("/v1/messages", json=body | fields, headers=tenant.headers)
    assert response.status_code == 202, response.text
    message_id: str = response.json()["id"]
    return message_id


def header(page: str, name: str) -> str:
    found = re.search(rf'<dd data-header="{name}">(.*?)</dd>', page, re.S)
    assert found is not None, f"no {name} header shown"
    return html.unescape(found.group(1))


async def test_message_page_shows_the_message_and_its_delivery(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
    smtp_server_factory: SMTPServerFactory,
) -> None:
    tenant = await herald.create_tenant("mine.example")
    herald.add_mx("receiver.example", (10, "mx1.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    hook = await console.post(
        "/v1/webhooks", headers=tenant.headers, json={"url": "http://127.0.0.1:9/hooks"}
    )
    assert hook.status_code == 201, hook.text
    await add_user(herald.settings.database_url, "ops@example.com", "viewer", tenant.account_id)
    message_id = await send(console, tenant)
    assert await herald.drain_queue() == 1
    return_path = mx.messages[0].mail_from
    assert "bounces." in return_path
    assert (await sign_in(console, "ops@example.com")).status_code == 303

    activity = await console.get("/console")
    assert f'href="/console/messages/{message_id}"' in activity.text
    response = await console.get(f"/console/messages/{message_id}")
    assert response.status_code == 200, response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    page = response.text

    assert header(page, "From") == f"The App <app@{tenant.domain}>"
    assert return_path not in page  # the envelope sender is not the From the recipient sees
    assert header(page, "To") == "alice@receiver.example"
    assert header(page, "Cc") == "carol@receiver.example"
    assert header(page, "Subject") == "Your <receipt>"
    assert header(page, "Message-ID").endswith("@mta.herald.example>")
    assert "Your &lt;receipt&gt;" in page and "Your <receipt>" not in page
    assert "receipts" in page and "A-17" in page
    assert '<span id="message-source">over the API</span>' in page

    assert page.count('class="attempt"') == 2  # one per recipient
    assert "mx1.receiver.example" in page and "250" in page
    assert 'data-event="message.accepted"' in page and 'data-event="message.delivered"' in page
    # Each event went to the webhook endpoint: four deliveries, none attempted yet.
    assert page.count("<tr data-delivery=") == 4 and "http://127.0.0.1:9/hooks" in page

    assert "Thanks for the order." in page
    assert "receipt.pdf · application/pdf · 100 bytes" in page
    assert page.count("pass</strong>") == 2  # RSA and Ed25519, against the stored keys
    raw = re.search(r'<pre class="raw" id="raw-source">(.*?)</pre>', page, re.S)
    assert raw is not None and "DKIM-Signature:" in raw.group(1)
    assert "&lt;b&gt;there&lt;/b&gt;" in raw.group(1)
    assert "<b>there</b>" not in page and f'<img src="{TRACKER}"' not in page


async def test_preview_is_sandboxed_and_blocks_remote_images(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("mine.example")
    await add_user(herald.settings.database_url, "ops@example.com", "viewer", tenant.account_id)
    message_id = await send(console, tenant)
    assert (await sign_in(console, "ops@example.com")).status_code == 303

    page = (await console.get(f"/console/messages/{message_id}")).text
    frame = re.search(r"<iframe[^>]*>", page)
    assert frame is not None
    assert re.search(r"\ssandbox[\s>]", frame.group(0))  # the attribute, with no allowance
    assert "allow-" not in frame.group(0)
    assert f'src="/console/messages/{message_id}/preview"' in frame.group(0)

    preview = await console.get(f"/console/messages/{message_id}/preview")
    assert preview.status_code == 200
    assert preview.headers["content-type"].startswith("text/html")
    policy = preview.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'unsafe-inline'; img-src data:;")
    assert "script-src" not in policy and "https:" not in policy  # no scripts, no remote images
    assert "sandbox" in policy.split("; ")  # sandboxed even when opened on its own
    assert preview.headers["x-frame-options"] == "SAMEORIGIN"
    assert preview.headers["referrer-policy"] == "no-referrer"
    assert "<b>there</b>" in preview.text and TRACKER in preview.text

    remote_page = (await console.get(f"/console/messages/{message_id}?images=remote")).text
    assert f'src="/console/messages/{message_id}/preview?images=remote"' in remote_page
    remote = await console.get(f"/console/messages/{message_id}/preview?images=remote")
    remote_policy = remote.headers["content-security-policy"]
    assert "img-src https: http: data:" in remote_policy
    assert "default-src 'none'" in remote_policy and "script-src" not in remote_policy


async def test_another_accounts_message_is_not_found(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    await add_user(herald.settings.database_url, "ops@example.com", "admin", mine.account_id)
    own = await send(console, mine, html="<p>no refresh</p><meta http-equiv=refresh content=0>")
    foreign = await send(console, theirs, subject="Not yours")
    assert (await sign_in(console, "ops@example.com")).status_code == 303

    assert (await console.get(f"/console/messages/{own}")).status_code == 200
    for path in (foreign, f"{foreign}/preview", "msg_nonexistent", "msg_nonexistent/preview"):
        response = await console.get(f"/console/messages/{path}")
        assert response.status_code == 404, path
        assert "Not yours" not in response.text
    assert (await console.get(f"/console/messages/{'x' * 5000}")).status_code == 404
    preview = await console.get(f"/console/messages/{own}/preview")
    assert "no refresh" in preview.text and "refresh content" not in preview.text

    await console.post("/console/sign-out", data={"csrf_token": "x"})
    console.cookies.clear()
    signed_out = await console.get(f"/console/messages/{own}/preview")
    assert signed_out.status_code == 303 and "/console/sign-in" in signed_out.headers["location"]


async def test_an_admin_retries_deferred_recipients_from_the_message_page(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
    smtp_server_factory: SMTPServerFactory,
) -> None:
    await herald.reconfigure(retry_schedule=(3600.0,))
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2").defer("rcpt")
    message_id = await send(console, tenant, cc=[])
    await herald.drain_queue()
    await add_user(herald.settings.database_url, "v@example.com", "viewer", tenant.account_id)
    await add_user(herald.settings.database_url, "a@example.com", "admin", tenant.account_id)

    await sign_in(console, "v@example.com")
    seen = await console.get(f"/console/messages/{message_id}")
    assert "deferred" in seen.text and "Retry deferred now" not in seen.text
    refused = await console.post(
        f"/console/messages/{message_id}/retry", data={"csrf_token": csrf_of(seen.text)}
    )
    assert refused.status_code == 403
    assert herald.sweep() == 0

    await console.post("/console/sign-out", data={"csrf_token": csrf_of(seen.text)})
    await sign_in(console, "a@example.com")
    page = await console.get(f"/console/messages/{message_id}")
    assert "Retry deferred now" in page.text
    forged = await console.post(f"/console/messages/{message_id}/retry", data={})
    assert forged.status_code == 403  # no CSRF token
    mx.accept()
    done = await console.post(
        f"/console/messages/{message_id}/retry", data={"csrf_token": csrf_of(page.text)}
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/messages/{message_id}?done=retried"
    assert herald.sweep() == 1
    await herald.drain_queue()
    after = await console.get(done.headers["location"])
    assert 'id="retry-notice"' in after.text and "Retry deferred now" not in after.text
    assert await herald.recipients(message_id) == {"alice@receiver.example": "delivered"}
    again = await console.post(
        f"/console/messages/{message_id}/retry", data={"csrf_token": csrf_of(after.text)}
    )
    assert again.status_code == 409
