"""Sending by template: ``POST /v1/messages`` and ``/v3/mail/send`` render a stored
template into a delivered, DKIM-signed message; the send's template fields are checked."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import Any

from litestar.testing import AsyncTestClient

from simnet.fixtures import SMTPServerFactory
from support.dkim_check import verify_all
from support.harness import Herald

RECEIPT = {
    "name": "Receipt",
    "alias": "receipt",
    "subject": "Receipt for {{ customer }}",
    "html": (
        "<p>Thanks {{ customer }}</p><ul>{% for item in items %}<li>{{ item.name }}: "
        "{{ item.qty }}</li>{% endfor %}</ul>{% if vip %}<p>VIP</p>{% endif %}"
    ),
    "text": (
        "Thanks {{ customer }}\n{% for item in items %}- {{ item.name }}: {{ item.qty }}\n"
        "{% endfor %}{% if vip %}VIP{% else %}regular{% endif %}"
    ),
}
DATA = {
    "customer": "<script>alert(1)</script>",
    "items": [{"name": "Tea", "qty": 2}, {"name": "Cake", "qty": 1}],
    "vip": False,
}


async def make_template(api: AsyncTestClient[Any], headers: dict[str, str]) -> str:
    created = await api.post("/v1/templates", headers=headers, json=RECEIPT)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def parts(raw: bytes) -> tuple[str, str, str]:
    parsed = message_from_bytes(raw, policy=policy.default)
    html = parsed.get_body(("html",))
    text = parsed.get_body(("plain",))
    assert html is not None and text is not None
    return str(parsed["Subject"]), html.get_content(), text.get_content()  # type: ignore[attr-defined]


async def test_a_templated_send_is_delivered_escaped_in_html_only_and_signed(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx1.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    await make_template(api, tenant.headers)

    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={
            "from": "shop@sender.example",
            "to": ["ann@receiver.example"],
            "template_alias": "receipt",
            "template_data": DATA,
        },
    )
    assert response.status_code == 202, response.text
    assert await herald.drain_queue() == 1

    (received,) = mx.messages
    assert verify_all(received.data, herald.dns) == [True, True]
    subject, html, text = parts(received.data)
    assert subject == "Receipt for <script>alert(1)</script>"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "<li>Tea: 2</li><li>Cake: 1</li>" in html and "VIP" not in html
    lines = text.splitlines()
    assert lines == ["Thanks <script>alert(1)</script>", "- Tea: 2", "- Cake: 1", "regular"]
    status = await api.get(f"/v1/messages/{response.json()['id']}", headers=tenant.headers)
    assert status.json()["status"] == "delivered"


async def test_the_send_request_template_fields_are_checked(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    other = await herald.create_tenant("other.example")
    tid = await make_template(api, tenant.headers)
    base = {"from": "shop@sender.example", "to": ["ann@receiver.example"]}

    async def refused(body: dict[str, Any], headers: dict[str, str] | None = None) -> list[str]:
        answer = await api.post("/v1/messages", headers=headers or tenant.headers, json=body)
        assert answer.status_code == 422, answer.text
        return [e["field"] for e in answer.json()["errors"]]

    both = {**base, "template_id": tid, "template_alias": "receipt", "template_data": DATA}
    assert await refused(both) == ["template_alias"]
    with_content = {**base, "template_id": tid, "subject": "s", "html": "<p>h</p>"}
    assert await refused(with_content) == ["subject", "html"]
    assert await refused({**base, "template_id": tid, "template_data": {}}) == [
        "template_data.customer"
    ]
    nested = {**DATA, "items": [{"name": "Tea"}]}
    assert await refused({**base, "template_id": tid, "template_data": nested}) == [
        "template_data.items.0.qty"
    ]
    assert await refused({**base, "template_alias": "nope"}) == ["template_alias"]
    assert await refused({**base, "text": "t", "template_data": DATA}) == ["template_data"]
    # Another account's template is unknown to this one.
    other_send = {**base, "from": "x@other.example", "template_id": tid, "template_data": DATA}
    assert await refused(other_send, other.headers) == ["template_id"]
    assert herald.queued_message_ids() == []

    checked = await api.post(
        "/v1/messages/check",
        headers=tenant.headers,
        json={**base, "template_id": tid, "template_data": DATA},
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["summary"]["errors"] == 0
    check_missing = await api.post(
        "/v1/messages/check", headers=tenant.headers, json={**base, "template_id": tid}
    )
    assert check_missing.status_code == 422
    assert check_missing.json()["errors"][0]["field"] == "template_data.customer"


async def test_v3_mail_send_renders_dynamic_template_data_per_personalization(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx1.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    tid = await make_template(api, tenant.headers)
    body = {
        "from": {"email": "shop@sender.example"},
        "template_id": tid,
        "personalizations": [
            {"to": [{"email": "ann@receiver.example"}], "dynamic_template_data": DATA},
            {
                "to": [{"email": "bob@receiver.example"}],
                "dynamic_template_data": {**DATA, "customer": "Bob", "vip": True},
            },
        ],
    }
    sent = await api.post("/v3/mail/send", headers=tenant.headers, json=body)
    assert sent.status_code == 202, sent.text
    assert await herald.drain_queue() == 2
    by_rcpt = {m.rcpt_tos[0]: m for m in mx.messages}
    ann = parts(by_rcpt["ann@receiver.example"].data)
    bob = parts(by_rcpt["bob@receiver.example"].data)
    assert ann[0] == "Receipt for <script>alert(1)</script>" and "regular" in ann[2]
    assert bob[0] == "Receipt for Bob" and "<p>VIP</p>" in bob[1]

    by_alias = {**body, "template_id": "receipt"}
    by_alias["personalizations"] = [
        {"to": [{"email": "c@receiver.example"}], "dynamic_template_data": {"customer": "C"}}
    ]
    missing = await api.post("/v3/mail/send", headers=tenant.headers, json=by_alias)
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == (
        "personalizations[0].dynamic_template_data.items"
    )
    no_template = {**body, "content": [{"type": "text/plain", "value": "v"}], "subject": "s"}
    del no_template["template_id"]
    stray = await api.post("/v3/mail/send", headers=tenant.headers, json=no_template)
    assert stray.status_code == 400
    assert stray.json()["errors"][0]["field"] == "personalizations[0].dynamic_template_data"
    unknown = await api.post(
        "/v3/mail/send", headers=tenant.headers, json={**body, "template_id": "d-123"}
    )
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "template_id"
