"""The aiosmtplib internals SMTP pipelining relies on are still there and still behave.

Why this test exists: aiosmtplib has no public API for RFC 2920 pipelining, so
``herald_queue.smtp_transaction`` and ``herald_queue.smtp_reply_reader`` reach into it.
For one pipelined command group they take the ``SMTP`` client's ``protocol``
(an ``aiosmtplib.protocol.SMTPProtocol``), put a reply reader in its seat on
``protocol.transport`` (``Transport.set_protocol``), forward connection loss and flow
control to it (``connection_lost``, ``pause_writing``, ``resume_writing``), and hand the
transport back. Message content goes out through ``normalize_message_line_endings``.
None of that is public API, so a release may rename, move or change it without notice,
and the failure would show up as lost or stuck deliveries, not as an import error.

So aiosmtplib is pinned below its next major release in ``pyproject.toml``, and these
tests fail loudly, naming the internal that changed, when any of it does: on an upgrade,
read the new release's ``protocol.py`` and ``smtp.py``, adapt the pipelining code, then
move the pin and this test together.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import cast

import aiosmtplib
import aiosmtplib.protocol
import pytest
import uvloop
from aiosmtplib.protocol import SMTPProtocol, normalize_message_line_endings

from herald_queue.smtp_reply_reader import ReplyReader

ROOT = Path(__file__).resolve().parents[2]
CHANGED = "aiosmtplib internals used by SMTP pipelining changed"


def _pinned_majors() -> tuple[int, int]:
    """The ``>=N,<N+1`` range ``pyproject.toml`` pins aiosmtplib to."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = [d for d in project["dependencies"] if re.match(r"aiosmtplib\b", d)]
    assert len(pins) == 1, f"expected one aiosmtplib requirement, found {pins}"
    match = re.fullmatch(r"aiosmtplib>=(\d+)(?:\.\d+)*,<(\d+)", pins[0].replace(" ", ""))
    assert match, f"aiosmtplib must be pinned as '>=N,<N+1' (its internals are used): {pins[0]}"
    return int(match[1]), int(match[2])


def test_the_installed_major_version_is_the_pinned_one() -> None:
    low, high = _pinned_majors()
    assert high == low + 1, f"pin aiosmtplib below its next major release, not <{high}"
    installed = importlib.metadata.version("aiosmtplib")
    assert aiosmtplib.__version__ == installed
    major = int(installed.split(".")[0])
    assert low <= major < high, (
        f"aiosmtplib {installed} is installed but pyproject.toml pins >={low},<{high}: {CHANGED}?"
    )


@pytest.mark.parametrize(
    ("owner", "name", "parameters"),
    [
        (SMTPProtocol, "connection_lost", ["self", "exc"]),
        (SMTPProtocol, "pause_writing", ["self"]),
        (SMTPProtocol, "resume_writing", ["self"]),
        (SMTPProtocol, "connection_made", ["self", "transport"]),
        (SMTPProtocol, "__init__", ["self", "loop", "connection_lost_callback"]),
        (aiosmtplib.protocol, "normalize_message_line_endings", ["message"]),
        (aiosmtplib.SMTP, "supports_extension", ["self", "extension"]),
        (aiosmtplib.SMTP, "close", ["self"]),
    ],
)
def test_the_callables_keep_their_signatures(
    owner: object, name: str, parameters: list[str]
) -> None:
    function = getattr(owner, name, None)
    assert callable(function), f"{CHANGED}: {owner!r} has no {name}()"
    found = list(inspect.signature(function).parameters)
    assert found == parameters, f"{CHANGED}: {name}{tuple(found)}, expected {tuple(parameters)}"


def test_the_protocol_is_an_asyncio_protocol() -> None:
    assert issubclass(SMTPProtocol, asyncio.BaseProtocol), CHANGED
    assert isinstance(inspect.getattr_static(SMTPProtocol, "is_connected"), property), CHANGED


