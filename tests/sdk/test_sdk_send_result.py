"""``messages.send`` returns each recipient's status: a suppressed one shows at once."""

from __future__ import annotations

from herald import AsyncHerald, Herald
from herald.models import RecipientSummary


def test_sync_send_result_lists_a_suppressed_recipient(client: Herald) -> None:
    client.suppressions.add("gone@receiver.example", reason="unsubscribe")
    sent = client.messages.send(
        from_="app@sender.example",
        to=["Gone <gone@receiver.example>", "here@receiver.example"],
        subject="Hi",
        text="Hello",
    )
    assert sent.status == "queued"
    assert sent.recipients == [
        RecipientSummary("gone@receiver.example", "suppressed"),
        RecipientSummary("here@receiver.example", "queued"),
    ]
    stored = client.messages.get(sent.id)
    assert [(r.email, r.status) for r in stored.recipients] == [
        ("gone@receiver.example", "suppressed"),
        ("here@receiver.example", "queued"),
    ]


async def test_async_send_result_when_every_recipient_is_suppressed(
    async_client: AsyncHerald,
) -> None:
    await async_client.suppressions.add("gone@receiver.example")
    sent = await async_client.messages.send(
        from_="app@sender.example", to="gone@receiver.example", subject="Hi", text="Hello"
    )
    assert sent.status == "suppressed"
    assert sent.recipients == [RecipientSummary("gone@receiver.example", "suppressed")]
