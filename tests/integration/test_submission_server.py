"""The submission server as a process-level citizen: pipelining, the session cap, idle
timeouts, certificate renewal without restart, and a graceful stop."""

from __future__ import annotations

import asyncio
import base64
import smtplib
import socket
import ssl
import time
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from herald_service.submission.certificates import write_self_signed
from support.harness import Herald
from support.submission import RunningSubmission, running_submission

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

RAW = b"From: app@sender.example\r\nTo: a@receiver.example\r\nSubject: hi\r\n\r\nhello\r\n"


def _replies(stream: ssl.SSLSocket | socket.socket, count: int) -> list[bytes]:
    """``count`` complete replies (multi-line ones joined) read from ``stream``."""
    buffer = b""
    replies: list[bytes] = []
    while len(replies) < count:
        chunk = stream.recv(65536)
        if not chunk:
            break
        buffer += chunk
        while b"\r\n" in buffer and len(replies) < count:
            lines = buffer.split(b"\r\n")
            end = next((i for i, line in enumerate(lines[:-1]) if line[3:4] != b"-"), None)
            if end is None:
                break
            replies.append(b"\r\n".join(lines[: end + 1]))
            buffer = b"\r\n".join(lines[end + 1 :])
    return replies


def _tls_socket(smtp: RunningSubmission) -> ssl.SSLSocket:
    raw = socket.create_connection((smtp.host, smtp.tls_port), timeout=10)
    return smtp.client_context().wrap_socket(raw, server_hostname="localhost")


async def test_a_pipelining_client_gets_every_reply_in_order(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    plain = base64.b64encode(b"\0apikey\0" + tenant.api_key.encode())
    with running_submission(herald, tmp_path) as smtp:
        stream = _tls_socket(smtp)
        (banner,) = _replies(stream, 1)
        assert banner.startswith(b"220 ")
        stream.sendall(b"EHLO client.example\r\n")
        (ehlo,) = _replies(stream, 1)
        assert b"PIPELINING" in ehlo and b"SIZE" in ehlo and b"SMTPUTF8" in ehlo
        stream.sendall(
            b"AUTH PLAIN " + plain + b"\r\nMAIL FROM:<app@sender.example>\r\n"
            b"RCPT TO:<a@receiver.example>\r\nRCPT TO:<b@receiver.example>\r\nDATA\r\n"
        )
        replies = _replies(stream, 5)
        assert [r[:3] for r in replies] == [b"235", b"250", b"250", b"250", b"354"]
        stream.sendall(RAW + b".\r\nQUIT\r\n")
        data, bye = _replies(stream, 2)
        stream.close()
    assert data.startswith(b"250 2.0.0 Ok: queued as msg_")
    assert bye.startswith(b"221")
    message_id = data.rsplit(b" ", 1)[-1].decode()
    shown = (await api.get(f"/v1/messages/{message_id}", headers=tenant.headers)).json()
    assert sorted(r["email"] for r in shown["recipients"]) == [
        "a@receiver.example",
        "b@receiver.example",
    ]


async def test_sessions_over_the_cap_and_idle_sessions_get_421(
    herald: Herald, tmp_path: Path
) -> None:
    changes = {"submission_max_sessions": 2, "submission_timeout": 0.5}
    with running_submission(herald, tmp_path, **changes) as smtp:
        first = socket.create_connection((smtp.host, smtp.port), timeout=10)
        second = socket.create_connection((smtp.host, smtp.port), timeout=10)
        assert _replies(first, 1)[0].startswith(b"220")
        assert _replies(second, 1)[0].startswith(b"220")
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP(smtp.host, smtp.port, timeout=10)
        assert refused.value.smtp_code == 421
        time.sleep(0.8)  # past the idle timeout
        (timeout,) = _replies(first, 1)
        assert timeout.startswith(b"421 4.4.2")
        assert first.recv(1) == b"", "and the connection is closed"
        first.close()
        second.close()
        deadline = time.monotonic() + 5
        while smtp.server.session_count and time.monotonic() < deadline:
            time.sleep(0.02)
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=10)  # room again
        assert client.noop()[0] == 250
        client.close()


async def test_a_renewed_certificate_is_used_without_a_restart(
    herald: Herald, tmp_path: Path
) -> None:
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE

    def served_certificates(smtp: RunningSubmission) -> tuple[bytes, bytes]:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=10)
        client.starttls(context=unverified)
        assert client.sock is not None and isinstance(client.sock, ssl.SSLSocket)
        starttls = client.sock.getpeercert(binary_form=True) or b""
        client.close()
        secure = smtplib.SMTP_SSL(smtp.host, smtp.tls_port, timeout=10, context=unverified)
        assert isinstance(secure.sock, ssl.SSLSocket)
        implicit = secure.sock.getpeercert(binary_form=True) or b""
        secure.close()
        return starttls, implicit

    with running_submission(herald, tmp_path) as smtp:
        before = served_certificates(smtp)
        assert before[0] == before[1]
        time.sleep(0.01)
        write_self_signed(smtp.cert_file, tmp_path / "submission.key", "renewed.example")
        after = served_certificates(smtp)
    assert after[0] == after[1]
    assert after[0] != before[0]


async def test_stopping_finishes_the_open_transaction_and_refuses_new_sessions(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    with running_submission(herald, tmp_path) as smtp:
        busy = smtp.starttls(tenant.api_key)
        idle = smtp.starttls(tenant.api_key)
        busy.mail("app@sender.example")
        busy.rcpt("a@receiver.example")
        assert busy.docmd("DATA")[0] == 354
        stopping = asyncio.run_coroutine_threadsafe(smtp.server.stop(grace=10), smtp.loop)
        time.sleep(0.3)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((smtp.host, smtp.port), timeout=2)
        assert busy.sock is not None
        busy.sock.sendall(RAW + b".\r\n")
        code, reply = busy.getreply()
        assert code == 250, reply
        stopping.result(15)
        try:  # the 421 was written before the close; smtplib reads it as NOOP's reply
            code, farewell = idle.noop()
        except smtplib.SMTPServerDisconnected:
            code, farewell = 421, b"4.3.2 (read by the client before NOOP)"
        assert (code, farewell[:5]) == (421, b"4.3.2")
    message_id = reply.rsplit(b" ", 1)[-1].decode()
    shown = await api.get(f"/v1/messages/{message_id}", headers=tenant.headers)
    assert shown.status_code == 200, "the 250 came after the commit"
