"""``/v1/ip-pools`` and ``/v1/sending-ips``: the sending IPs, their pools and warm-up.

Any admin key may read them (to choose a pool for a domain or a message). They are
server-wide, so changing them is the operator's act: an admin key of an account named in
``HERALD_OPERATOR_ACCOUNTS``; any other key gets 403.
"""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter

from herald_service.api.auth import AuthenticatedController
from herald_service.api.context import ApiContext
from herald_service.api.problems import problem_responses
from herald_service.errors import Forbidden, NotFound
from herald_service.ip_pools.schemas import (
    CreateIpPoolRequest,
    IpPoolList,
    IpPoolOut,
    SendingIpOut,
    UpdateIpPoolRequest,
    UpdateSendingIpRequest,
    ip_pool_out,
    sending_ip_out,
)
from herald_service.ip_pools.service import (
    create_pool,
    delete_pool,
    get_pool,
    is_operator,
    list_pools,
    set_pool_ips,
    set_warmup,
)
from herald_service.keys.service import AuthContext

NOT_OPERATOR = (
    "sending IPs and pools are shared by every account: only an admin key of an operator "
    "account (HERALD_OPERATOR_ACCOUNTS) may change them"
)
PoolPath = Annotated[str, PathParameter(min_length=1, max_length=63)]
AddressPath = Annotated[str, PathParameter(min_length=2, max_length=45)]


def require_operator(auth: AuthContext, herald: ApiContext) -> None:
    """Refuse (403) a key whose account is not an operator account."""
    if not is_operator(herald.settings, auth.account_id):
        raise Forbidden(NOT_OPERATOR)


class IpPoolController(AuthenticatedController):
    """IP pools: list, create, set their IPs, delete."""

    path = "/v1/ip-pools"
    tags = ["ip-pools"]

    @get(
        "/",
        opt={"scope": "admin"},
        summary="List IP pools",
        responses=problem_responses(401, 403, 429),
    )
    async def list(self, herald: NamedDependency[ApiContext]) -> IpPoolList:
        """Every pool with its IPs and their warm-up today: day n of the schedule, today's
        cap and how many recipients each took so far (UTC day)."""
        async with herald.sessions() as session:
            pools = await list_pools(session, herald.settings)
        return IpPoolList([ip_pool_out(p) for p in pools])

    @get(
        "/{name:str}",
        opt={"scope": "admin"},
        summary="Get an IP pool",
        responses=problem_responses(400, 401, 403, 404, 429),
    )
    async def show(self, name: PoolPath, herald: NamedDependency[ApiContext]) -> IpPoolOut:
        """One pool with its IPs."""
        async with herald.sessions() as session:
            return ip_pool_out(await get_pool(session, herald.settings, name))

    @post(
        "/",
        status_code=201,
        opt={"scope": "admin"},
        summary="Create an IP pool",
        responses=problem_responses(400, 401, 403, 409, 422, 429),
    )
    async def create(
        self,
        data: JSONBody[CreateIpPoolRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> IpPoolOut:
        """A new pool, holding ``ips`` (moved out of the pool they were in)."""
        require_operator(auth, herald)
        async with herald.sessions.begin() as session:
            pool = await create_pool(
                session, herald.settings, data.name, data.description, data.ips
            )
        return ip_pool_out(pool)

    @put(
        "/{name:str}/ips",
        opt={"scope": "admin"},
        summary="Set an IP pool's IPs",
        responses=problem_responses(400, 401, 403, 404, 422, 429),
    )
    async def set_ips(
        self,
        name: PoolPath,
        data: JSONBody[UpdateIpPoolRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> IpPoolOut:
        """The pool's IPs from now on; its other IPs go back to the default pool. Workers
        use the change within a few seconds."""
        require_operator(auth, herald)
        async with herald.sessions.begin() as session:
            pool = await set_pool_ips(session, herald.settings, name, data.ips)
        return ip_pool_out(pool)

    @delete(
        "/{name:str}",
        status_code=204,
        opt={"scope": "admin"},
        summary="Delete an IP pool",
        responses=problem_responses(400, 401, 403, 404, 429),
    )
    async def remove(
        self,
        name: PoolPath,
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> None:
        """Its IPs go back to the default pool; domains and messages that name it send
        from the default pool."""
        require_operator(auth, herald)
        async with herald.sessions.begin() as session:
            await delete_pool(session, name)


class SendingIpController(AuthenticatedController):
    """Sending IPs: their warm-up."""

    path = "/v1/sending-ips"
    tags = ["ip-pools"]

    @patch(
        "/{address:str}",
        opt={"scope": "admin"},
        summary="Start or stop a sending IP's warm-up",
        responses=problem_responses(400, 401, 403, 404, 422, 429),
    )
    async def update(
        self,
        address: AddressPath,
        data: JSONBody[UpdateSendingIpRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> SendingIpOut:
        """A warming IP takes at most its schedule's cap a day (``HERALD_WARMUP_SCHEDULE``);
        what its pool's warm IPs cannot take waits for the next day."""
        require_operator(auth, herald)
        if address not in herald.settings.sending_ips:
            raise NotFound(f"{address} is not one of HERALD_SENDING_IPS")
        async with herald.sessions.begin() as session:
            await set_warmup(
                session,
                herald.settings,
                address,
                warming=data.warming,
                started_on=data.warmup_started_on,
            )
            pools = await list_pools(session, herald.settings)
        return next(sending_ip_out(i) for p in pools for i in p.ips if i.address == address)
