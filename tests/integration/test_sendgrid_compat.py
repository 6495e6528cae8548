"""``POST /v3/mail/send`` with the official SendGrid client and SendGrid's shapes."""

from __future__ import annotations

import base64

import pytest
from litestar.testing import AsyncTestClient
from python_http_client.exceptions import UnauthorizedError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Attachment,
    Category,
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    Mail,
    Personalization,
    To,
)

from simnet.fixtures import SMTPServerFactory
from support.dkim_check import verify_all
from support.harness import Herald
from support.processes import free_port, start, stop, wait_http_ok

PDF = b"%PDF-1.4 invoice"


def two_person_mail() -> Mail:
    mail = Mail(
        from_email=("billing@sender.example", "Billing"),
        subject="Your invoice",
        html_content="<p>Invoice attached.</p>",
        plain_text_content="Invoice attached.",
    )
    for address, subject in (("ann@one.example", "Invoice for Ann"), ("bob@two.example", None)):
        personalization = Personalization()
        personalization.add_to(To(address))
        if subject:
            personalization.subject = subject
        personalization.add_custom_arg(CustomArg("customer", address.split("@")[0]))
        mail.add_personalization(personalization)
    mail.attachment = Attachment(
        FileContent(base64.b64encode(PDF).decode()),
        FileName("invoice.pdf"),
        FileType("application/pdf"),
        Disposition("attachment"),
    )
    mail.category = Category("billing")
    return mail


async def test_official_client_sends_two_personalizations_with_an_attachment(
    herald: Herald, settings_env: dict[str, str], smtp_server_factory: SMTPServerFactory
) -> None:
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("one.example", (10, "mx.one.example", "127.0.0.2"))
    herald.add_mx("two.example", (10, "mx.two.example", "127.0.0.3"))
    one, two = smtp_server_factory("127.0.0.2"), smtp_server_factory("127.0.0.3")
    port = free_port()
    api = start(settings_env, "api", "--host", "127.0.0.1", "--port", str(port))
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", api)
        client = SendGridAPIClient(api_key=tenant.api_key, host=f"http://127.0.0.1:{port}")
        response = client.send(two_person_mail())
        assert response.status_code == 202
        assert response.headers["X-Message-Id"].startswith("msg_")

        with pytest.raises(UnauthorizedError) as unauthorized:
            SendGridAPIClient(api_key="SG.wrong", host=f"http://127.0.0.1:{port}").send(
                two_person_mail()
            )
        assert b'"errors"' in unauthorized.value.body
    finally:
        stop(api)

    assert await herald.drain_queue() == 2
    (ann,), (bob,) = one.messages, two.messages
    assert ann.rcpt_tos == ["ann@one.example"]
    assert bob.rcpt_tos == ["bob@two.example"]
    assert b"Subject: Invoice for Ann" in ann.data
    assert b"Subject: Your invoice" in bob.data
    for received in (ann, bob):
        parsed = received.parse()
        attachments = list(parsed.iter_attachments())
        assert [a.get_filename() for a in attachments] == ["invoice.pdf"]
        assert attachments[0].get_content() == PDF
        assert verify_all(received.data, herald.dns) == [True, True]


async def test_sendgrid_errors_sandbox_and_unsupported_fields(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    base = {
        "personalizations": [{"to": [{"email": "a@r.example"}]}],
        "from": {"email": "x@sender.example"},
        "subject": "s",
        "content": [{"type": "text/plain", "value": "v"}],
    }
    sandbox = await api.post(
        "/v3/mail/send",
        json={**base, "mail_settings": {"sandbox_mode": {"enable": True}}},
        headers=tenant.headers,
    )
    assert sandbox.status_code == 200
    assert sandbox.content == b""
    assert herald.queued_message_ids() == []

    unsupported = await api.post(
        "/v3/mail/send",
        json={**base, "batch_id": "HkJ5yLYULb7Rj8GKSx7u025ouWVlMgAi"},
        headers=tenant.headers,
    )
    assert unsupported.status_code == 400
    errors = unsupported.json()["errors"]
    assert errors[0]["field"] == "batch_id"
    assert "not supported" in errors[0]["message"]

    bad_recipient = await api.post(
        "/v3/mail/send",
        json={
            **base,
            "personalizations": [{"to": [{"email": "a@r.example"}]}, {"to": [{"email": "nope"}]}],
        },
        headers=tenant.headers,
    )
    assert bad_recipient.status_code == 400
    assert bad_recipient.json()["errors"][0]["field"] == "personalizations[1].to[0]"
    assert herald.queued_message_ids() == []

    unauthorized = await api.post("/v3/mail/send", json=base)
    assert unauthorized.status_code == 401
    assert "errors" in unauthorized.json()

    sent = await api.post("/v3/mail/send", json=base, headers=tenant.headers)
    assert sent.status_code == 202
    assert sent.content == b""  # as SendGrid answers: no body, not JSON null
    assert sent.headers["X-Message-Id"].startswith("msg_")
