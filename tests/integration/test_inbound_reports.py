"""``herald inbound``: DSNs and ARF reports to VERP return paths become events."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from herald_queue.inbound import start_inbound_server
from herald_service.settings import Settings
from simnet.fixtures import SMTPServerFactory
from support.harness import Herald, Tenant
from support.processes import free_port, start, stop

DSN = """\
From: MAILER-DAEMON@mx.receiver.example
To: {verp}
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.receiver.example

Final-Recipient: rfc822; {rcpt}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected

--b1
Content-Type: message/rfc822

Subject: Hi

Hello
--b1--
"""

NON_STANDARD = """\
From: postmaster@old.example
To: {verp}
Subject: failure notice

Hi. This is the qmail-send program. I'm afraid I wasn't able to deliver your message.
<{rcpt}>:
Remote host said: 550 5.2.1 Mailbox disabled
"""

ARF = """\
From: fbl@isp.example
To: {verp}
Subject: FW: Hi
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="b2"

--b2
Content-Type: text/plain

This is an email abuse report.

--b2
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Rcpt-To: <{rcpt}>

--b2
Content-Type: message/rfc822

Subject: Hi

Hello
--b2--
"""


@pytest.fixture
def inbound(herald: Herald) -> Iterator[tuple[str, int]]:
    port = free_port()
    controller = start_inbound_server(herald.settings, "127.0.0.1", port)
    yield "127.0.0.1", port
    controller.stop()


def report(server: tuple[str, int], verp: str, body: str) -> None:
    with smtplib.SMTP(*server, timeout=10) as client:
        client.sendmail("", [verp], body.encode())


async def delivered(herald: Herald, api: AsyncTestClient[Any], tenant: Tenant, *to: str) -> str:
    response = await api.post(
        "/v1/messages",
        headers=tenant.headers,
        json={"from": "app@sender.example", "to": list(to), "subject": "Hi", "text": "Hello"},
    )
    message_id = str(response.json()["id"])
    assert set((await herald.settle(message_id)).values()) == {"delivered"}
    return message_id


async def test_dsn_and_arf_become_bounce_and_complaint(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    inbound: tuple[str, int],
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    bounced_id = await delivered(herald, api, tenant, "gone@receiver.example")
    complained_id = await delivered(herald, api, tenant, "angry@receiver.example")
    verp_bounce, verp_complaint = (m.mail_from for m in mx.messages)
    assert verp_bounce.startswith(f"b+{bounced_id}.")
    assert verp_bounce.endswith("@bounces.sender.example")

    report(inbound, verp_bounce, DSN.format(verp=verp_bounce, rcpt="gone@receiver.example"))
    report(inbound, verp_complaint, ARF.format(verp=verp_complaint, rcpt="angry@receiver.example"))

    bounced = (await api.get(f"/v1/messages/{bounced_id}", headers=tenant.headers)).json()
    assert bounced["recipients"][0]["status"] == "bounced"
    event = bounced["events"][-1]
    assert (event["type"], event["recipient"]) == ("message.bounced", "gone@receiver.example")
    assert event["data"]["enhanced_code"] == "5.1.1"
    assert event["data"]["source"] == "dsn"

    complained = (await api.get(f"/v1/messages/{complained_id}", headers=tenant.headers)).json()
    event = complained["events"][-1]
    assert (event["type"], event["recipient"]) == ("message.complained", "angry@receiver.example")
    assert event["data"]["feedback_type"] == "abuse"

    listed = (await api.get("/v1/suppressions", headers=tenant.headers)).json()["data"]
    assert {(s["email"], s["reason"]) for s in listed} == {
        ("gone@receiver.example", "bounce"),
        ("angry@receiver.example", "complaint"),
    }


async def test_non_standard_bounce_is_understood(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    inbound: tuple[str, int],
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    message_id = await delivered(herald, api, tenant, "old@receiver.example")
    verp = mx.messages[0].mail_from
    report(inbound, verp, NON_STANDARD.format(verp=verp, rcpt="old@receiver.example"))
    body = (await api.get(f"/v1/messages/{message_id}", headers=tenant.headers)).json()
    assert body["recipients"][0]["status"] == "bounced"
    assert body["events"][-1]["data"]["enhanced_code"] == "5.2.1"


async def test_only_issued_addresses_are_accepted(
    herald: Herald,
    api: AsyncTestClient[Any],
    smtp_server_factory: SMTPServerFactory,
    inbound: tuple[str, int],
    herald_settings: Settings,
) -> None:
    tenant = await herald.create_tenant()
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    message_id = await delivered(herald, api, tenant, "ann@receiver.example")
    verp = mx.messages[0].mail_from
    local, _, host = verp.partition("@")
    forged = local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + host
    for address in (forged, "postmaster@bounces.sender.example", "someone@elsewhere.example"):
        with smtplib.SMTP(*inbound, timeout=10) as client:
            client.ehlo()
            client.mail("")
            code, _ = client.rcpt(address)
            assert code == 550, address
    body = (await api.get(f"/v1/messages/{message_id}", headers=tenant.headers)).json()
    assert body["recipients"][0]["status"] == "delivered"


def test_herald_inbound_command_refuses_unknown_addresses(settings_env: dict[str, str]) -> None:
    port = free_port()
    process = start(settings_env, "inbound", "--host", "127.0.0.1", "--port", str(port))
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        with client:
            client.ehlo()
            client.mail("")
            assert client.rcpt("anyone@bounces.sender.example")[0] == 550
    finally:
        stop(process)
