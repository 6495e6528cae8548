"""SMTP submission end to end with Python's smtplib: AUTH after TLS, the client's MIME
kept and signed, Bcc honoured, options by header, and the message the API shows."""

from __future__ import annotations

import smtplib
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from simnet.fixtures import SMTPServerFactory
from support.dkim_check import signature_algorithms, verify_all
from support.harness import Herald
from support.submission import running_submission

PDF = bytes(range(256)) * 40  # every byte value: an encoding slip would show


def _message(sender: str = "app@sender.example") -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"The App <{sender}>"
    message["To"] = "alice@receiver.example"
    message["Subject"] = "Your invoice"
    message["X-Herald-Tags"] = "invoice, monthly"
    message["X-Herald-Metadata"] = '{"invoice": "42"}'
    message.set_content("Your invoice is attached.\n")
    message.add_alternative("<p>Your invoice is attached.</p>\n", subtype="html")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="invoice.pdf")
    return message


async def test_a_message_submitted_over_starttls_is_signed_and_delivered_as_written(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    smtp_server_factory: SMTPServerFactory,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx1.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    message = _message()
    message["Bcc"] = "hidden@receiver.example"
    with running_submission(herald, tmp_path) as smtp:
        client = smtp.starttls(tenant.api_key)
        refused = client.send_message(
            message, to_addrs=["alice@receiver.example", "hidden@receiver.example"]
        )
        code, reply = client.noop()
        client.quit()
        smtp.flush()
    assert refused == {}
    assert code == 250 and reply
    assert await herald.drain_queue() == 1

    assert len(mx.messages) == 1, "one message, one transaction, both recipients"
    received = mx.messages[0]
    assert sorted(received.rcpt_tos) == ["alice@receiver.example", "hidden@receiver.example"]
    assert signature_algorithms(received.data) == ["rsa-sha256", "ed25519-sha256"]
    assert verify_all(received.data, herald.dns) == [True, True]
    parsed = message_from_bytes(received.data, policy=policy.default)
    assert parsed["Bcc"] is None and b"hidden@" not in received.data.split(b"\r\n\r\n")[0]
    assert not [name for name in parsed if name.lower().startswith("x-herald-")]
    assert parsed["Message-ID"] and parsed["Date"], "added when the client left them out"
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_filename() == "invoice.pdf"
    assert attachment.get_content() == PDF

    listed = (await api.get("/v1/messages", headers=tenant.headers)).json()
    (summary,) = listed["data"]
    shown = (await api.get(f"/v1/messages/{summary['id']}", headers=tenant.headers)).json()
    assert shown["source"] == "smtp"
    assert shown["subject"] == "Your invoice"
    assert shown["tags"] == ["invoice", "monthly"]
    assert shown["metadata"] == {"invoice": "42"}
    kinds = {r["email"]: r["kind"] for r in shown["recipients"]}
    assert kinds == {"alice@receiver.example": "to", "hidden@receiver.example": "bcc"}
    assert [e["type"] for e in shown["events"]].count("message.delivered") == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_250_names_the_stored_message_and_implicit_tls_takes_auth_login(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    with running_submission(herald, tmp_path) as smtp:
        client = smtp.implicit_tls()
        client.user, client.password = "anything", tenant.api_key
        code, _ = client.auth("LOGIN", client.auth_login)
        assert code == 235
        client.mail("app@sender.example")
        client.rcpt("alice@receiver.example")
        code, reply = client.data(_message().as_bytes(policy=policy.SMTP))
        client.quit()
    assert code == 250, reply
    message_id = reply.decode().rsplit(" ", 1)[-1]
    assert message_id.startswith("msg_")
    shown = await api.get(f"/v1/messages/{message_id}", headers=tenant.headers)
    assert shown.status_code == 200
    assert shown.json()["source"] == "smtp"
    api_sent = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={"from": "app@sender.example", "to": "b@receiver.example", "text": "hi"},
    )
    other = (await api.get(f"/v1/messages/{api_sent.json()['id']}", headers=tenant.headers)).json()
    assert other["source"] == "api"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_suppressed_recipient_is_dropped_with_an_event_as_over_http(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    added = await api.post(
        "/v1/suppressions", headers=tenant.headers, json={"email": "gone@receiver.example"}
    )
    assert added.status_code in (200, 201), added.text
    message = _message()
    with running_submission(herald, tmp_path) as smtp:
        client = smtp.starttls(tenant.api_key)
        client.send_message(message, to_addrs=["alice@receiver.example", "gone@receiver.example"])
        client.quit()
    listed = (await api.get("/v1/messages", headers=tenant.headers)).json()
    (summary,) = listed["data"]
    shown = (await api.get(f"/v1/messages/{summary['id']}", headers=tenant.headers)).json()
    statuses = {r["email"]: r["status"] for r in shown["recipients"]}
    assert statuses == {"alice@receiver.example": "queued", "gone@receiver.example": "suppressed"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sandbox_and_send_at_options_and_a_template_by_alias(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    created = await api.post(
        "/v1/templates",
        headers=tenant.headers,
        json={
            "name": "Welcome",
            "alias": "welcome",
            "subject": "Welcome, {{ name }}",
            "text": "Hello {{ name }}!",
        },
    )
    assert created.status_code == 201, created.text
    templated = EmailMessage()
    templated["From"] = "app@sender.example"
    templated["To"] = "alice@receiver.example"
    templated["X-Herald-Template"] = "welcome"
    templated["X-Herald-Template-Data"] = '{"name": "Alice"}'
    templated["X-Herald-Sandbox"] = "true"
    templated.set_content("ignored: the template writes the body\n")
    missing = EmailMessage()
    missing["From"] = "app@sender.example"
    missing["To"] = "alice@receiver.example"
    missing["X-Herald-Template"] = "welcome"
    missing.set_content("x\n")
    unknown = _message()
    unknown["X-Herald-Tgas"] = "typo"
    with running_submission(herald, tmp_path) as smtp:
        client = smtp.starttls(tenant.api_key)
        client.send_message(templated)
        with pytest.raises(smtplib.SMTPDataError) as no_data:
            client.send_message(missing)
        with pytest.raises(smtplib.SMTPDataError) as typo:
            client.send_message(unknown)
        client.quit()
    assert no_data.value.smtp_code == 550 and b"name" in no_data.value.smtp_error
    assert typo.value.smtp_code == 550 and b"X-Herald-Tgas" in typo.value.smtp_error
    listed = (await api.get("/v1/messages", headers=tenant.headers)).json()
    (summary,) = listed["data"]
    shown = (await api.get(f"/v1/messages/{summary['id']}", headers=tenant.headers)).json()
    assert shown["subject"] == "Welcome, Alice"
    assert shown["sandbox"] is True
    assert shown["source"] == "smtp"
