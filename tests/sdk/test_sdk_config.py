"""Client configuration, error mapping and Retry-After parsing (no Herald server needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from loopback_http import Reply, ScriptedHTTPServer

import herald
from herald import (
    APIError,
    APIResponseValidationError,
    AsyncHerald,
    Herald,
    HeraldError,
    InternalServerError,
    RetryPolicy,
)
from herald._exceptions import error_class_for
from herald._retry import parse_retry_after


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HERALD_API_KEY", raising=False)
    monkeypatch.delenv("HERALD_BASE_URL", raising=False)


def test_configuration_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_API_KEY", "hk_from_env")
    monkeypatch.setenv("HERALD_BASE_URL", "https://mail.example.com/herald/")
    with Herald() as client:
        assert client.api_key == "hk_from_env"
        assert str(client.base_url) == "https://mail.example.com/herald/"
        assert client.max_retries == 2
    with Herald(api_key="hk_arg", base_url="http://127.0.0.1:9") as client:
        assert client.api_key == "hk_arg"
        assert client.base_url.port == 9


def test_base_url_defaults_to_the_local_server() -> None:
    with Herald(api_key="hk") as client:
        assert str(client.base_url) == herald.DEFAULT_BASE_URL == "http://127.0.0.1:8000"


def test_a_missing_api_key_fails_early() -> None:
    with pytest.raises(HeraldError, match="HERALD_API_KEY"):
        Herald()
    with pytest.raises(HeraldError, match="HERALD_API_KEY"):
        AsyncHerald()


def test_base_url_must_be_absolute_http() -> None:
    with pytest.raises(HeraldError, match="base_url"):
        Herald(api_key="hk", base_url="127.0.0.1:8000")
    with pytest.raises(ValueError, match="max_retries"):
        Herald(api_key="hk", max_retries=-1)


def test_repr_does_not_show_the_key() -> None:
    with Herald(api_key="hk_secret") as client:
        assert "hk_secret" not in repr(client)


def test_requests_carry_auth_and_keep_the_base_path() -> None:
    message = {"id": "msg_1", "status": "queued", "from": "a@b.example", "future_field": 1}
    with ScriptedHTTPServer(Reply(200, message)) as server:
        client = Herald(api_key="hk_x", base_url=server.base_url + "/prefix/")
        with client:
            got = client.messages.get("msg/1 x")
    assert got.from_ == "a@b.example"
    (request,) = server.received
    assert request.method == "GET"
    assert request.path == "/prefix/v1/messages/msg%2F1%20x"
    assert request.headers["authorization"] == "Bearer hk_x"
    assert request.headers["user-agent"] == f"herald-python/{herald.__version__}"
    assert "idempotency-key" not in request.headers


def test_a_given_http_client_is_not_closed() -> None:
    http = httpx.Client()
    with Herald(api_key="hk", http_client=http):
        pass
    assert not http.is_closed
    http.close()


def test_an_empty_message_id_is_refused() -> None:
    with Herald(api_key="hk") as client, pytest.raises(ValueError, match="message_id"):
        client.messages.get("")


def test_a_non_problem_error_body_still_maps_by_status() -> None:
    proxy_page = Reply(502, b"<html>Bad gateway</html>", {"Content-Type": "text/html"})
    with ScriptedHTTPServer(proxy_page) as server:
        client = Herald(api_key="hk", base_url=server.base_url, max_retries=0)
        with client, pytest.raises(InternalServerError) as caught:
            client.messages.get("msg_1")
    assert caught.value.status == 502
    assert caught.value.problem.title == "Bad Gateway"
    assert "Bad gateway" in caught.value.problem.detail


def test_an_unexpected_success_body_is_a_validation_error() -> None:
    with ScriptedHTTPServer(Reply(200, b"not json")) as server:
        client = Herald(api_key="hk", base_url=server.base_url)
        with client, pytest.raises(APIResponseValidationError):
            client.messages.get("msg_1")


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (400, "BadRequestError"),
        (401, "AuthenticationError"),
        (403, "PermissionDeniedError"),
        (404, "NotFoundError"),
        (409, "ConflictError"),
        (410, "GoneError"),
        (413, "PayloadTooLargeError"),
        (422, "UnprocessableEntityError"),
        (429, "RateLimitError"),
        (500, "InternalServerError"),
        (503, "InternalServerError"),
        (418, "APIError"),
    ],
)
def test_each_status_has_its_error_class(status: int, name: str) -> None:
    cls = error_class_for(status)
    assert cls is getattr(herald, name)
    assert issubclass(cls, APIError)


def test_retry_after_parsing() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(30.0)
    assert parse_retry_after(format_datetime(now, usegmt=True), now=now.timestamp() + 5) == 0.0
    for bad in (None, "", "soon", "nan"):
        assert parse_retry_after(bad) is None


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(initial_delay=1.0, max_delay=4.0, jitter=0.25)
    for index, ceiling in enumerate([1.0, 2.0, 4.0, 4.0, 4.0]):
        delay = policy.backoff(index)
        assert 0.75 * ceiling <= delay <= ceiling
    assert policy.delay(0, retry_after=3.0) == 3.0
    assert policy.delay(0, retry_after=61.0) is None
