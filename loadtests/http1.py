"""A lean HTTP/1.1 keep-alive client on asyncio, for the load generator.

A :class:`Pool` keeps up to ``limit`` persistent connections to one server and sends
pre-serialized requests on them, one at a time per connection (no pipelining). Answers
are read minimally: status line, headers, then a ``Content-Length``, chunked or
close-delimited body. A connection the server closes, resets or leaves unanswered raises
an ``OSError`` (:class:`ServerDisconnected`, ``ConnectionResetError``, ``TimeoutError``)
or :class:`ProtocolError` and is not reused.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import NamedTuple, cast


class ServerDisconnected(ConnectionError):
    """The server closed the connection before a complete answer."""


class ProtocolError(Exception):
    """The server's bytes are not an HTTP/1.x answer this client can read."""


TRANSPORT_ERRORS = (OSError, ProtocolError)  # OSError covers TimeoutError and ConnectionError


class Response(NamedTuple):
    """Status code and body of one answer."""

    status: int
    body: bytes


IDLE_EXPIRY = 4.0
"""Seconds a connection may sit idle and still be reused: less than the server's keep-alive
timeout (uvicorn: 5 s), so a request never races the server closing the connection."""
_UNTIL_CLOSE = -1
_CHUNKED = -2


class _Connection(asyncio.Protocol):
    """One connection: sends a request, parses the answer into a future."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self.idle_since = 0.0
        self._buffer = bytearray()
        self._waiter: asyncio.Future[Response] | None = None
        self._status = 0
        self._framing = 0  # body length, _UNTIL_CLOSE or _CHUNKED; valid once _body_at > 0
        self._body_at = 0  # offset of the body in the buffer once the head is parsed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def send(self, request: bytes) -> asyncio.Future[Response]:
        """Write ``request``; the future completes with the answer or a transport error."""
        waiter = asyncio.get_running_loop().create_future()
        if self.closed or self.transport is None or self.transport.is_closing():
            waiter.set_exception(ServerDisconnected("connection closed before the request"))
            return waiter
        self._waiter = waiter
        self._buffer.clear()
        self._body_at = 0
        self.transport.write(request)
        return waiter

    def close(self) -> None:
        """Close the connection after what is already written."""
        self.reusable = False
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection at once."""
        self.reusable = False
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            self.abort()  # bytes nobody asked for: the connection is out of step
            return
        self._buffer += data
        try:
            response = self._parse(eof=False)
        except ProtocolError as exc:
            self._fail(exc)
            return
        if response is not None:
            self._waiter.set_result(response)

    def eof_received(self) -> bool:
        if self._waiter is not None and not self._waiter.done():
            try:
                response = self._parse(eof=True)
            except ProtocolError as exc:
                self._fail(exc)
                return False
            if response is not None:
                self._waiter.set_result(response)
        return False  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc or ServerDisconnected("connection closed mid-answer"))

    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)
        self.abort()

    def _parse(self, eof: bool) -> Response | None:
        """The complete answer in the buffer, or None while more bytes are due."""
        buffer = self._buffer
        if not self._body_at:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if eof:
                    raise ServerDisconnected("connection closed mid-head")
                return None
            if not self._head(bytes(buffer[:end])):
                del buffer[: end + 4]  # an interim 1xx answer: the real one follows
                return self._parse(eof)
            self._body_at = end + 4
        start = self._body_at
        if self._framing >= 0:
            stop = start + self._framing
            if len(buffer) < stop:
                if eof:
                    raise ServerDisconnected("connection closed mid-body")
                return None
            if len(buffer) > stop:
                self.reusable = False  # bytes beyond the answer: do not trust the stream
            return Response(self._status, bytes(buffer[start:stop]))
        if self._framing == _UNTIL_CLOSE:
            return Response(self._status, bytes(buffer[start:])) if eof else None
        body = _dechunk(buffer, start)
        if body is None and eof:
            raise ServerDisconnected("connection closed mid-body")
        return None if body is None else Response(self._status, body)

    def _head(self, head: bytes) -> bool:
        """Read the status line and headers; False for an interim (1xx) answer."""
        lines = head.split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/1.") or not code.isdigit():
            raise ProtocolError(f"bad status line {lines[0][:80]!r}")
        self._status = int(code)
        if 100 <= self._status < 200:
            return False
        length = _UNTIL_CLOSE
        chunked = False
        keep_alive = version != b"HTTP/1.0"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                if not value.strip().isdigit():
                    raise ProtocolError(f"bad Content-Length {value[:40]!r}")
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                tokens = value.lower()
                keep_alive = b"close" not in tokens and (keep_alive or b"keep-alive" in tokens)
        if self._status in (204, 304):
            length = 0
        elif chunked:  # overrides any Content-Length
            length = _CHUNKED
        self._framing = length
        self.reusable = keep_alive and length != _UNTIL_CLOSE
        return True


def _dechunk(buffer: bytearray, at: int) -> bytes | None:
    """The body of a complete chunked encoding starting at ``at``, else None."""
    body = bytearray()
    while True:
        end = buffer.find(b"\r\n", at)
        if end < 0:
            return None
        size_field = bytes(buffer[at:end]).split(b";")[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size {size_field[:20]!r}") from None
        at = end + 2
        if size == 0:  # then optional trailers, ending with an empty line
            if buffer[at : at + 2] == b"\r\n":
                return bytes(body)
            return bytes(body) if buffer.find(b"\r\n\r\n", at) >= 0 else None
        if len(buffer) < at + size + 2:
            return None
        body += buffer[at : at + size]
        at += size + 2


class Pool:
    """Up to ``limit`` keep-alive connections to ``host:port``, opened as needed."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host = host
        self.port = port
        self.limit = limit
        self.opened = 0  # connections opened in all
        self._open = 0  # connections counted against the limit
        self._closed = False
        self._idle: list[_Connection] = []
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def request(self, request: bytes) -> Response:
        """Send one serialized request on a free connection and return the answer."""
        connection = await self._acquire()
        try:
            response = await connection.send(request)
        except BaseException:
            connection.abort()
            self._forget()
            raise
        if connection.reusable and not connection.closed and not self._closed:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
            self._wake()
        else:
            connection.close()
            self._forget()
        return response

    async def close(self) -> None:
        """Close the idle connections; those in use close once their answer is read."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        self._open -= len(idle)

    async def _acquire(self) -> _Connection:
        loop = asyncio.get_running_loop()
        while True:
            while self._idle:
                connection = self._idle.pop()
                if not connection.closed:
                    if time.monotonic() - connection.idle_since < IDLE_EXPIRY:
                        return connection
                    connection.close()  # the server may be closing it right now
                self._open -= 1
            if self._open < self.limit:
                self._open += 1
                try:
                    _, protocol = await loop.create_connection(_Connection, self.host, self.port)
                except BaseException:
                    self._forget()
                    raise
                self.opened += 1
                return protocol
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # woken, then cancelled: pass the turn on
                raise

    def _forget(self) -> None:
        """A connection left the pool for good: its place is free."""
        self._open -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
