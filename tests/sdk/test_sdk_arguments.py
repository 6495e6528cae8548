"""Keyword arguments the SDK does not know, or required ones left out, are a ``TypeError``
naming them, before any request; never a bare ``KeyError`` or a silently dropped field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from herald import AsyncHerald, Herald

SENDER = "app@sender.example"


def bad_sync_calls(client: Herald) -> list[tuple[Callable[[], object], list[str]]]:
    """Calls a user may write by mistake, and what the TypeError must mention."""
    untyped: Any = client  # what a caller without a type checker can write
    return [
        (
            lambda: untyped.messages.send(**{"from": SENDER}, to="a@receiver.example", text="x"),
            ["'from'", "from_=", "missing required keyword argument 'from_'"],
        ),
        (
            lambda: untyped.messages.send(to="a@receiver.example", text="x"),
            ["missing required keyword argument 'from_'"],
        ),
        (
            lambda: untyped.messages.send(from_=SENDER, to="a@receiver.example", subjet="Hi"),
            ["'subjet'", "did you mean 'subject'"],
        ),
        (lambda: untyped.messages.list(recipeint="a@r.example"), ["'recipeint'", "'recipient'"]),
        (lambda: untyped.messages.list(**{"from": SENDER}), ["'from'", "from_="]),
        (lambda: untyped.messages.get("msg_x", timout=3), ["'timout'", "'timeout'"]),
        (lambda: untyped.events.list(typ="message.bounced"), ["'typ'", "'type'"]),
        (lambda: untyped.suppressions.list(reasons="bounce"), ["'reasons'", "'reason'"]),
        (lambda: untyped.domains.list(max_retry=1), ["'max_retry'", "'max_retries'"]),
        (lambda: untyped.api_keys.create(["send"], nmae="ci"), ["'nmae'"]),
        (
            lambda: untyped.webhooks.create("https://hooks.example/x", descripton="d"),
            ["'descripton'", "'description'"],
        ),
        (
            lambda: untyped.webhooks.deliveries.list("wh_x", state="failed"),
            ["'state'"],
        ),
    ]


def test_sync_client_names_unknown_and_missing_arguments(client: Herald) -> None:
    for call, fragments in bad_sync_calls(client):
        with pytest.raises(TypeError) as raised:
            call()
        message = str(raised.value)
        assert all(fragment in message for fragment in fragments), message
    assert client.messages.list().data == []  # nothing was sent


async def test_async_client_names_unknown_and_missing_arguments(
    async_client: AsyncHerald,
) -> None:
    untyped: Any = async_client
    with pytest.raises(TypeError, match=r"'from'.*from_=.*missing required keyword argument"):
        await untyped.messages.send(**{"from": SENDER}, to="a@receiver.example", text="x")
    with pytest.raises(TypeError, match="did you mean 'subject'"):
        await untyped.messages.send(from_=SENDER, to="a@receiver.example", subjet="Hi")
    with pytest.raises(TypeError, match="'recipeint'"):
        await untyped.messages.list(recipeint="a@r.example")
    with pytest.raises(TypeError, match="'timout'"):
        await untyped.domains.get("dom_x", timout=3)
    with pytest.raises(TypeError, match="'state'"):
        async for _ in untyped.webhooks.deliveries.iter("wh_x", state="failed"):
            pass
    assert (await async_client.messages.list()).data == []


def test_correct_calls_still_work_with_a_name_addr_sender(client: Herald) -> None:
    sent = client.messages.send(
        from_="Acme Support <app@sender.example>",
        to="Ann <ann@receiver.example>",
        subject="Hi",
        text="x",
        sandbox=True,
        timeout=10,
    )
    assert sent.status == "captured"
    assert b"From: Acme Support <app@sender.example>" in client.messages.raw(sent.id)
