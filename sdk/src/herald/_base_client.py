"""The request machinery shared by :class:`~herald.Herald` and :class:`~herald.AsyncHerald`.

One attempt = build the request once, send it, turn the outcome into either a decoded
model or a :class:`~herald.HeraldError`. The retry loop around it differs only in how it
sleeps and awaits, so everything else lives in :class:`BaseClient`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypedDict, TypeVar

import httpx
import msgspec

from herald._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    HeraldError,
    api_error_from_response,
    connection_error_from,
)
from herald._retry import RetryPolicy, is_retryable_status
from herald._version import __version__

T = TypeVar("T")
ItemT = TypeVar("ItemT", covariant=True)

log = logging.getLogger("herald")

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})

Timeout = float | httpx.Timeout | None
"""Seconds (one float for every phase), an ``httpx.Timeout``, or ``None`` for no limit."""


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """One logical API call; its retries all send exactly this."""

    method: str
    path: str
    body: bytes | None = None
    params: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    max_retries: int | None = None
    timeout: Timeout | None = None


class CallOptions(TypedDict, total=False):
    """Per-call overrides every resource method accepts as keyword arguments."""

    max_retries: int | None
    """Retries for this call instead of the client's ``max_retries``."""
    timeout: Timeout
    """Timeout for each attempt of this call instead of the client's ``timeout``."""


class CursorPage(Protocol[ItemT]):
    """A page of a cursor-paginated list: its items and the cursor of the next page."""

    @property
    def data(self) -> Sequence[ItemT]: ...

    @property
    def next_cursor(self) -> str | None: ...


def next_page_options(options: RequestOptions, page: CursorPage[Any]) -> RequestOptions | None:
    """The request for the page after ``page``, or ``None`` when it was the last one."""
    if not page.next_cursor or not page.data:
        return None
    return replace(options, params={**options.params, "cursor": page.next_cursor})


