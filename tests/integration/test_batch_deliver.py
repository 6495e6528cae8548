"""A batch end to end on the simulated internet: POST → queue → MX → SMTP → DKIM."""

from __future__ import annotations

from collections import Counter
from email import message_from_bytes, policy
from typing import Any

from litestar.testing import AsyncTestClient

from simnet.fixtures import SMTPServerFactory
from support.dkim_check import verify_all
from support.harness import Herald

BAD = {7: {"to": "not an address"}, 250: {"from": "app@elsewhere.example"}, 499: {"text": 5}}


def entry(index: int) -> dict[str, Any]:
    domain = "a.receiver.example" if index % 2 else "b.receiver.example"
    message = {
        "from": "app@sender.example",
        "to": f"user{index}@{domain}",
        "subject": f"Receipt {index}",
        "text": f"Receipt number {index}.",
    }
    return {**message, **BAD.get(index, {})}


async def test_a_500_message_batch_with_3_bad_entries_delivers_497(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    smtp_server_factory: SMTPServerFactory,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("a.receiver.example", (10, "mx.a.receiver.example", "127.0.0.2"))
    herald.add_mx("b.receiver.example", (10, "mx.b.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")

    response = await api.post(
        "/v1/messages/batch",
        headers=tenant.headers,
        json={"messages": [entry(i) for i in range(500)]},
    )
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert (body["accepted"], body["refused"]) == (497, 3)
    results = body["results"]
    problems = {i: r for i, r in enumerate(results) if "id" not in r}
    assert sorted(problems) == sorted(BAD)
    assert [e["field"] for e in problems[7]["errors"]] == ["messages[7].to[0]"]
    assert [e["field"] for e in problems[250]["errors"]] == ["messages[250].from"]
    assert [e["field"] for e in problems[499]["errors"]] == ["messages[499].text"]
    expected = {results[i]["id"]: entry(i)["to"] for i in range(500) if i not in BAD}
    assert sorted(herald.queued_message_ids()) == sorted(expected)

    assert await herald.drain_queue() == 497

    received = Counter(rcpt for m in mx.messages for rcpt in m.rcpt_tos)
    assert received == Counter(expected.values())  # each accepted message, exactly once
    for sample in mx.messages[:: len(mx.messages) // 5]:
        assert verify_all(sample.data, herald.dns) == [True, True]
        parsed = message_from_bytes(sample.data, policy=policy.default)
        index = int(str(parsed["Subject"]).removeprefix("Receipt "))
        assert sample.rcpt_tos == [entry(index)["to"]]
    first = await api.get(f"/v1/messages/{results[0]['id']}", headers=tenant.headers)
    assert first.json()["status"] == "delivered"
