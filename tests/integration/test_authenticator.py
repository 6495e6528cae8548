"""The Authenticator: argon2 once per token, shared by concurrent first uses; refusals cheap."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.accounts.service import create_account
from herald_service.errors import Unauthorized
from herald_service.keys import service as api_keys
from herald_service.keys.service import Authenticator, create_api_key
from herald_service.security import hashing
from herald_service.storage.database import async_session_factory, make_async_engine
from support.clock import FakeClock
from support.tokens import with_unknown_key_id, with_wrong_secret


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_async_engine(database_url)
    yield async_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts argon2 verifications (the real function still runs)."""
    calls: list[str] = []

    def counted(stored_hash: str, secret: str) -> bool:
        calls.append(secret)
        return hashing.verify_secret(stored_hash, secret)

    monkeypatch.setattr(api_keys, "verify_secret", counted)
    return calls


async def test_argon2_runs_once_per_token(
    sessions: async_sessionmaker[AsyncSession], argon2_calls: list[str]
) -> None:
    async with sessions.begin() as session:
        account = await create_account(session, "acme")
        key, token = await create_api_key(session, account.id, ["send"])
    clock = FakeClock()
    auth = Authenticator(sessions, b"pepper", clock=clock, failure_floor=0.05)
    contexts = await asyncio.gather(*(auth.authenticate(token) for _ in range(20)))
    assert {c.key_id for c in contexts} == {key.id}
    assert len(argon2_calls) == 1  # concurrent first uses shared one verification
    for _ in range(100):
        await auth.authenticate(token)
    clock.advance(6)  # the periodic re-check reads the row, without argon2
    await auth.authenticate(token)
    assert len(argon2_calls) == 1

    bad_checksum = token[:-1] + ("a" if token[-1] != "a" else "b")
    refusals = {
        "garbage": "hrld_nope",
        "empty": None,
        "bad checksum": bad_checksum,
        "unknown key id": with_unknown_key_id(token),
    }
    for name, presented in refusals.items():
        started = time.monotonic()
        with pytest.raises(Unauthorized):
            await auth.authenticate(presented)
        assert time.monotonic() - started >= 0.05, name
    assert len(argon2_calls) == 1  # none of these reached argon2
    with pytest.raises(Unauthorized):
        await auth.authenticate(with_wrong_secret(token))
    assert len(argon2_calls) == 2  # a real key id with a wrong secret is verified