def _resolve_api_key(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get("HERALD_API_KEY")
    if not key:
        raise HeraldError(
            "no API key: pass api_key=... or set the HERALD_API_KEY environment variable"
        )
    return key


def _resolve_base_url(base_url: str | httpx.URL | None) -> httpx.URL:
    raw = base_url if base_url is not None else os.environ.get("HERALD_BASE_URL")
    url = httpx.URL(str(raw) if raw else DEFAULT_BASE_URL)
    if url.scheme not in ("http", "https") or not url.host:
        raise HeraldError(f"base_url must be an absolute http(s) URL, not {str(url)!r}")
    return url


class BaseClient:
    """Configuration and the per-attempt logic common to the sync and async clients."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | httpx.URL | None,
        timeout: Timeout,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
        retry_policy: RetryPolicy | None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.api_key = _resolve_api_key(api_key)
        self.base_url = _resolve_base_url(base_url)
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_policy = retry_policy or RetryPolicy()
        self._default_headers = dict(default_headers or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self.base_url)!r})"

    def _url(self, path: str) -> httpx.URL:
        return self.base_url.copy_with(path=self.base_url.path.rstrip("/") + path)

    def _headers(self, options: RequestOptions) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "User-Agent": f"herald-python/{__version__}",
            **self._default_headers,
            "Authorization": f"Bearer {self.api_key}",
        }
        if options.body is not None:
            headers["Content-Type"] = "application/json"
        headers.update(options.headers)
        return headers

    def _timeout(self, options: RequestOptions) -> Timeout:
        return self.timeout if options.timeout is None else options.timeout

    def _max_retries(self, options: RequestOptions) -> int:
        return self.max_retries if options.max_retries is None else options.max_retries

    def _result(self, response: httpx.Response, cast_to: type[T]) -> T:
        """Decode a response into ``cast_to``, or the :class:`APIError` it stands for."""
        if response.is_success:
            if cast_to is bytes:
                return response.content  # type: ignore[return-value]  # T is bytes
            if cast_to is type(None):
                return None  # type: ignore[return-value,unused-ignore]
            try:
                return msgspec.json.decode(response.content, type=cast_to)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise APIResponseValidationError(
                    response.status_code, f"unexpected response body: {exc}"
                ) from exc
        raise api_error_from_response(response)

    def _retry_delay(
        self, options: RequestOptions, error: HeraldError, retry_index: int, retries: int
    ) -> float | None:
        """Seconds to wait before retrying after ``error``, or ``None`` to give up.

        A request that may have taken effect is repeated only when repeating it is safe: a
        read, an idempotent method, or a send with its ``Idempotency-Key``. Any request is
        repeated when it certainly did not run: refused connection, or 429.
        """
        if retry_index >= retries:
            return None
        safe = options.method in IDEMPOTENT_METHODS or "Idempotency-Key" in options.headers
        if isinstance(error, APIConnectionError):
            return (
                self.retry_policy.backoff(retry_index) if safe or not error.request_sent else None
            )
        if not isinstance(error, APIError) or not is_retryable_status(error.status):
            return None
        if error.status == 409 and "Idempotency-Key" not in options.headers:
            return None  # a real conflict, not an idempotent request still in flight
        if error.status != 429 and not safe:
            return None
        return self.retry_policy.delay(retry_index, error.retry_after)


def _log_retry(options: RequestOptions, error: HeraldError, delay: float, left: int) -> None:
    log.info(
        "%s %s failed (%s); retrying in %.2fs (%d left)",
        options.method,
        options.path,
        error,
        delay,
        left,
    )


class SyncAPIClient(BaseClient):
    """The blocking request loop over an ``httpx.Client``."""

    def __init__(self, *, http_client: httpx.Client | None, **config: Any) -> None:
        super().__init__(**config)
        self._owns_http_client = http_client is None
        self._http = http_client if http_client is not None else httpx.Client()

    def request(self, options: RequestOptions, cast_to: type[T]) -> T:
        """Send ``options`` (retrying as configured) and decode the answer into ``cast_to``."""
        request = self._http.build_request(
            options.method,
            self._url(options.path),
            content=options.body,
            params=dict(options.params) or None,
            headers=self._headers(options),
            timeout=self._timeout(options),
        )
        retries = self._max_retries(options)
        retry_index = 0
        while True:
            try:
                try:
                    response = self._http.send(request)
                except httpx.RequestError as exc:
                    raise connection_error_from(exc) from exc
                return self._result(response, cast_to)
            except HeraldError as error:
                delay = self._retry_delay(options, error, retry_index, retries)
                if delay is None:
                    raise
                _log_retry(options, error, delay, retries - retry_index)
                time.sleep(delay)
                retry_index += 1

    def paginate(self, options: RequestOptions, page_type: type[CursorPage[T]]) -> Iterator[T]:
        """Every item of every page, fetching the next page when the previous one is used up."""
        next_options: RequestOptions | None = options
        while next_options is not None:
            page = self.request(next_options, page_type)
            yield from page.data
            next_options = next_page_options(next_options, page)

    def close(self) -> None:
        """Close the HTTP connection pool (unless it was passed in as ``http_client``)."""
        if self._owns_http_client:
            self._http.close()


class AsyncAPIClient(BaseClient):
    """The asyncio request loop over an ``httpx.AsyncClient``."""

    def __init__(self, *, http_client: httpx.AsyncClient | None, **config: Any) -> None:
        super().__init__(**config)
        self._owns_http_client = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient()

    async def request(self, options: RequestOptions, cast_to: type[T]) -> T:
        """Send ``options`` (retrying as configured) and decode the answer into ``cast_to``."""
        request = self._http.build_request(
            options.method,
            self._url(options.path),
            content=options.body,
            params=dict(options.params) or None,
            headers=self._headers(options),
            timeout=self._timeout(options),
        )
        retries = self._max_retries(options)
        retry_index = 0
        while True:
            try:
                try:
                    response = await self._http.send(request)
                except httpx.RequestError as exc:
                    raise connection_error_from(exc) from exc
                return self._result(response, cast_to)
            except HeraldError as error:
                delay = self._retry_delay(options, error, retry_index, retries)
                if delay is None:
                    raise
                _log_retry(options, error, delay, retries - retry_index)
                await asyncio.sleep(delay)
                retry_index += 1

    async def paginate(
        self, options: RequestOptions, page_type: type[CursorPage[T]]
    ) -> AsyncIterator[T]:
        """Every item of every page, fetching the next page when the previous one is used up."""
        next_options: RequestOptions | None = options
        while next_options is not None:
            page = await self.request(next_options, page_type)
            for item in page.data:
                yield item
            next_options = next_page_options(next_options, page)

    async def close(self) -> None:
        """Close the HTTP connection pool (unless it was passed in as ``http_client``)."""
        if self._owns_http_client:
            await self._http.aclose()
