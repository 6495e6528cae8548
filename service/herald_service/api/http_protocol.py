"""The API's HTTP/1.1 protocol: uvicorn's httptools protocol with request read timeouts.

uvicorn closes a keep-alive connection left idle between requests, and nothing else: a
client that sends half its request headers, or its headers and a few body bytes, and then
waits, keeps its socket (and, once its headers are in, a task) for as long as it likes. A
few hundred of them are a slowloris. :class:`HeraldHttpProtocol` bounds both waits, as
nginx's ``client_header_timeout`` and Apache's ``mod_reqtimeout`` do:

- headers: a connection must complete its request headers within ``header_timeout`` of
  being opened (or of the first byte of a later request on it), else it gets ``408`` and
  is closed; one that sent nothing at all is closed without an answer;
- body: the request body must keep coming, with no pause longer than ``body_timeout``
  (nginx's ``client_body_timeout``), and must have arrived within ``body_timeout`` plus
  one second per ``body_min_rate`` bytes received (mod_reqtimeout's ``MinRate``: a large
  upload on a slow link is fine, a trickle of a byte now and then is not); else ``408``
  and close.

A timer is armed only when a read leaves a request incomplete (and once per new
connection), so a request that arrives in one read, as nearly every API call does, costs
none. 0 disables a timeout.

httptools itself takes request headers of any size; past :data:`MAX_HEADER_BYTES` (as
nginx's ``large_client_header_buffers``) the request gets ``431`` and the connection is
closed, so one fast client cannot make the process buffer megabytes of headers.
"""

from __future__ import annotations

import asyncio
import math
import resource
from http import HTTPStatus
from typing import Any

import msgspec
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from herald_service.api.problems import PROBLEM_JSON, Problem, problem_type
from herald_service.settings import get_settings

# Request line and headers of one request, counted to within one read (64 KiB-256 KiB).
MAX_HEADER_BYTES = 64 * 1024

# Where the connection is in reading its current request.
_IDLE = 0  # between requests: nothing is owed (uvicorn's keep-alive timeout applies)
_OPENED = 1  # a new connection that has sent nothing yet
_HEADERS = 2  # part of the request line or headers has arrived
_BODY = 3  # the headers are complete, the body is not


def _closing_problem(
    default_headers: list[tuple[bytes, bytes]], status: HTTPStatus, title: str, detail: str
) -> bytes:
    """A complete problem-details response that closes the connection."""
    body = msgspec.json.encode(
        Problem(type=problem_type(title), title=title, status=status, detail=detail)
    )
    lines = [f"HTTP/1.1 {status.value} {status.phrase}".encode()]
    lines += [name + b": " + value for name, value in default_headers]
    lines += [
        b"content-type: " + PROBLEM_JSON.encode(),
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class HeraldHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus header and body read timeouts (see module doc)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.header_timeout = settings.api_header_timeout
        self.body_timeout = settings.api_body_timeout
        self.body_min_rate = settings.api_body_min_rate
        self._phase = _IDLE
        self._phase_began = 0.0
        self._body_received = 0
        self._last_read = 0.0
        self._read_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._message_began = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the header clock: the first request is owed from now."""
        super().connection_made(transport)
        self._begin(_OPENED)
        self._arm(self._remaining())

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the timer with the connection."""
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None
        self._phase = _IDLE
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse as uvicorn does; if that leaves a request incomplete, watch the clock."""
        self._message_began = False
        super().data_received(data)
        if self._phase and not self.transport.is_closing():
            if self._phase == _HEADERS and not self._message_began:
                # A read that began the request may hold the end of the one before: it
                # is not counted, so the count is short by at most one read.
                self._header_bytes += len(data)
                if self._header_bytes > MAX_HEADER_BYTES:
                    self._refuse_headers()
                    return
            self._last_read = self.loop.time()
            if self._read_timer is None:
                self._arm(self._remaining())

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._message_began = True
        self._header_bytes = 0
        if self._phase == _OPENED:
            self._phase = _HEADERS  # the first request's clock started with the connection
        else:
            self._begin(_HEADERS)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._begin(_BODY)
        self._body_received = 0
        self._last_read = self._phase_began

    def on_body(self, body: bytes) -> None:
        self._body_received += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._phase = _IDLE
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        """The connection stops being HTTP: its requests are no longer timed here."""
        self._phase = _IDLE
        super().handle_websocket_upgrade()

    def _begin(self, phase: int) -> None:
        self._phase = phase
        self._phase_began = self.loop.time()

    def _remaining(self) -> float:
        """Seconds left for the current part of the request (infinite: no timeout)."""
        if self._phase != _BODY:
            if not self.header_timeout:
                return math.inf
            return self._phase_began + self.header_timeout - self.loop.time()
        if not self.body_timeout:
            return math.inf
        deadline = self._last_read + self.body_timeout
        if self.body_min_rate:
            allowance = self.body_timeout + self._body_received / self.body_min_rate
            deadline = min(deadline, self._phase_began + allowance)
        return deadline - self.loop.time()

    def _arm(self, seconds: float) -> None:
        if seconds < math.inf:
            self._read_timer = self.loop.call_later(max(seconds, 0), self._check_deadline)

    def _check_deadline(self) -> None:
        """Close the connection if its request is overdue; else look again when it will be."""
        self._read_timer = None
        if self._phase == _IDLE or self.transport.is_closing():
            return
        if self._waiting_on_us():
            self._begin(self._phase)  # not the client's fault: its clock starts again
            self._body_received = 0
            self._last_read = self._phase_began
        remaining = self._remaining()
        if remaining > 0:
            self._arm(remaining)
        else:
            self._time_out()

    def _waiting_on_us(self) -> bool:
        """Whether the client cannot send because this server stopped reading.

        uvicorn pauses reading while the application has not taken the body received so
        far, and while it answers an earlier request of a pipelined connection.
        """
        return self.flow.read_paused or (
            self._phase == _HEADERS and self.cycle is not None and not self.cycle.response_complete
        )

    def _time_out(self) -> None:
        """Answer ``408`` where an answer is still owed and can be given, and close."""
        phase, self._phase = self._phase, _IDLE
        cycle = self.cycle if phase == _BODY else None
        if phase == _HEADERS or (cycle is not None and not cycle.response_started):
            if phase == _HEADERS:
                detail = f"The request headers did not arrive within {self.header_timeout:g}s."
            else:
                detail = f"The request body paused for over {self.body_timeout:g}s"
                if self.body_min_rate:
                    detail += f" or came slower than {self.body_min_rate} bytes/s"
                detail += "."
            self.transport.write(
                _closing_problem(
                    self.server_state.default_headers,
                    HTTPStatus.REQUEST_TIMEOUT,
                    "Request timeout",
                    detail,
                )
            )
        if cycle is not None:
            # The application sees the client gone and anything it still sends is dropped.
            cycle.keep_alive = False
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()

    def _refuse_headers(self) -> None:
        self._phase = _IDLE
        detail = f"The request line and headers exceed {MAX_HEADER_BYTES} bytes."
        self.transport.write(
            _closing_problem(
                self.server_state.default_headers,
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Request headers too large",
                detail,
            )
        )
        self.transport.close()


def raise_open_file_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; return it.

    Every connection holds a file descriptor, slow ones included, and a soft limit of
    1,024 (a common default) lets a few hundred idle sockets make ``accept`` fail for
    everyone else. The hard limit is what the operator allows; uvicorn does not ask.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft == hard:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        return soft
    return hard
