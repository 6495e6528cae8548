"""Operator passwords: argon2id, and an unknown user never verifies (not even the dummy)."""

from __future__ import annotations

from herald_service.console.passwords import hash_password, verify_password


def test_hash_verifies_only_its_password() -> None:
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert stored != hash_password("correct horse battery staple")  # salted
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "correct horse battery stapl")
    assert not verify_password("not a hash", "correct horse battery staple")


def test_no_user_never_verifies() -> None:
    # The dummy hash's own password must not sign in a user who does not exist.
    assert not verify_password(None, "not a password of anyone")
    assert not verify_password(None, "")
