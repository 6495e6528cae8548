"""``herald stats``: an account's sending stats from the command line (what ``GET
/v1/stats`` answers; ``--json`` prints that document)."""

from __future__ import annotations

from typing import Any

import click
import msgspec

from herald_service.cli.output import emit, with_session
from herald_service.settings import get_settings
from herald_service.stats.schemas import StatsGroup, StatsReport
from herald_service.stats.service import GROUP_BY, read_stats, stats_range

_COLUMNS = "accepted  delivered  deferred  hard  soft  dropped  complained  delivery  bounce"


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _line(group: StatsGroup, width: int) -> str:
    c, r = group.counts, group.rates
    line = (
        f"{group.key:{width}}  {c.accepted_recipients:8}  {c.delivered:9}  {c.deferred:8}  "
        f"{c.bounced_hard:4}  {c.bounced_soft:4}  {c.dropped:7}  {c.complained:10}  "
        f"{_percent(r.delivery_rate):>8}  {_percent(r.bounce_rate):>6}"
    )
    if group.latency is not None and group.latency.p50 is not None:
        line += f"  p50 {group.latency.p50:g}s p90 {group.latency.p90:g}s"
    return line


def _table(report: StatsReport) -> str:
    width = max([len(g.key) for g in report.groups] + [len("total")])
    lines = [f"{report.group_by:{width}}  {_COLUMNS}"]
    lines += [_line(group, width) for group in report.groups]
    lines.append(_line(report.total, width))
    return "\n".join(lines)


@click.command()
@click.option("--account", "account_id", required=True)
@click.option("--from", "start", default=None, help="Start: a date or RFC 3339 timestamp.")
@click.option("--to", "end", default=None, help="End, exclusive (default: now).")
@click.option("--group-by", type=click.Choice(GROUP_BY), default="day", show_default=True)
@click.option("--domain", default=None, help="Only this sending domain.")
@click.option("--tag", default=None, help="Only messages with this tag.")
@click.option("--json", "as_json", is_flag=True)
def stats(
    account_id: str,
    start: str | None,
    end: str | None,
    group_by: str,
    domain: str | None,
    tag: str | None,
    as_json: bool,
) -> None:
    """Show an account's counts and rates per day, hour, sending domain or tag."""
    query = stats_range(account_id, start=start, end=end, group_by=group_by, domain=domain, tag=tag)
    report = with_session(get_settings(), lambda s: read_stats(s, query))
    payload: dict[str, Any] = msgspec.to_builtins(report)
    emit(as_json, payload, _table(report))
