"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from sqlalchemy import text

from herald_service.api.context import ApiContext


@get("/healthz", summary="Liveness", tags=["operations"])
async def healthz() -> dict[str, str]:
    """The process is up and serving requests."""
    return {"status": "ok"}


@get(
    "/readyz",
    summary="Readiness",
    tags=["operations"],
    responses={
        503: ResponseSpec(
            dict[str, str], description="The database or Redis is down", generate_examples=False
        )
    },
)
async def readyz(herald: NamedDependency[ApiContext]) -> Response[dict[str, str]]:
    """Ready when the database and Redis both answer."""
    checks: dict[str, str] = {}
    try:
        async with herald.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await asyncio.to_thread(herald.redis.ping)
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return Response(
        {"status": "ok" if ready else "unavailable", **checks}, status_code=200 if ready else 503
    )
