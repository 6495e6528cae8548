"""API key tokens: recognisable, checksummed offline, with enough secret."""

from __future__ import annotations

import math
import re

from hypothesis import given
from hypothesis import strategies as st

from herald_service.security.tokens import new_token, parse_token


def test_token_shape_and_parts() -> None:
    key_id, token = new_token()
    assert re.fullmatch(r"hrld_[0-9a-z]{16}_[0-9A-Za-z]{38}", token)
    parsed = parse_token(token)
    assert parsed is not None
    assert parsed.key_id == key_id == "key_" + token[5:21]
    assert len(parsed.secret) == 32
    assert 32 * math.log2(62) >= 128  # secret entropy in bits


def test_tokens_are_unique() -> None:
    assert len({new_token()[1] for _ in range(1000)}) == 1000


@given(
    st.integers(min_value=5, max_value=58), st.characters(whitelist_categories=["Ll", "Lu", "Nd"])
)
def test_any_single_character_change_is_caught_offline(position: int, replacement: str) -> None:
    _, token = new_token()
    if position == 21 or token[position] == replacement or not replacement.isascii():
        return
    altered = token[:position] + replacement + token[position + 1 :]
    assert parse_token(altered) is None


def test_noise_is_refused() -> None:
    assert parse_token("") is None
    assert parse_token("hrld_") is None
    assert parse_token("Bearer hrld_x") is None
    _, token = new_token()
    assert parse_token(token + "x") is None
    assert parse_token(" " + token) is None
