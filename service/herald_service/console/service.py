"""Operator users and their account memberships: create, look up, list member accounts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.console.passwords import hash_password
from herald_service.core.ids import new_id
from herald_service.errors import Collector, Conflict, NotFound
from herald_service.storage.models import Account, User, UserAccount

ROLES = ("admin", "viewer")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


def normalise_email(email: str) -> str:
    """The form emails are stored and looked up in: trimmed, lower case."""
    return email.strip().lower()


def _check(email: str, password: str, role: str, account_ids: Sequence[str]) -> None:
    problems = Collector()
    local, at, domain = email.partition("@")
    if not (local and at and "." in domain) or len(email) > 320 or any(c.isspace() for c in email):
        problems.add("email", "an email address such as ops@example.com")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        problems.add(
            "password",
            f"between {MIN_PASSWORD_LENGTH} and {MAX_PASSWORD_LENGTH} characters",
        )
    if role not in ROLES:
        problems.add("role", "admin or viewer")
    if not account_ids:
        problems.add("account", "at least one account the user belongs to")
    problems.raise_if_any()


async def create_user(
    session: AsyncSession, email: str, password: str, role: str, account_ids: Sequence[str]
) -> User:
    """Create a user who is a member of ``account_ids``; every account must exist."""
    email = normalise_email(email)
    _check(email, password, role, account_ids)
    wanted = set(account_ids)
    found = set((await session.execute(select(Account.id).where(Account.id.in_(wanted)))).scalars())
    if missing := sorted(wanted - found):
        raise NotFound(f"no such account: {', '.join(missing)}")
    if await find_user(session, email) is not None:
        raise Conflict(f"a user with the email {email} exists already")
    user = User(id=new_id("user"), email=email, password_hash=hash_password(password), role=role)
    session.add(user)
    await session.flush()
    session.add_all(UserAccount(user_id=user.id, account_id=a) for a in sorted(wanted))
    await session.flush()
    return user


async def find_user(session: AsyncSession, email: str) -> User | None:
    """The user with ``email`` (compared in normalised form), if any."""
    query = select(User).where(func.lower(User.email) == normalise_email(email))
    return (await session.execute(query)).scalar_one_or_none()


async def find_account(session: AsyncSession, account_id: str) -> Account | None:
    """The account ``account_id``, if it exists."""
    return await session.get(Account, account_id)


async def member_accounts(session: AsyncSession, user_id: str) -> list[Account]:
    """The accounts ``user_id`` belongs to, by name."""
    query = (
        select(Account)
        .join(UserAccount, UserAccount.account_id == Account.id)
        .where(UserAccount.user_id == user_id)
        .order_by(Account.name, Account.id)
    )
    return list((await session.execute(query)).scalars())
