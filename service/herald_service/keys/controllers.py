"""``/v1/api-keys``: create (the key is shown once), list, read, update and revoke keys."""

from __future__ import annotations

from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from herald_service.api.auth import AuthenticatedController
from herald_service.api.context import ApiContext
from herald_service.api.problems import problem_responses
from herald_service.core.key_grants import Grantor, KeyLimits
from herald_service.keys.schemas import (
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyOut,
    CreateApiKeyRequest,
    UpdateApiKeyRequest,
    api_key_created,
    api_key_out,
)
from herald_service.keys.service import (
    AuthContext,
    create_api_key,
    get_api_key,
    list_api_keys,
    revoke_api_key,
    update_api_key,
)


def grantor(auth: AuthContext, herald: ApiContext) -> Grantor:
    """The calling key as the bound of the keys it creates, changes or revokes."""
    settings = herald.settings
    defaults = KeyLimits(
        requests_per_second=settings.quota_requests_per_second,
        burst=settings.quota_burst,
        daily_recipients=settings.quota_daily_recipients_per_key,
    )
    return Grantor(auth.grant(), defaults)


class ApiKeyController(AuthenticatedController):
    """Manage the account's API keys (``admin`` scope)."""

    path = "/v1/api-keys"
    tags = ["api-keys"]

    @post(
        "/",
        status_code=201,
        opt={"scope": "admin"},
        summary="Create an API key",
        response_description="The new key; `key` is shown this once and never again",
        responses=problem_responses(400, 401, 403, 422, 429),
    )
    async def create(
        self,
        data: JSONBody[CreateApiKeyRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> ApiKeyCreated:
        """Create a key with scopes, optional sending-domain restriction and quotas.

        The new key may not exceed the calling key: only its scopes, only its domains
        (or some of them), quotas no higher than its own (403 naming each field beyond).
        A quota left unset takes the calling key's own override, if it has one.
        """
        async with herald.sessions.begin() as session:
            key, token = await create_api_key(
                session,
                auth.account_id,
                data.scopes,
                data.name,
                domains=data.domains,
                limits=data.quotas.limits() if data.quotas else None,
                grantor=grantor(auth, herald),
            )
            return api_key_created(key, token)

    @get(
        "/",
        opt={"scope": "admin"},
        summary="List API keys",
        responses=problem_responses(401, 403, 429),
    )
    async def list_keys(
        self, auth: NamedDependency[AuthContext], herald: NamedDependency[ApiContext]
    ) -> ApiKeyList:
        """Every key of the account, revoked ones included; secrets are never shown."""
        async with herald.sessions() as session:
            keys = await list_api_keys(session, auth.account_id)
        return ApiKeyList(data=[api_key_out(k) for k in keys])

    @get(
        "/{key_id:str}",
        opt={"scope": "admin"},
        summary="Get an API key",
        responses=problem_responses(401, 403, 404, 429),
    )
    async def get_key(
        self,
        key_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> ApiKeyOut:
        """One key of the account, without its secret."""
        async with herald.sessions() as session:
            return api_key_out(await get_api_key(session, auth.account_id, key_id))

    @patch(
        "/{key_id:str}",
        opt={"scope": "admin"},
        summary="Update an API key",
        responses=problem_responses(400, 401, 403, 404, 422, 429),
    )
    async def update(
        self,
        key_id: FromPath[str],
        data: JSONBody[UpdateApiKeyRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> ApiKeyOut:
        """Rename a key or replace its quota overrides; applies within five seconds.

        A key may change only keys within its own grant (itself included) and set quotas
        no higher than its own; an unset quota takes the calling key's own override.
        """
        async with herald.sessions.begin() as session:
            key = await update_api_key(
                session,
                auth.account_id,
                key_id,
                name=data.name,
                limits=data.quotas.limits() if data.quotas else None,
                grantor=grantor(auth, herald),
            )
            return api_key_out(key)

    @delete(
        "/{key_id:str}",
        opt={"scope": "admin"},
        summary="Revoke an API key",
        responses=problem_responses(401, 403, 404, 429),
    )
    async def revoke(
        self,
        key_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> None:
        """Revoke a key: every API process refuses it within five seconds.

        A key may revoke only keys within its own grant (itself included).
        """
        async with herald.sessions.begin() as session:
            await revoke_api_key(session, auth.account_id, key_id, grantor(auth, herald))
