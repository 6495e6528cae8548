"""Pure webhook logic: address classes, Standard Webhooks signatures, Retry-After, settings."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from herald_service.core.addresses import parse_networks, refusal
from herald_service.core.webhook_policy import retry_after_seconds
from herald_service.core.webhooks import new_secret, signature, signature_header
from herald_service.security.ssrf import UnsafeTarget, check_url_syntax
from herald_service.settings import ConfigError, load_settings


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.0.10", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.254", "CGNAT"),
        ("224.0.0.251", "multicast"),
        ("239.255.255.250", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("255.255.255.255", ""),
        ("240.0.0.1", ""),
        ("192.0.2.1", ""),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("::ffff:10.0.0.1", "10.0.0.1"),
        ("::ffff:169.254.169.254", "169.254.169.254"),
        ("::127.0.0.1", "127.0.0.1"),
        ("2002:7f00:1::1", "loopback"),
        ("2002:a9fe:a9fe::1", "link-local"),
        ("64:ff9b::a00:1", "10.0.0.1"),
        ("2001:db8::1", ""),
    ],
)
def test_forbidden_addresses_are_refused(address: str, reason: str) -> None:
    why = refusal(ipaddress.ip_address(address))
    assert why is not None
    assert reason in why


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_allowed_networks_override_including_mapped_forms() -> None:
    allowed = parse_networks(["127.0.0.0/8", "10.1.0.0/16"])
    assert refusal(ipaddress.ip_address("127.0.0.5"), allowed) is None
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allowed) is None
    assert refusal(ipaddress.ip_address("10.1.2.3"), allowed) is None
    assert refusal(ipaddress.ip_address("10.2.0.1"), allowed) is not None
    assert refusal(ipaddress.ip_address("::1"), allowed) is not None


def test_signatures_verify_with_the_standard_webhooks_library() -> None:
    old, new = new_secret(), new_secret()
    assert old.startswith("whsec_") and old != new
    body = b'{"type":"message.delivered","data":{"id":"evt_1"}}'
    now = datetime.now(UTC)
    timestamp = int(now.timestamp())
    header = signature_header([new, old], "evt_1", timestamp, body)
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": header,
    }
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers)["data"]["id"] == "evt_1"
        assert signature(secret, "evt_1", timestamp, body) == Webhook(secret).sign(
            "evt_1", now, body.decode()
        )
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(new_secret()).verify(body, headers)


def test_retry_after_seconds_and_dates() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds(format_datetime(now + timedelta(minutes=3), usegmt=True), now) == 180
    assert retry_after_seconds("999999999", now) == 24 * 3600
    assert retry_after_seconds("-5", now) == 0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


@pytest.mark.parametrize(
    "url",
    ["ftp://x.example/", "http://", "https://u:p@x.example/", "http://x.example/a b", "x" * 3000],
)
def test_url_syntax_is_checked(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        check_url_syntax(url)


def test_url_syntax_gives_scheme_host_and_port() -> None:
    assert check_url_syntax("https://Hooks.Example/x") == ("https", "hooks.example", 443)
    assert check_url_syntax("http://[::1]:8080/x") == ("http", "::1", 8080)


def test_webhook_settings_parse_and_validate() -> None:
    settings = load_settings(
        {
            "HERALD_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/8, ::1",
            "HERALD_WEBHOOK_RETRY_SCHEDULE": "1s,2m",
            "HERALD_WEBHOOK_DISABLE_AFTER": "3d",
        },
        env_file=Path("/nonexistent"),
    )
    assert settings.webhook_allow_networks == ("127.0.0.0/8", "::1/128")
    assert settings.webhook_retry_schedule == (1.0, 120.0)
    assert settings.webhook_disable_after == 3 * 86400
    default = load_settings({}, env_file=Path("/nonexistent"))
    assert sum(default.webhook_retry_schedule) >= 24 * 3600
    assert default.webhook_timeout == 15
    with pytest.raises(ConfigError, match="WEBHOOK_ALLOW_NETWORKS"):
        load_settings({"HERALD_WEBHOOK_ALLOW_NETWORKS": "not-a-net"}, env_file=Path("/nonexistent"))
