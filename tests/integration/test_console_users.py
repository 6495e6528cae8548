"""``herald users create``: operators with argon2id passwords and account memberships."""

from __future__ import annotations

import subprocess

from sqlalchemy import select

from herald_service.console.passwords import verify_password
from herald_service.storage.database import make_engine
from herald_service.storage.models import User, UserAccount
from support.harness import Herald
from support.processes import HERALD, child_env, herald_json

PASSWORD = "correct horse battery staple"


def run_herald(
    env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HERALD, *args],
        env=child_env(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_create_user_with_memberships(herald: Herald, settings_env: dict[str, str]) -> None:
    first = await herald.create_tenant("one.example")
    second = await herald.create_tenant("two.example")
    env = settings_env | {"HERALD_USER_PASSWORD": PASSWORD}
    created = herald_json(
        env,
        *("users", "create", "--email", " Ops@Example.COM ", "--role", "admin"),
        *("--account", first.account_id, "--account", second.account_id),
    )
    assert created["email"] == "ops@example.com"
    assert created["role"] == "admin"
    assert created["accounts"] == sorted([first.account_id, second.account_id])
    assert created["id"].startswith("user_")
    assert PASSWORD not in str(created)

    engine = make_engine(settings_env["HERALD_DATABASE_URL"])
    with engine.connect() as db:
        stored = db.execute(select(User.password_hash).where(User.id == created["id"])).scalar()
        members = set(
            db.execute(select(UserAccount.account_id).where(UserAccount.user_id == created["id"]))
            .scalars()
            .all()
        )
    engine.dispose()
    assert stored is not None and stored.startswith("$argon2id$")
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "!")
    assert members == {first.account_id, second.account_id}


async def test_password_prompted_and_refusals(herald: Herald, settings_env: dict[str, str]) -> None:
    tenant = await herald.create_tenant()
    base = ("users", "create", "--role", "viewer", "--account", tenant.account_id)
    prompted = run_herald(
        settings_env, *base, "--email", "v@example.com", "--json", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert prompted.returncode == 0, prompted.stderr
    assert '"role":"viewer"' in prompted.stdout

    again = run_herald(
        settings_env | {"HERALD_USER_PASSWORD": PASSWORD}, *base, "--email", "V@example.com"
    )
    assert again.returncode == 1
    assert "exists already" in again.stderr

    short = run_herald(
        settings_env | {"HERALD_USER_PASSWORD": "short"}, *base, "--email", "s@example.com"
    )
    assert short.returncode == 1
    assert "password: between 12" in short.stderr

    unknown = run_herald(
        settings_env | {"HERALD_USER_PASSWORD": PASSWORD},
        *("users", "create", "--role", "admin", "--email", "u@example.com"),
        *("--account", "acct_nope"),
    )
    assert unknown.returncode == 1
    assert "no such account: acct_nope" in unknown.stderr
    for result in (again, short, unknown):
        assert "Traceback" not in result.stderr
