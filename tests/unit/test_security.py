"""API key tokens, hashing, secrets at rest and log masking."""

from __future__ import annotations

import logging

import pytest
from argon2 import PasswordHasher, extract_parameters

from herald_service.logs import SecretMaskingFilter, mask_secrets
from herald_service.security import secretbox
from herald_service.security.hashing import hash_secret, verify_secret
from herald_service.security.tokens import new_token, parse_token


def test_token_round_trip_and_checksum() -> None:
    key_id, token = new_token()
    parsed = parse_token(token)
    assert parsed is not None
    assert parsed.key_id == key_id
    assert token.startswith("hrld_")
    tampered = token[:-7] + ("A" if token[-7] != "A" else "B") + token[-6:]
    assert parse_token(tampered) is None
    assert parse_token("hrld_short") is None
    assert parse_token("") is None


def test_tokens_are_distinct() -> None:
    assert len({new_token()[1] for _ in range(200)}) == 200


def test_argon2_hash_verifies_only_its_secret() -> None:
    stored = hash_secret("s3cret")
    assert stored.startswith("$argon2id$")
    assert verify_secret(stored, "s3cret")
    assert not verify_secret(stored, "other")
    assert not verify_secret("not a hash", "s3cret")


def test_argon2_parameters_are_light_and_old_hashes_still_verify() -> None:
    params = extract_parameters(hash_secret("s3cret"))
    assert (params.memory_cost, params.time_cost, params.parallelism) == (7168, 5, 1)
    # Keys hashed with argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes) keep working.
    old = PasswordHasher().hash("s3cret")
    assert extract_parameters(old).memory_cost == 65536
    assert verify_secret(old, "s3cret")
    assert not verify_secret(old, "other")


def test_secretbox_round_trip_and_wrong_key() -> None:
    sealed = secretbox.encrypt("key-one", b"private key")
    assert b"private key" not in sealed
    assert secretbox.decrypt("key-one", sealed) == b"private key"
    with pytest.raises(secretbox.SecretDecryptionError):
        secretbox.decrypt("key-two", sealed)


def test_logs_never_show_key_secrets(caplog: pytest.LogCaptureFixture) -> None:
    _, token = new_token()
    assert token not in mask_secrets(f"got {token}")
    logger = logging.getLogger("herald.test")
    logger.addFilter(SecretMaskingFilter())
    with caplog.at_level(logging.INFO, logger="herald.test"):
        logger.info("presented %s", token)
    assert token not in caplog.text
    assert "hrld_" in caplog.text
