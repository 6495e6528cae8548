"""Server replies: the :class:`Reply` value, and the reader for pipelined command groups.

aiosmtplib's protocol reads one reply per command it writes. For a pipelined group
(RFC 2920) :class:`ReplyReader` takes its place on the transport (``Transport.set_protocol``)
for as long as the group lasts, parses every reply in order, and passes on what aiosmtplib
must still hear: connection loss and flow control. The aiosmtplib internals this relies on
are checked by ``tests/unit/test_aiosmtplib_internals.py``.
"""

from __future__ import annotations

import asyncio
from collections import deque

import aiosmtplib
from aiosmtplib.protocol import SMTPProtocol
from msgspec import Struct

MAX_REPLY_BYTES = 32_768
"""A reply (all its lines) longer than this ends the connection: it bounds memory."""


class Reply(Struct, frozen=True):
    """The server's answer for one recipient; ``code`` None means no answer at all."""

    code: int | None
    text: str


class ReplyReader(asyncio.Protocol):
    """Parses every reply the server sends, in order, for a pipelined command group.

    Connection loss and flow control are passed on to aiosmtplib's protocol, so the
    client object knows the state of its connection when it gets the transport back.
    """

    def __init__(self, wrapped: SMTPProtocol, reply_timeout: float) -> None:
        self._wrapped = wrapped
        self._reply_timeout = reply_timeout
        self._buffer = bytearray()
        self._lines: list[bytes] = []
        self._replies: deque[Reply] = deque()
        self._error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None

    async def next(self) -> Reply:
        """The next reply, waiting at most the reply timeout for it."""
        while not self._replies:
            if self._error is not None:
                raise self._error
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(self._reply_timeout, self._time_out, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        return self._replies.popleft()

    def _time_out(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(aiosmtplib.SMTPReadTimeoutError("Timed out waiting for reply"))

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        """Split complete lines off the buffer; a line with a space after its code ends
        a reply (``250-`` continues one)."""
        if self._error is not None:
            return
        self._buffer += data
        start = 0
        while (end := self._buffer.find(b"\n", start)) != -1:
            line = bytes(self._buffer[start : end + 1])
            start = end + 1
            self._lines.append(line)
            if line[3:4] != b"-":
                self._finish_reply()
        del self._buffer[:start]
        if len(self._buffer) + sum(map(len, self._lines)) > MAX_REPLY_BYTES:
            self._fail(aiosmtplib.SMTPException("Reply too long"))
        self._wake()

    def _finish_reply(self) -> None:
        lines, self._lines = self._lines, []
        try:
            code = int(lines[0][:3])
        except ValueError:
            line = lines[0].decode("utf-8", "replace").strip()
            self._fail(aiosmtplib.SMTPException(f"Malformed reply line: {line}"))
            return
        text = b"\n".join(line[4:].strip(b" \t\r\n") for line in lines)
        self._replies.append(Reply(code, text.decode("utf-8", "replace")))

    def _fail(self, error: Exception) -> None:
        if self._error is None:
            self._error = error
        self._buffer.clear()
        self._lines.clear()
        self._wake()

    def eof_received(self) -> bool:
        """The server closed its side: no more replies will come."""
        self._fail(aiosmtplib.SMTPServerDisconnected("Unexpected EOF received"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Fail the waiting read, and tell aiosmtplib its connection is gone."""
        error = aiosmtplib.SMTPServerDisconnected("Connection lost")
        error.__cause__ = exc
        self._fail(error)
        self._wrapped.connection_lost(exc)

    def pause_writing(self) -> None:
        """Flow control belongs to the wrapped protocol."""
        self._wrapped.pause_writing()

    def resume_writing(self) -> None:
        """Flow control belongs to the wrapped protocol."""
        self._wrapped.resume_writing()
