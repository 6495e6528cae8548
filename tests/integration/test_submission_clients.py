"""SMTP submission with real clients on loopback: swaks on 587 (STARTTLS) and 465 (TLS
from the first byte), and a throw-away Postfix relaying through Herald with SASL after
STARTTLS (``relayhost``, ``smtp_tls_security_level = encrypt``), as an application server's
Postfix would. Each message reaches the recipient's MX once, with both DKIM signatures
valid and its attachment byte for byte as the client sent it.

``scripts/test`` installs swaks and Postfix; without them these tests fail, naming what is
missing, rather than being skipped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from simnet.fixtures import SMTPServerFactory
from simnet.smtp import SMTPServer
from support.dkim_check import signature_algorithms, verify_all
from support.harness import Herald, Tenant
from support.mailauth import mailauth_results
from support.postfix_client import PostfixClient
from support.submission import running_submission

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PDF = bytes(range(256)) * 40  # every byte value: an encoding slip would show
SENDER = "app@sender.example"
RECIPIENT = "alice@receiver.example"


def _swaks(*args: str) -> str:
    """Run swaks to completion; its transcript, or a failure naming what went wrong."""
    swaks = shutil.which("swaks")
    if swaks is None:
        pytest.fail("swaks is not installed: scripts/test installs it (ensure_swaks)")
    done = subprocess.run([swaks, *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"swaks exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


def _message(subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"The App <{SENDER}>"
    message["To"] = RECIPIENT
    message["Subject"] = subject
    message.set_content("Your invoice is attached.\n")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="invoice.pdf")
    return message.as_bytes(policy=policy.SMTP)


async def _arrived_once(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    mx: SMTPServer,
    subject: str,
) -> None:
    """One message, stored once with source smtp, delivered once to the MX, both DKIM
    signatures valid (dkimpy and mailauth), the attachment byte-identical."""
    assert await herald.drain_queue() == 1
    herald.sweep()
    assert await herald.drain_queue() == 0, "nothing left to deliver a second time"
    assert len(mx.messages) == 1
    received = mx.messages[0]
    assert received.rcpt_tos == [RECIPIENT]
    assert signature_algorithms(received.data) == ["rsa-sha256", "ed25519-sha256"]
    assert verify_all(received.data, herald.dns) == [True, True]
    independent = mailauth_results(received.data, herald.dns)
    assert [(algorithm, result) for algorithm, _, result in independent] == [
        ("rsa-sha256", "pass"),
        ("ed25519-sha256", "pass"),
    ]
    parsed = received.parse()
    assert parsed["Subject"] == subject
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_filename() == "invoice.pdf"
    assert attachment.get_payload(decode=True) == PDF

    listed = (await api.get("/v1/messages", headers=tenant.headers)).json()
    (summary,) = listed["data"]
    shown = (await api.get(f"/v1/messages/{summary['id']}", headers=tenant.headers)).json()
    assert shown["source"] == "smtp"
    assert shown["status"] == "delivered"
    assert [e["type"] for e in shown["events"]].count("message.delivered") == 1


@pytest.mark.parametrize("implicit_tls", [False, True], ids=["starttls-587", "tls-465"])
async def test_swaks_sends_an_attachment_through_herald(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    smtp_server_factory: SMTPServerFactory,
    tmp_path: Path,
    implicit_tls: bool,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx1.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    attachment = tmp_path / "invoice.pdf"
    attachment.write_bytes(PDF)
    subject = f"Your invoice ({'465' if implicit_tls else '587'})"
    with running_submission(herald, tmp_path) as smtp:
        port, tls = (smtp.tls_port, "--tls-on-connect") if implicit_tls else (smtp.port, "-tls")
        transcript = _swaks(
            *("--server", f"{smtp.host}:{port}", tls, "--helo", "client.example"),
            *("--auth", "PLAIN", "--auth-user", "apikey", "--auth-password", tenant.api_key),
            *("--from", SENDER, "--to", RECIPIENT),
            *("--header", f"From: The App <{SENDER}>", "--header", f"Subject: {subject}"),
            *("--body", "Your invoice is attached.", "--attach-type", "application/pdf"),
            *("--attach", f"@{attachment}"),
        )
    assert re.search(r"^<~  235 ", transcript, re.M), transcript  # AUTH, after TLS
    accepted = re.search(r"^<~  250 .*\b(msg_\w+)", transcript, re.M)
    assert accepted, transcript
    await _arrived_once(herald, api, tenant, mx, subject)
    shown = await api.get(f"/v1/messages/{accepted.group(1)}", headers=tenant.headers)
    assert shown.status_code == 200


@pytest.mark.parametrize("injection", ["smtp", "sendmail"])
async def test_a_postfix_relayhost_relays_through_herald_with_sasl_over_tls(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    smtp_server_factory: SMTPServerFactory,
    tmp_path: Path,
    injection: str,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx1.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    subject = f"Your invoice (Postfix, {injection})"
    with (
        running_submission(herald, tmp_path) as smtp,
        PostfixClient(smtp.host, smtp.port, "apikey", tenant.api_key, smtp.cert_file) as postfix,
    ):
        inject = postfix.submit if injection == "smtp" else postfix.sendmail
        inject(_message(subject), SENDER, [RECIPIENT])
        (relayed,) = postfix.wait_relayed(1)
        log = postfix.log()
    assert f"relay={smtp.host}[{smtp.host}]:{smtp.port}" in relayed
    assert re.search(r"status=sent \(250 .*\bmsg_\w+", relayed), relayed
    assert f"TLS connection established to {smtp.host}" in log, log
    await _arrived_once(herald, api, tenant, mx, subject)
