"""``/v1/domains``: sending domains, their DNS records, verification, DKIM rotation and
the tracking and unsubscribe defaults of their messages."""

from __future__ import annotations

from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from herald_service.api.auth import AuthenticatedController
from herald_service.api.context import ApiContext
from herald_service.api.http_semantics import OptionalBodyOperation
from herald_service.api.problems import problem_responses
from herald_service.domains.checks import verify_domain
from herald_service.domains.schemas import (
    CreateDomainRequest,
    DomainList,
    DomainOut,
    RotateDkimRequest,
    UpdateDomainRequest,
    domain_out,
)
from herald_service.domains.service import (
    add_domain,
    delete_domain,
    get_domain,
    list_domains,
    rotate_dkim_keys,
    update_domain_defaults,
)
from herald_service.keys.service import AuthContext
from herald_service.storage.types import utcnow


class DomainController(AuthenticatedController):
    """Add sending domains, publish their records, verify them and rotate DKIM keys."""

    path = "/v1/domains"
    tags = ["domains"]

    @post(
        "/",
        status_code=201,
        opt={"scope": "admin"},
        summary="Add a sending domain",
        response_description="The domain with the DNS records to publish",
        responses=problem_responses(400, 401, 403, 409, 422),
    )
    async def create(
        self,
        data: JSONBody[CreateDomainRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> DomainOut:
        """Create the domain with an RSA-2048 and an Ed25519 DKIM key."""
        async with herald.sessions.begin() as session:
            domain = await add_domain(
                session,
                herald.settings,
                auth.account_id,
                data.name,
                dkim_selector=data.dkim_selector,
                allow_subdomains=data.allow_subdomains,
            )
            return domain_out(domain, herald.settings)

    @get(
        "/",
        opt={"scope": "read"},
        summary="List sending domains",
        responses=problem_responses(401, 403),
    )
    async def list(
        self, auth: NamedDependency[AuthContext], herald: NamedDependency[ApiContext]
    ) -> DomainList:
        """Every domain of the account, oldest first."""
        async with herald.sessions() as session:
            domains = await list_domains(session, auth.account_id)
            return DomainList([domain_out(d, herald.settings) for d in domains])

    @get(
        "/{domain_id:str}",
        opt={"scope": "read"},
        summary="Get a sending domain",
        responses=problem_responses(401, 403, 404),
    )
    async def get(
        self,
        domain_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> DomainOut:
        """The domain, its records and the result of the last verification."""
        async with herald.sessions() as session:
            domain = await get_domain(session, auth.account_id, domain_id)
            return domain_out(domain, herald.settings)

    @patch(
        "/{domain_id:str}",
        opt={"scope": "admin"},
        summary="Change a domain's tracking, unsubscribe and IP pool defaults",
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def update(
        self,
        domain_id: FromPath[str],
        data: JSONBody[UpdateDomainRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> DomainOut:
        """Open tracking, click tracking and hosted one-click unsubscribe for the domain's
        messages that do not choose for themselves; a field left out stays as it is.

        This API process applies the change to its next send at once; other API and
        submission processes within five seconds (they cache a domain that long).
        """
        tracking = data.tracking
        async with herald.sessions.begin() as session:
            domain = await update_domain_defaults(
                session,
                auth.account_id,
                domain_id,
                opens=tracking.opens if tracking else None,
                clicks=tracking.clicks if tracking else None,
                unsubscribe=data.unsubscribe,
                tracking_host=tracking.host if tracking else None,
                ip_pool=data.ip_pool,
            )
            updated = domain_out(domain, herald.settings)
        herald.sending_domains.forget_domain(domain_id)
        return updated

    @delete(
        "/{domain_id:str}",
        status_code=204,
        opt={"scope": "admin"},
        summary="Delete a sending domain",
        responses=problem_responses(401, 403, 404),
    )
    async def remove(
        self,
        domain_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> None:
        """Stop sending from the domain and erase its private keys."""
        async with herald.sessions.begin() as session:
            await delete_domain(session, auth.account_id, domain_id)
        herald.sending_domains.forget(auth.account_id)

    @post(
        "/{domain_id:str}/verify",
        status_code=200,
        opt={"scope": "admin"},
        summary="Verify a domain's DNS records now",
        responses=problem_responses(401, 403, 404),
    )
    async def verify(
        self,
        domain_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> DomainOut:
        """Look every record up; per record ``verified``, ``missing`` or ``mismatch``."""
        async with herald.sessions.begin() as session:
            domain = await get_domain(session, auth.account_id, domain_id)
            await verify_domain(session, herald.settings, herald.resolver, domain, utcnow())
            verified = domain_out(domain, herald.settings)
        herald.sending_domains.forget(auth.account_id)
        return verified

    @post(
        "/{domain_id:str}/dkim/rotate",
        status_code=201,
        opt={"scope": "admin"},
        summary="Rotate the domain's DKIM keys",
        operation_class=OptionalBodyOperation,
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def rotate(
        self,
        domain_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
        data: JSONBody[RotateDkimRequest | None] = None,
    ) -> DomainOut:
        """New keys under a new selector, ``pending`` until their records verify."""
        async with herald.sessions.begin() as session:
            domain = await rotate_dkim_keys(
                session,
                herald.settings,
                auth.account_id,
                domain_id,
                data.dkim_selector if data else None,
            )
            rotated = domain_out(domain, herald.settings)
        herald.sending_domains.forget(auth.account_id)
        return rotated
