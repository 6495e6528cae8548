"""Console users and signed-in clients for tests."""

from __future__ import annotations

import re
from typing import Any

from herald_service.console.service import create_user
from herald_service.storage.database import async_session_factory, make_async_engine

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def add_user(database_url: str, email: str, role: str, *account_ids: str) -> str:
    """Create a console user with :data:`PASSWORD`; return the user's id."""
    engine = make_async_engine(database_url)
    try:
        async with async_session_factory(engine).begin() as session:
            user = await create_user(session, email, PASSWORD, role, account_ids)
            return user.id
    finally:
        await engine.dispose()


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found is not None, "no csrf_token field on the page"
    return found.group(1)


async def sign_in(client: Any, email: str, password: str = PASSWORD, **extra: str) -> Any:
    """Fetch the sign-in form and post it; return the POST's response."""
    form = await client.get("/console/sign-in")
    assert form.status_code == 200, form.text
    data = {"email": email, "password": password, "csrf_token": csrf_of(form.text), **extra}
    return await client.post("/console/sign-in", data=data)
