"""The SDK's public API used as an application would use it; type-checked with mypy --strict."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

import herald
from herald import AsyncHerald, Attachment, EmailAddress, Herald, KeyQuotas, Unsubscribe


def send_invoice(client: Herald, invoice: Path, logo: bytes) -> str:
    """Send with an attachment from a path, an inline image and a stable idempotency key."""
    sent = client.messages.send(
        from_=EmailAddress("billing@acme.example", "Acme Billing"),
        to=["ann@example.net"],
        subject="Your invoice",
        html='<img src="cid:logo"><p>Invoice attached.</p>',
        attachments=[invoice, Attachment.inline(logo, "logo", filename="logo.png")],
        headers={"X-Invoice": invoice.stem},
        unsubscribe=Unsubscribe(url="https://acme.example/unsub"),
        tags=["billing"],
        metadata={"invoice": invoice.stem},
        idempotency_key=f"invoice-{invoice.stem}",
        timeout=10.0,
    )
    return sent.id


def check_welcome(client: Herald, html: str) -> list[str]:
    """What a CI job would print about a template before it ships (nothing is sent)."""
    result = client.messages.check(
        from_="hello@acme.example", to="ann@example.net", subject="Welcome", html=html
    )
    lines = [f"{f.severity} {f.check} {f.field} {f.location}: {f.message}" for f in result.findings]
    if not result.ok:
        lines.append(f"{result.summary.errors} errors in {result.size} bytes")
    return lines


async def check_async(client: AsyncHerald) -> bool:
    """The same check with the asyncio client."""
    result = await client.messages.check(from_="a@acme.example", to="b@example.net", text="hi")
    return result.ok and result.spam_score is None


def report(client: Herald, message_id: str) -> list[str]:
    """A message's recipients, its source size and every bounce of the account."""
    lines = [f"{r.email}: {r.status}" for r in client.messages.get(message_id).recipients]
    lines.append(f"{len(client.messages.raw(message_id))} bytes")
    lines.extend(
        f"{e.recipient} bounced: {e.details.get('code')}"
        for e in client.events.iter(type="message.bounced", limit=100)
    )
    return lines


def admin(client: Herald) -> None:
    """Domains, keys, suppressions and webhooks."""
    domain = client.domains.add("news.acme.example")
    for record in client.domains.verify(domain.id).records:
        print(record.type, record.host, record.status)
    client.domains.rotate_dkim(domain.id)
    key = client.api_keys.create(["send"], name="ci", quotas=KeyQuotas(daily_recipients=1000))
    print(key.key)
    client.suppressions.add("gone@example.net", detail="asked")
    hook = client.webhooks.create("https://acme.example/hooks", event_types=["message.bounced"])
    for delivery in client.webhooks.deliveries.iter(hook.id, status="failed"):
        client.webhooks.deliveries.replay(hook.id, delivery.id)


def on_webhook(body: bytes, headers: Mapping[str, str], secret: str) -> int:
    """A web handler's core: 400 on a bad signature, else act on the event."""
    try:
        event = herald.webhooks.verify(body, headers, secret)
    except herald.WebhookVerificationError:
        return 400
    if event.type == "message.bounced":
        print(event.data.recipient, event.data.details)
    return 204


async def send_async() -> None:
    """The asyncio client, with typed errors."""
    async with AsyncHerald(max_retries=3) as client:
        try:
            sent = await client.messages.send(from_="a@acme.example", to="b@example.net", text="hi")
        except herald.UnprocessableEntityError as exc:
            print([(e.field, e.message) for e in exc.errors])
            return
        except herald.RateLimitError as exc:
            print("retry in", exc.retry_after)
            return
        async for event in client.events.iter(message_id=sent.id):
            print(event.type)


if __name__ == "__main__":
    asyncio.run(send_async())
