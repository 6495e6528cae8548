"""``HERALD_REDIS_URL``: the ``redis+sentinel://`` form, the checks at start-up, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald_service.redis_urls import SentinelUrl, check_redis_url, parse_sentinel_url, redacted
from herald_service.settings import ConfigError, load_settings


def test_sentinel_url_parts() -> None:
    url = (
        "redis+sentinel://app:p%40ss@10.0.0.1:26380,sentinel-2,[fd00::3]:26381/herald/2"
        "?sentinel_password=s%26p&sentinel_username=watch"
    )
    assert parse_sentinel_url(url) == SentinelUrl(
        sentinels=(("10.0.0.1", 26380), ("sentinel-2", 26379), ("fd00::3", 26381)),
        service_name="herald",
        db=2,
        username="app",
        password="p@ss",
        sentinel_username="watch",
        sentinel_password="s&p",
    )


def test_sentinel_url_defaults_and_options() -> None:
    parts = parse_sentinel_url("REDIS+SENTINEL://:secret@s1:26379/mymaster")
    assert parts == SentinelUrl((("s1", 26379),), "mymaster", password="secret")
    assert parts.master_options() == {"db": 0, "password": "secret"}
    # Sentinels get the clients' socket timeouts, and their own credentials only.
    with_auth = parts._replace(sentinel_password="sp")
    assert with_auth.sentinel_options({"socket_timeout": 5, "retry": None}) == {
        "socket_timeout": 5,
        "password": "sp",
    }


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("redis+sentinel://s1:26379", "service_name"),
        ("redis+sentinel://s1:26379/", "service_name"),
        ("redis+sentinel://s1/herald/0/1", "service_name"),
        ("redis+sentinel://s1/herald/zero", "not a number"),
        ("redis+sentinel://s1:port/herald", "bad Sentinel port"),
        ("redis+sentinel://s1:70000/herald", "bad Sentinel port"),
        ("redis+sentinel://s1,,s2/herald", "empty"),
        ("redis+sentinel://[fd00::1/herald", "bad Sentinel address"),
        ("redis+sentinel://s1/herald?master=x", "unknown option 'master'"),
        ("sentinel://s1:26379/herald", "unknown scheme 'sentinel'"),
        ("127.0.0.1:6379", "unknown scheme"),
        ("redis://127.0.0.1:port/0", "Port could not be cast"),
    ],
)
def test_bad_urls_are_refused_at_start_up(url: str, error: str) -> None:
    with pytest.raises(ConfigError, match=f"HERALD_REDIS_URL: .*{error}"):
        load_settings({"HERALD_REDIS_URL": url}, env_file=Path("/nonexistent"))


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "rediss://:pw@redis.internal:6380/1",
        "unix:///run/redis/redis.sock?db=3",
        "redis+sentinel://s1:26379,s2:26379,s3:26379/herald",
    ],
)
def test_good_urls_are_kept_as_written(url: str) -> None:
    assert check_redis_url(url) == url
    assert load_settings({"HERALD_REDIS_URL": url}, env_file=Path("/nonexistent")).redis_url == url


def test_passwords_are_masked_in_settings_dumps() -> None:
    url = "redis+sentinel://app:hunter2@s1/herald?sentinel_password=swordfish&sentinel_username=w"
    assert (
        redacted(url)
        == "redis+sentinel://app:***@s1/herald?sentinel_password=***&sentinel_username=w"
    )
    assert redacted("redis://:hunter2@h:6379/0") == "redis://:***@h:6379/0"
    assert redacted("redis://h:6379/0") == "redis://h:6379/0"
    settings = load_settings({"HERALD_REDIS_URL": url}, env_file=Path("/nonexistent"))
    assert "hunter2" not in repr(settings) and "swordfish" not in repr(settings)
    assert settings.redis_url == url  # the clients still get the real one
