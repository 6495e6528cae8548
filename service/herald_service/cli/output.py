"""What every ``herald`` command shares: printing a result, running one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
import msgspec

from herald_service.settings import Settings

T = TypeVar("T")


def emit(as_json: bool, payload: dict[str, Any], human: str) -> None:
    """Print ``payload`` as one line of JSON (``--json``), else the ``human`` text."""
    click.echo(msgspec.json.encode(payload).decode() if as_json else human)


def with_session(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(session)`` in one committed transaction."""
    from herald_service.storage.database import async_session_factory, make_async_engine

    async def run() -> T:
        engine = make_async_engine(settings.database_url)
        try:
            async with async_session_factory(engine).begin() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())
