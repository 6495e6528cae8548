"""Address normalization is cached, and the cache never hides an invalid address."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError

from herald_service.services.intake.addresses import normalized_email


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
