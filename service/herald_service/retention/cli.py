"""``herald prune``: one retention round now, as the workers run every
``HERALD_RETENTION_INTERVAL`` (``--dry-run`` counts what it would prune)."""

from __future__ import annotations

import asyncio
from typing import Any

import click
import msgspec

from herald_service.cli.output import emit
from herald_service.core.retention import Kind
from herald_service.retention.schemas import KIND_LABELS, PruneReport
from herald_service.retention.service import prune as prune_round
from herald_service.settings import Settings, get_settings


def _run(settings: Settings, dry_run: bool) -> PruneReport:
    from herald_service.storage.database import async_session_factory, make_async_engine

    async def run() -> PruneReport:
        engine = make_async_engine(settings.database_url)
        try:
            return await prune_round(async_session_factory(engine), settings, dry_run=dry_run)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _table(report: PruneReport) -> str:
    verb = "would prune" if report.dry_run else "pruned"
    width = max(len(label) for label in KIND_LABELS.values())
    lines = [f"{'kind':{width}}  {verb:>11}  kept for"]
    for kind, count in report.pruned.items():
        lines.append(f"{KIND_LABELS[Kind(kind)]:{width}}  {count:11}  {report.kept_for[kind]}")
    lines.append(f"{'total':{width}}  {report.total:11}  ({report.batches} batches)")
    return "\n".join(lines)


@click.command()
@click.option("--dry-run", is_flag=True, help="Count what would be pruned; change nothing.")
@click.option("--json", "as_json", is_flag=True)
def prune(dry_run: bool, as_json: bool) -> None:
    """Prune data older than its HERALD_RETENTION_* age now, in small batches."""
    report = _run(get_settings(), dry_run)
    payload: dict[str, Any] = msgspec.to_builtins(report)
    payload["total"] = report.total
    emit(as_json, payload, _table(report))
