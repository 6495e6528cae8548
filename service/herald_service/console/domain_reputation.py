"""A domain's reputation on its console page, and "Resume sending".

The page shows what ``GET /v1/domains/{id}/reputation`` answers: the pause and its reason
first (a paused domain's sends are refused and its queued mail held, so that is what an
operator came for), each window's rates beside the warn and pause thresholds they are
judged against, and the latest domain events with who or what caused them.

Resuming is a change, so only admins may post it (``check_request``); it runs the same
use case as ``POST /v1/domains/{id}/resume``, recorded as ``console user <email>``, and
then tells this process's sending-domain cache to forget the domain, as the API does,
so the next send from it is accepted at once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.console.message_page import shown_details
from herald_service.console.web import (
    ConsoleError,
    Operator,
    context_of,
    pick_account,
    provide_operator,
)
from herald_service.core.reputation import percent
from herald_service.domains.service import get_domain
from herald_service.errors import HeraldError, NotFound
from herald_service.reputation.service import held_count, reputation_of, resume_domain
from herald_service.settings import Settings
from herald_service.storage.models import Domain


def shown_rate(rate: float | None, warn: float, pause: float) -> dict[str, str]:
    """A rate as the page shows it, with the level it reaches (the row's colour)."""
    if rate is None:
        return {"text": "—", "level": "none"}
    level = "pause" if rate >= pause else "warn" if rate >= warn else "ok"
    return {"text": percent(rate), "level": level}


_BULKY = frozenset({"windows", "thresholds", "baseline"})


def _brief(details: dict[str, Any]) -> dict[str, Any]:
    """An event's details without the figures the tables above already show."""
    return {key: value for key, value in details.items() if key not in _BULKY}


async def reputation_view(db: AsyncSession, settings: Settings, domain: Domain) -> dict[str, Any]:
    """What the reputation section of a domain's page needs."""
    report = await reputation_of(db, settings, domain)
    limits = report["thresholds"]
    held_recipients, held_messages = await held_count(db, domain.id)
    windows = [
        {
            "name": w["window"],
            "volume": w["volume"],
            "delivered": w["delivered"],
            "bounced": w["bounced_hard"],
            "complained": w["complained"],
            "judged": w["volume"] >= limits["min_volume"],
            "bounce": shown_rate(w["bounce_rate"], limits["bounce_warn"], limits["bounce_pause"]),
            "complaint": shown_rate(
                w["complaint_rate"], limits["complaint_warn"], limits["complaint_pause"]
            ),
        }
        for w in report["windows"]
    ]
    thresholds = {
        "min_volume": limits["min_volume"],
        "bounce_warn": percent(limits["bounce_warn"]),
        "bounce_pause": percent(limits["bounce_pause"]),
        "complaint_warn": percent(limits["complaint_warn"]),
        "complaint_pause": percent(limits["complaint_pause"]),
    }
    events = [
        {**event, "shown": shown_details(_brief(event["details"]))} for event in report["events"]
    ]
    return {
        "status": report["status"],
        "level": report["level"],
        "reasons": report["reasons"],
        "paused_at": report["paused_at"],
        "pause_reason": report["pause_reason"],
        "windows": windows,
        "thresholds": thresholds,
        "events": events,
        "held_recipients": held_recipients,
        "held_messages": held_messages,
    }


class DomainReputationController(Controller):
    """``POST /console/domains/{id}/resume``."""

    path = "/domains"
    dependencies = {"operator": Provide(provide_operator)}

    @post("/{domain_id:str}/resume", status_code=303)
    async def resume(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        domain_id: FromPath[str],
    ) -> Redirect:
        """Accept the domain's sends again and release its held mail (admins only); 409
        when it is not paused, 404 for a domain of another account."""
        form = await request.form()
        account = pick_account(operator, str(form.get("account") or "") or None)
        if account is None:
            raise ConsoleError(404, "No such domain.")
        context = context_of(request)
        try:
            async with context.sessions.begin() as db:
                domain = await get_domain(db, account.id, domain_id)
                released = await resume_domain(db, domain, f"console user {operator.email}")
        except NotFound:
            raise ConsoleError(404, "No such domain.") from None
        except HeraldError as exc:
            raise ConsoleError(exc.status, exc.detail) from None
        context.sending_domains.forget_domain(domain_id)
        query = urlencode({"account": account.id, "done": "resumed", "released": released})
        return Redirect(path=f"/console/domains/{domain_id}?{query}", status_code=303)
