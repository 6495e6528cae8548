"""``herald domains``: add sending domains, verify them, rotate their DKIM keys and set the
tracking and unsubscribe defaults of their messages.

The JSON output is the API's view of a domain
(:func:`~herald_service.domains.schemas.domain_out`); the text output lists each record
with its status, and what was found where it does not match.
"""

from __future__ import annotations

import getpass
from typing import Any

import click
import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.cli.output import emit, with_session
from herald_service.core.reputation import percent
from herald_service.core.states import RecordStatus
from herald_service.dns import make_resolver
from herald_service.domains.checks import verify_domain
from herald_service.domains.schemas import domain_out
from herald_service.domains.service import (
    add_domain,
    get_domain,
    rotate_dkim_keys,
    update_domain_defaults,
)
from herald_service.reputation.service import reputation_of, resume_domain, shown_status
from herald_service.settings import Settings, get_settings
from herald_service.storage.models import Domain
from herald_service.storage.types import utcnow


def _domain_payload(domain: Domain, settings: Settings) -> dict[str, Any]:
    payload: dict[str, Any] = msgspec.to_builtins(domain_out(domain, settings))
    return payload


_NOT_VERIFIED = (RecordStatus.MISSING, RecordStatus.MISMATCH, RecordStatus.ERROR)


def _domain_text(payload: dict[str, Any]) -> str:
    lines = [f"{payload['name']} ({payload['id']}): {payload['status']}"]
    for r in payload["records"]:
        need = "required" if r["required"] else "advised"
        lines.append(f"  [{r['status']:8}] {r['type']:4} {r['host']}  {r['value']}  ({need})")
        if r["status"] in _NOT_VERIFIED and r["detail"]:
            lines.append(f"             {r['detail']}; found: {r['found'] or 'nothing'}")
    return "\n".join(lines)


@click.group()
def domains() -> None:
    """Manage sending domains."""


@domains.command("add")
@click.option("--account", "account_id", required=True)
@click.argument("name")
@click.option("--selector", default=None, help="DKIM selector base (default: dated).")
@click.option("--allow-subdomains", is_flag=True, help="Allow From addresses in subdomains.")
@click.option("--json", "as_json", is_flag=True)
def domains_add(
    account_id: str, name: str, selector: str | None, allow_subdomains: bool, as_json: bool
) -> None:
    """Add a sending domain and print the DNS records to publish."""
    settings = get_settings()

    async def work(session: AsyncSession) -> dict[str, Any]:
        domain = await add_domain(
            session,
            settings,
            account_id,
            name,
            dkim_selector=selector,
            allow_subdomains=allow_subdomains,
        )
        return _domain_payload(domain, settings)

    payload = with_session(settings, work)
    emit(as_json, payload, "added " + _domain_text(payload))


@domains.command("verify")
@click.option("--account", "account_id", required=True)
@click.argument("domain_id")
@click.option("--json", "as_json", is_flag=True)
def domains_verify(account_id: str, domain_id: str, as_json: bool) -> None:
    """Look the domain's DNS records up now and print each record's status."""
    settings = get_settings()

    async def work(session: AsyncSession) -> dict[str, Any]:
        domain = await get_domain(session, account_id, domain_id)
        resolver = make_resolver(settings, cache=False)
        await verify_domain(session, settings, resolver, domain, utcnow())
        return _domain_payload(domain, settings)

    payload = with_session(settings, work)
    emit(as_json, payload, _domain_text(payload))


@domains.command("rotate")
@click.option("--account", "account_id", required=True)
@click.argument("domain_id")
@click.option("--selector", default=None, help="DKIM selector base (default: dated).")
@click.option("--json", "as_json", is_flag=True)
def domains_rotate(account_id: str, domain_id: str, selector: str | None, as_json: bool) -> None:
    """Create new DKIM keys (pending until their records verify) and print the records."""
    settings = get_settings()

    async def work(session: AsyncSession) -> dict[str, Any]:
        domain = await rotate_dkim_keys(session, settings, account_id, domain_id, selector)
        return _domain_payload(domain, settings)

    payload = with_session(settings, work)
    emit(as_json, payload, "rotating " + _domain_text(payload))


_SWITCH = click.Choice(["on", "off"])


def _switch(value: str | None) -> bool | None:
    return None if value is None else value == "on"


def _tracking_text(payload: dict[str, Any]) -> str:
    def state(on: bool) -> str:
        return "on" if on else "off"

    tracking = payload["tracking"]
    return (
        f"{payload['name']} ({payload['id']}): open tracking {state(tracking['opens'])}, "
        f"click tracking {state(tracking['clicks'])}, "
        f"one-click unsubscribe {state(payload['unsubscribe'])}, "
        f"tracking host {tracking.get('host') or 'none (HERALD_PUBLIC_URL)'}"
    )