@pytest.mark.parametrize(
    ("message", "wire"),
    [
        (b"a\r\nb\r\n", b"a\r\nb\r\n"),
        (b"a\nb\n", b"a\r\nb\r\n"),
        (b"a\rb\r", b"a\r\nb\r\n"),
        (b"a\r\n\nb", b"a\r\n\r\nb\r\n"),
        (b"no final line ending", b"no final line ending\r\n"),
        (b".leading dot\n", b".leading dot\r\n"),  # dot-stuffing is the caller's job
    ],
)
def test_line_endings_are_normalized_as_data_sends_them(message: bytes, wire: bytes) -> None:
    assert normalize_message_line_endings(message) == wire, CHANGED


class _Transport(asyncio.Transport):
    """Just enough of a transport for the protocol's bookkeeping."""

    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default

    def is_closing(self) -> bool:
        return self.closing


def test_the_protocol_tracks_its_transport_and_reports_its_loss() -> None:
    """What the reply reader relies on when it passes connection loss on: the client
    learns through ``connection_lost_callback`` and ``transport`` becomes None."""
    loop = asyncio.new_event_loop()
    try:
        lost: list[SMTPProtocol] = []
        protocol = SMTPProtocol(loop=loop, connection_lost_callback=lost.append)
        assert protocol.transport is None, f"{CHANGED}: SMTPProtocol.transport"
        transport = _Transport()
        protocol.connection_made(transport)
        assert protocol.transport is transport, f"{CHANGED}: SMTPProtocol.transport"
        assert protocol.is_connected
        protocol.pause_writing()
        protocol.resume_writing()
        reader = ReplyReader(protocol, reply_timeout=1.0)
        reader.connection_lost(None)  # as the transport calls it while the reader is seated
        assert protocol.transport is None, f"{CHANGED}: connection_lost keeps the transport"
        assert not protocol.is_connected
        assert lost == [protocol], f"{CHANGED}: connection_lost_callback not called"
    finally:
        loop.close()


def test_the_client_starts_without_a_protocol() -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1")
    assert hasattr(client, "protocol"), f"{CHANGED}: SMTP.protocol"
    assert client.protocol is None
    assert not client.is_connected


_GREETING = b"220 test ready\r\n"
_EHLO = b"250-test\r\n250 PIPELINING\r\n"


async def _scripted_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Greets, answers EHLO, then 250 to every other line, until QUIT."""
    writer.write(_GREETING)
    while line := await reader.readline():
        if line.upper().startswith(b"EHLO"):
            writer.write(_EHLO)
        elif line.upper().startswith(b"QUIT"):
            writer.write(b"221 bye\r\n")
            break
        else:
            writer.write(b"250 ok\r\n")
        await writer.drain()
    writer.close()


async def _swap_the_seat_and_back() -> None:
    server = await asyncio.start_server(_scripted_server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=5)
    try:
        await client.connect()
        await client.ehlo()
        assert client.supports_extension("pipelining")
        protocol = client.protocol
        assert isinstance(protocol, SMTPProtocol), f"{CHANGED}: SMTP.protocol"
        # As in smtp_transaction: uvloop's transports have asyncio.Transport's methods.
        transport = cast("asyncio.Transport | None", protocol.transport)
        assert transport is not None, f"{CHANGED}: SMTPProtocol.transport"
        assert callable(getattr(transport, "set_protocol", None))
        seated = ReplyReader(protocol, reply_timeout=5.0)
        transport.set_protocol(seated)
        transport.write(b"NOOP\r\nNOOP\r\n")
        assert (await seated.next()).code == 250
        assert (await seated.next()).code == 250
        transport.set_protocol(protocol)
        response = await client.noop()  # aiosmtplib reads its own replies again
        assert response.code == 250, f"{CHANGED}: the client lost track after the swap"
        await client.quit()
    finally:
        client.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    "loop_factory",
    [asyncio.new_event_loop, uvloop.new_event_loop],
    ids=["asyncio", "uvloop"],
)
def test_the_protocol_seat_can_be_taken_and_handed_back(
    loop_factory: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    """The whole manoeuvre on a loopback connection, on both event loops the worker may
    run (uvloop's transports are not asyncio.Transport subclasses)."""
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(_swap_the_seat_and_back())
