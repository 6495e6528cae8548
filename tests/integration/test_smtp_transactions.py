"""SMTP transactions on the delivery side, with and without PIPELINING (RFC 2920).

Each scenario runs against a simulated MX that offers PIPELINING and one that does not:
both paths must give the same per-recipient replies and the same connection reuse. A
server that answers nothing until the whole MAIL/RCPT/DATA group has arrived proves the
commands really go out together.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiosmtplib
import pytest
import uvloop
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import given
from hypothesis import strategies as st

from herald_queue.smtp import Destination, Reply, SmtpPool, TransactionResult
from herald_queue.smtp_reply_reader import ReplyReader as _ReplyReader
from herald_queue.smtp_transaction import _wire_content
from simnet.fixtures import SMTPServerFactory
from simnet.smtp import SMTPServer
from simnet.tls import CertificateAuthority

BODY = b"Subject: hi\r\n\r\nline one\r\n.starts with a dot\r\n..two dots\r\n"
MAIL_FROM = "bounces+x@sender.example"


@pytest.fixture(params=[True, False], ids=["pipelining", "one-by-one"])
def pipelining(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
async def pool() -> AsyncIterator[SmtpPool]:
    smtp = SmtpPool(helo_name="mta.herald.test", command_timeout=2.0)
    yield smtp
    await smtp.close()


def destination(server: SMTPServer) -> Destination:
    return Destination(server.host, server.port, "mx.receiver.example")


async def test_delivers_with_dots_intact_and_reuses_the_connection(
    pool: SmtpPool, smtp_server_factory: SMTPServerFactory, pipelining: bool
) -> None:
    mx = smtp_server_factory("127.0.0.2", pipelining=pipelining)
    to = ["a@receiver.example", "b@receiver.example"]
    first = await pool.send(destination(mx), MAIL_FROM, to, BODY)
    second = await pool.send(destination(mx), MAIL_FROM, ["c@receiver.example"], BODY)

    assert {r.code for r in first.replies.values()} == {250}
    assert second.replies["c@receiver.example"].code == 250
    assert (first.reused, second.reused, pool.opened, mx.connections) == (False, True, 1, 1)
    assert [m.rcpt_tos for m in mx.messages] == [to, ["c@receiver.example"]]
    assert [m.pipelined for m in mx.messages] == [pipelining, pipelining]
    assert mx.messages[0].mail_from == MAIL_FROM
    assert mx.messages[0].data.replace(b"\r\n", b"\n") == BODY.replace(b"\r\n", b"\n")


async def test_refused_recipients_keep_their_reply_and_the_rest_are_delivered(
    pool: SmtpPool, smtp_server_factory: SMTPServerFactory, pipelining: bool
) -> None:
    mx = smtp_server_factory(
        "127.0.0.2",
        pipelining=pipelining,
        rcpt_replies={
            "gone@receiver.example": (550, "5.1.1 No such user"),
            "full@receiver.example": (452, "4.2.2 Mailbox full"),
        },
    )
    to = ["ok@receiver.example", "gone@receiver.example", "full@receiver.example"]
    result = await pool.send(destination(mx), MAIL_FROM, to, BODY)

    assert result.replies["gone@receiver.example"] == Reply(550, "5.1.1 No such user")
    assert result.replies["full@receiver.example"] == Reply(452, "4.2.2 Mailbox full")
    assert result.replies["ok@receiver.example"].code == 250
    assert [m.rcpt_tos for m in mx.messages] == [["ok@receiver.example"]]


async def test_every_recipient_refused_resets_and_keeps_the_connection(
    pool: SmtpPool, smtp_server_factory: SMTPServerFactory, pipelining: bool
) -> None:
    mx = smtp_server_factory("127.0.0.2", pipelining=pipelining).reject("rcpt")
    result = await pool.send(destination(mx), MAIL_FROM, ["x@receiver.example"], BODY)
    mx.accept()
    after = await pool.send(destination(mx), MAIL_FROM, ["y@receiver.example"], BODY)

    assert result.replies == {"x@receiver.example": Reply(550, "5.1.1 User unknown")}
    assert after.replies["y@receiver.example"].code == 250
    assert (after.reused, mx.connections, len(mx.messages)) == (True, 1, 1)


async def test_sender_refused_applies_to_every_recipient(
    pool: SmtpPool, smtp_server_factory: SMTPServerFactory, pipelining: bool
) -> None:
    mx = smtp_server_factory("127.0.0.2", pipelining=pipelining).reject("mail")
    to = ["a@receiver.example", "b@receiver.example"]
    result = await pool.send(destination(mx), MAIL_FROM, to, BODY)

    assert result.replies == dict.fromkeys(to, Reply(550, "5.7.1 Sender address rejected"))
    assert mx.messages == []


@pytest.mark.parametrize("stage", ["data", "data_end"])
async def test_refused_content_applies_to_the_accepted_recipients_only(
    pool: SmtpPool, smtp_server_factory: SMTPServerFactory, pipelining: bool, stage: str
) -> None:
    mx = smtp_server_factory(
        "127.0.0.2", pipelining=pipelining, rcpt_replies={"no@receiver.example": (550, "5.1.1 No")}
    ).defer(stage)  # type: ignore[arg-type]
    result = await pool.send(
        destination(mx), MAIL_FROM, ["yes@receiver.example", "no@receiver.example"], BODY
    )

    deferred = Reply(451, "4.3.0 Temporary failure, try again later")
    assert result.replies["yes@receiver.example"] == deferred
    assert result.replies["no@receiver.example"] == Reply(550, "5.1.1 No")
    assert mx.messages == []


async def test_connection_dropped_mid_transaction_is_an_answerless_failure(
    pool: SmtpPool, smtp_server_factory: SMTPServerFactory, pipelining: bool
) -> None:
    mx = smtp_server_factory("127.0.0.2", pipelining=pipelining, drop_at="rcpt")
    result = await pool.send(destination(mx), MAIL_FROM, ["a@receiver.example"], BODY)
    mx.drop(None)
    after = await pool.send(destination(mx), MAIL_FROM, ["a@receiver.example"], BODY)

    reply = result.replies["a@receiver.example"]
    assert reply.code is None and "SMTPServerDisconnected" in reply.text
    assert after.replies["a@receiver.example"].code == 250
    assert (after.reused, mx.connections) == (False, 2)


async def test_a_silent_server_times_out(
    smtp_server_factory: SMTPServerFactory, pipelining: bool
) -> None:
    mx = smtp_server_factory("127.0.0.2", pipelining=pipelining)
    pool = SmtpPool(helo_name="mta.herald.test", command_timeout=0.3)
    await pool.send(destination(mx), MAIL_FROM, ["a@receiver.example"], BODY)  # connected
    mx.stall("data_end", 1.5)
    result = await pool.send(destination(mx), MAIL_FROM, ["a@receiver.example"], BODY)
    mx.stall("data_end", 0)
    await pool.close()

    reply = result.replies["a@receiver.example"]
    assert reply.code is None and "Timeout" in reply.text


async def test_pipelining_over_starttls_and_the_extensions_read_again_inside(
    pool: SmtpPool,
    smtp_server_factory: SMTPServerFactory,
    simnet_ca: CertificateAuthority,
) -> None:
    mx = smtp_server_factory(
        "127.0.0.2", starttls=True, certificate=simnet_ca.issue("mx.receiver.example")
    )
    pool.verified_context.load_verify_locations(cafile=str(simnet_ca.ca_file))
    first = await pool.send(destination(mx), MAIL_FROM, ["a@receiver.example"], BODY)
    second = await pool.send(destination(mx), MAIL_FROM, ["b@receiver.example"], BODY)

    assert first.tls.startswith("TLSv1") and first.tls_verified
    assert second.reused and second.replies["b@receiver.example"].code == 250
    assert [m.tls for m in mx.messages] == [True, True]
    # PIPELINING is read from the EHLO reply sent after STARTTLS (the first one's is void).
    assert [m.pipelined for m in mx.messages] == [True, True]


def test_pipelining_over_starttls_on_uvloop(
    smtp_server_factory: SMTPServerFactory, simnet_ca: CertificateAuthority
) -> None:
    # The delivery worker runs on uvloop, whose transports (TLS ones too) are its own.
    mx = smtp_server_factory(
        "127.0.0.2", starttls=True, certificate=simnet_ca.issue("mx.receiver.example")
    )

    async def two_sends() -> list[TransactionResult]:
        assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
        smtp = SmtpPool(helo_name="mta.herald.test", command_timeout=2.0)
        smtp.verified_context.load_verify_locations(cafile=str(simnet_ca.ca_file))
        try:
            return [
                await smtp.send(destination(mx), MAIL_FROM, [f"{n}@receiver.example"], BODY)
                for n in ("a", "b")
            ]
        finally:
            await smtp.close()

    results = uvloop.run(two_sends())
    assert [(r.tls_verified, r.reused) for r in results] == [(True, False), (True, True)]
    assert [(m.tls, m.pipelined) for m in mx.messages] == [(True, True), (True, True)]


class WithholdingServer:
    """Offers PIPELINING and answers nothing until MAIL, RCPT and DATA have all arrived:
    a client that waits for each reply before the next command never gets one."""

    def __init__(self) -> None:
        self.groups: list[bytes] = []
        self.bodies: list[bytes] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._session, "127.0.0.2", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 withholding ESMTP\r\n")
        await reader.readline()
        writer.write(b"250-withholding\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
        while (first := await reader.readline()) and not first.startswith(b"QUIT"):
            group = first if first == b"DATA\r\n" else first + await reader.readuntil(b"DATA\r\n")
            self.groups.append(group)
            recipients = group.count(b"RCPT TO:")
            writer.write(b"250 2.1.0 Sender ok\r\n" + b"250 2.1.5 Ok\r\n" * recipients)
            writer.write(b"354 Go ahead\r\n")
            self.bodies.append(await reader.readuntil(b"\r\n.\r\n"))
            writer.write(b"250-2.0.0 Queued\r\n250 2.0.0 as W%d\r\n" % len(self.bodies))
        writer.write(b"221 Bye\r\n")
        writer.close()

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()


async def test_mail_rcpt_and_data_go_out_as_one_group(pool: SmtpPool) -> None:
    server = WithholdingServer()
    port = await server.start()
    try:
        where = Destination("127.0.0.2", port, "mx.receiver.example")
        to = ["a@receiver.example", "b@receiver.example"]
        result = await pool.send(where, MAIL_FROM, to, BODY)
        again = await pool.send(where, MAIL_FROM, ["c@receiver.example"], BODY)
    finally:
        await pool.close()
        await server.close()

    assert result.replies == dict.fromkeys(to, Reply(250, "2.0.0 Queued\n2.0.0 as W1"))
    assert again.replies["c@receiver.example"] == Reply(250, "2.0.0 Queued\n2.0.0 as W2")
    assert server.groups[0] == (
        b"MAIL FROM:<bounces+x@sender.example>\r\n"
        b"RCPT TO:<a@receiver.example>\r\nRCPT TO:<b@receiver.example>\r\nDATA\r\n"
    )
    assert server.bodies[0].endswith(b"\r\n..starts with a dot\r\n...two dots\r\n.\r\n")


async def test_content_asked_for_no_recipient_drops_the_connection(pool: SmtpPool) -> None:
    # A broken server says 354 after refusing every recipient: a QUIT would be taken as
    # content and wait for a reply that never comes, so the connection is dropped.
    after_data: list[bytes] = []

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 broken ESMTP\r\n")
        await reader.readline()
        writer.write(b"250-broken\r\n250 PIPELINING\r\n")
        await reader.readuntil(b"DATA\r\n")
        writer.write(b"250 Ok\r\n550 5.1.1 No such user\r\n354 Go ahead\r\n")
        after_data.append(await reader.read())  # until the client closes

    server = await asyncio.start_server(session, "127.0.0.2", 0)
    port = int(server.sockets[0].getsockname()[1])
    try:
        where = Destination("127.0.0.2", port, "mx.receiver.example")
        async with asyncio.timeout(1.0):  # the reply timeout (2 s) would mean a QUIT
            result = await pool.send(where, MAIL_FROM, ["gone@receiver.example"], BODY)
            await pool.close()
            while not after_data:
                await asyncio.sleep(0.01)
    finally:
        server.close()

    assert result.replies == {"gone@receiver.example": Reply(550, "5.1.1 No such user")}
    assert after_data == [b""]


class _Protocol:
    """What the reply reader passes connection loss and flow control on to."""

    def __init__(self) -> None:
        self.lost: list[Exception | None] = []

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.append(exc)


async def test_reply_reader_joins_split_and_multiline_replies() -> None:
    wrapped = _Protocol()
    reader = _ReplyReader(wrapped, 1.0)  # type: ignore[arg-type]
    reader.data_received(b"250-first line\r\n250-second")
    reader.data_received(b" line\r\n250 last\r\n55")
    first = await reader.next()
    pending = asyncio.ensure_future(reader.next())
    await asyncio.sleep(0)
    assert not pending.done()  # "55" is no reply yet
    reader.data_received(b"0 5.1.1 No such user\r\n")

    assert first == Reply(250, "first line\nsecond line\nlast")
    assert await pending == Reply(550, "5.1.1 No such user")
    reader.connection_lost(None)
    with pytest.raises(aiosmtplib.SMTPServerDisconnected, match="Connection lost"):
        await reader.next()
    assert wrapped.lost == [None]


@pytest.mark.parametrize(
    ("data", "error"),
    [(b"hello there\r\n", "Malformed reply line"), (b"250-" + b"x" * 40_000, "Reply too long")],
)
async def test_reply_reader_refuses_garbage(data: bytes, error: str) -> None:
    reader = _ReplyReader(_Protocol(), 1.0)  # type: ignore[arg-type]
    reader.data_received(data)
    with pytest.raises(aiosmtplib.SMTPException, match=error):
        await reader.next()


@given(st.binary(max_size=40).map(lambda b: bytes(b"ab. \r\n"[x % 6] for x in b)))
def test_content_on_the_wire_is_what_aiosmtplib_sends(data: bytes) -> None:
    # Line endings made CRLF, a final CRLF, leading dots doubled: aiosmtplib's DATA rules.
    assert _wire_content(data) == PERIOD_REGEX.sub(b"..", normalize_message_line_endings(data))
