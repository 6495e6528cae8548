"""``messages.check`` (blocking and asyncio) against the real app in process."""

from __future__ import annotations

import pytest

from herald import (
    AsyncHerald,
    Attachment,
    Herald,
    MessageCheck,
    UnprocessableEntityError,
    Unsubscribe,
)

HTML = '<p>Hi <img src="cid:logo"> <a href="/account">account</a></p>\n<a href="#faq">FAQ</a>'


def test_check_reports_findings_and_sends_nothing(client: Herald) -> None:
    result = client.messages.check(
        from_="app@sender.example",
        to="ann@receiver.example",
        subject="Your account",
        html=HTML,
        attachments=[Attachment(b"\x89PNG", filename="logo.png", content_id="logo")],
        unsubscribe=Unsubscribe(url="https://sender.example/u"),
    )
    assert isinstance(result, MessageCheck)
    assert not result.ok
    assert result.summary.errors == len(result.errors()) == 2
    link, anchor = result.errors()
    assert (link.check, link.field, link.location) == ("link", "html", "line 1, column 28")
    assert (anchor.check, anchor.location) == ("anchor", "line 2, column 1")
    assert result.size > len(HTML) and result.size_limit == 25 * 1024 * 1024
    assert result.spam_score is None
    assert client.messages.list().data == []


def test_check_refuses_what_a_send_refuses(client: Herald) -> None:
    with pytest.raises(UnprocessableEntityError) as caught:
        client.messages.check(from_="app@sender.example", to="nobody", text="x")
    assert [e.field for e in caught.value.problem.errors] == ["to[0]"]
    with pytest.raises(TypeError, match="idempotency_key"):
        client.messages.check(from_="a@sender.example", to="b@r.example", idempotency_key="k")  # type: ignore[call-arg]


async def test_async_check(async_client: AsyncHerald) -> None:
    result = await async_client.messages.check(
        from_="app@unknown.example", to="ann@receiver.example", subject="Hi", text="Hello"
    )
    domain = next(f for f in result.findings if f.check == "domain")
    assert (domain.severity, domain.field) == ("error", "from")
    assert "not a sending domain" in domain.message
    assert not result.ok