@domains.command("tracking")
@click.option("--account", "account_id", required=True)
@click.argument("domain_id")
@click.option("--opens", type=_SWITCH, default=None, help="Track opens (a pixel).")
@click.option("--clicks", type=_SWITCH, default=None, help="Track clicks (links rewritten).")
@click.option(
    "--unsubscribe", type=_SWITCH, default=None, help="Hosted one-click unsubscribe (RFC 8058)."
)
@click.option(
    "--host", "host", type=_SWITCH, default=None, help="Own tracking host track.<domain>."
)
@click.option("--json", "as_json", is_flag=True)
def domains_tracking(
    account_id: str,
    domain_id: str,
    opens: str | None,
    clicks: str | None,
    unsubscribe: str | None,
    host: str | None,
    as_json: bool,
) -> None:
    """Show or set the defaults of the domain's messages: open and click tracking and
    one-click unsubscribe (a message's own settings override them). Without options it
    only shows them. Running API processes apply a change within five seconds."""
    settings = get_settings()
    changes: dict[str, Any] = {"opens": _switch(opens), "clicks": _switch(clicks)}
    changes["unsubscribe"] = _switch(unsubscribe)
    changes["tracking_host"] = _switch(host)

    async def work(session: AsyncSession) -> dict[str, Any]:
        domain = await update_domain_defaults(session, account_id, domain_id, **changes)
        return _domain_payload(domain, settings)

    payload = with_session(settings, work)
    emit(as_json, payload, _tracking_text(payload))


def _reputation_text(report: dict[str, Any]) -> str:
    lines = [f"{report['domain']} ({report['domain_id']}): {report['status']}, {report['level']}"]
    if report["pause_reason"]:
        lines.append(f"  paused at {report['paused_at']}: {report['pause_reason']}")
    for w in report["windows"]:
        bounce = "-" if w["bounce_rate"] is None else percent(w["bounce_rate"])
        complaint = "-" if w["complaint_rate"] is None else percent(w["complaint_rate"])
        lines.append(
            f"  {w['window']:>12}: {w['volume']} with an outcome, bounce rate {bounce}, "
            f"complaint rate {complaint}"
        )
    t = report["thresholds"]
    lines.append(
        f"  thresholds: bounces warn {percent(t['bounce_warn'])} / pause "
        f"{percent(t['bounce_pause'])}, complaints warn {percent(t['complaint_warn'])} / "
        f"pause {percent(t['complaint_pause'])}, from {t['min_volume']} recipients"
    )
    lines.extend(f"  {e['at']} {e['type']} by {e['actor']}" for e in report["events"])
    return "\n".join(lines)


@domains.command("reputation")
@click.option("--account", "account_id", required=True)
@click.argument("domain_id")
@click.option("--json", "as_json", is_flag=True)
def domains_reputation(account_id: str, domain_id: str, as_json: bool) -> None:
    """Show the domain's bounce and complaint rates (24 h, 7 d), the thresholds, whether
    it is paused and why, and its latest warnings, pauses and resumes."""
    settings = get_settings()

    async def work(session: AsyncSession) -> dict[str, Any]:
        domain = await get_domain(session, account_id, domain_id)
        report: dict[str, Any] = msgspec.to_builtins(await reputation_of(session, settings, domain))
        return report

    payload = with_session(settings, work)
    emit(as_json, payload, _reputation_text(payload))


@domains.command("resume")
@click.option("--account", "account_id", required=True)
@click.argument("domain_id")
@click.option("--json", "as_json", is_flag=True)
def domains_resume(account_id: str, domain_id: str, as_json: bool) -> None:
    """Resume a domain the reputation guard paused: sends are accepted again (running API
    processes within five seconds) and its held mail is queued. Recorded as a
    ``domain.resumed`` event naming the operator."""
    settings = get_settings()
    actor = f"command line ({getpass.getuser()})"

    async def work(session: AsyncSession) -> dict[str, Any]:
        domain = await get_domain(session, account_id, domain_id)
        released = await resume_domain(session, domain, actor)
        return {
            "domain_id": domain.id,
            "domain": domain.name,
            "status": shown_status(domain),
            "released": released,
        }

    payload = with_session(settings, work)
    emit(
        as_json,
        payload,
        f"resumed {payload['domain']} ({payload['domain_id']}): "
        f"{payload['released']} held recipient(s) queued",
    )
