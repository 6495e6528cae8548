"""Address normalization is cached, and the cache never hides an invalid address."""

from __future__ import annotations

import re

import pytest
from email_validator import EmailNotValidError
from hypothesis import given, settings
from hypothesis import strategies as st

from herald_service.errors import Collector
from herald_service.mail.addresses import (
    check_address,
    normalized_email,
    special_use_problem,
)
from herald_service.messages.schemas import EmailAddress


def test_normalized_email_is_cached_and_converts_idn() -> None:
    normalized_email.cache_clear()
    assert normalized_email("user@bücher.example") == "user@xn--bcher-kva.example"
    assert normalized_email("user@bücher.example") == "user@xn--bcher-kva.example"
    info = normalized_email.cache_info()
    assert (info.hits, info.misses) == (1, 1)


@pytest.mark.parametrize("bad", ["no-at-sign", "a@b@c.example", "user@-bad-.example", "x@"])
def test_invalid_addresses_raise_every_time(bad: str) -> None:
    for _ in range(2):  # an exception is not cached as a result
        with pytest.raises(EmailNotValidError):
            normalized_email(bad)


NAME_ADDR_PARTS = st.sampled_from(
    ['"', "<", ">", "@", ",", ";", ":", "(", ")", "\\", " ", "=?utf-8?q?", "?=", "\r\n", "a", "ü"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(NAME_ADDR_PARTS | st.text(max_size=5), max_size=12).map("".join))
def test_any_address_string_is_refused_or_accepted_never_raised(value: str) -> None:
    errors = Collector()
    address = check_address(errors, "to[0]", EmailAddress(value))
    assert (address is None) == bool(errors.errors)
    if address is not None:  # what is accepted is one clean mailbox
        assert "\n" not in address.name and "\r" not in address.name and "@" not in address.name
        assert normalized_email(address.email) == address.email


def test_a_special_use_domain_has_one_refusal_for_addresses_and_domains() -> None:
    problem = special_use_problem("Mail.Acme.TEST.")
    assert (
        problem
        == "mail.acme.test is under .test, a special-use name that cannot be used with email"
    )
    with pytest.raises(EmailNotValidError, match=re.escape(problem)):
        normalized_email("app@mail.acme.test")
    assert special_use_problem("dev.herald.example") is None
