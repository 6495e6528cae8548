"""``/v1/domains/{id}/reputation`` and ``/v1/domains/{id}/resume``."""

from __future__ import annotations

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from herald_service.api.auth import AuthenticatedController
from herald_service.api.context import ApiContext
from herald_service.api.problems import problem_responses
from herald_service.domains.service import get_domain
from herald_service.keys.service import AuthContext
from herald_service.reputation.schemas import DomainReputation, ResumeResult
from herald_service.reputation.service import reputation_of, resume_domain, shown_status


class ReputationController(AuthenticatedController):
    """A domain's bounce and complaint rates against the guard's thresholds; resume."""

    path = "/v1/domains"
    tags = ["domains"]

    @get(
        "/{domain_id:str}/reputation",
        opt={"scope": "read"},
        summary="Get a domain's reputation",
        responses=problem_responses(401, 403, 404),
    )
    async def reputation(
        self,
        domain_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> DomainReputation:
        """Its rolling 24 h and 7 d bounce and complaint rates, the thresholds they are
        judged against, whether it is paused and why, and its latest domain events."""
        async with herald.sessions() as session:
            domain = await get_domain(session, auth.account_id, domain_id)
            report = await reputation_of(session, herald.settings, domain)
        return msgspec.convert(report, DomainReputation, from_attributes=True)

    @post(
        "/{domain_id:str}/resume",
        status_code=200,
        opt={"scope": "admin"},
        summary="Resume a paused domain",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def resume(
        self,
        domain_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> ResumeResult:
        """Accept sends from the domain again and queue its held mail; recorded as a
        ``domain.resumed`` event naming the key. 409 when it is not paused."""
        async with herald.sessions.begin() as session:
            domain = await get_domain(session, auth.account_id, domain_id)
            released = await resume_domain(session, domain, f"api key {auth.key_id}")
            result = ResumeResult(domain.id, domain.name, shown_status(domain), released)
        herald.sending_domains.forget_domain(domain_id)
        return result
