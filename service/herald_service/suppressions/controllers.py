"""``/v1/suppressions``: the addresses an account will not send to."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from herald_service.api.auth import AuthenticatedController
from herald_service.api.context import ApiContext
from herald_service.api.problems import problem_responses
from herald_service.keys.service import AuthContext
from herald_service.suppressions.schemas import (
    AddSuppressionRequest,
    SuppressionOut,
    SuppressionPage,
    suppression_out,
)
from herald_service.suppressions.service import (
    MAX_PAGE,
    REASONS,
    add_suppression,
    checked_email,
    checked_reason,
    get_suppression,
    list_suppressions,
    remove_suppression,
)


class SuppressionController(AuthenticatedController):
    """List, add and remove suppressed addresses."""

    path = "/v1/suppressions"
    tags = ["suppressions"]

    @get(
        "/",
        opt={"scope": "read"},
        summary="List suppressions",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def index(
        self,
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
        reason: Annotated[
            str | None,
            QueryParameter(description="Only this reason.", schema_extra={"enum": list(REASONS)}),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 100,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> SuppressionPage:
        """Suppressed addresses, newest first, optionally only those with one ``reason``."""
        if reason is not None:
            checked_reason("reason", reason)
        async with herald.sessions() as session:
            rows, next_cursor = await list_suppressions(
                session, auth.account_id, reason=reason, limit=limit, cursor=cursor
            )
        return SuppressionPage([suppression_out(r) for r in rows], next_cursor)

    @post(
        "/",
        status_code=201,
        opt={"scope": "admin"},
        summary="Suppress an address",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def add(
        self,
        data: JSONBody[AddSuppressionRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> SuppressionOut:
        """Add an address to the list (adding one already there returns the entry)."""
        email = checked_email("email", data.email)
        reason = checked_reason("reason", data.reason)
        async with herald.sessions.begin() as session:
            row, _ = await add_suppression(
                session, auth.account_id, email, reason, detail=data.detail
            )
        return suppression_out(row)

    @get(
        "/{email:str}",
        opt={"scope": "read"},
        summary="Get a suppression",
        responses=problem_responses(400, 401, 403, 404),
    )
    async def get(
        self,
        email: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> SuppressionOut:
        """Whether (and why) an address is suppressed."""
        async with herald.sessions() as session:
            row = await get_suppression(session, auth.account_id, email)
        assert row is not None
        return suppression_out(row)

    @delete(
        "/{email:str}",
        opt={"scope": "admin"},
        summary="Remove a suppression",
        responses=problem_responses(400, 401, 403, 404),
    )
    async def remove(
        self,
        email: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> None:
        """Allow sending to an address again."""
        async with herald.sessions.begin() as session:
            await remove_suppression(session, auth.account_id, email)
