"""Parsing MTA-STS policies and matching MX names (RFC 8461 §3.2, §4.1)."""

from __future__ import annotations

from herald_queue.mta_sts import parse_policy


def test_policy_fields_and_wildcards() -> None:
    policy = parse_policy(
        "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n"
        "max_age: 604800\r\n",
        "id1",
    )
    assert policy is not None and policy.enforced and policy.max_age == 604800
    assert policy.allows("MAIL.example.com.")
    assert policy.allows("mx1.example.net")
    assert not policy.allows("a.b.example.net")  # a wildcard covers one label only
    assert not policy.allows("example.net")


def test_invalid_policies_are_ignored() -> None:
    assert parse_policy("version: STSv2\nmode: enforce\nmx: a\nmax_age: 1\n", "x") is None
    assert parse_policy("version: STSv1\nmode: sometimes\nmx: a\nmax_age: 1\n", "x") is None
    assert parse_policy("version: STSv1\nmode: enforce\nmax_age: 1\n", "x") is None
    assert parse_policy("version: STSv1\nmode: enforce\nmx: a\nmax_age: soon\n", "x") is None
    testing = parse_policy("version: STSv1\nmode: testing\nmx: a\nmax_age: 99999999999\n", "x")
    assert testing is not None and not testing.enforced and testing.max_age == 31_557_600
