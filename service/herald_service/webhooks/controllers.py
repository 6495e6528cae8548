"""``/v1/webhooks``: endpoints, secret rotation, test events, deliveries and replays."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from herald_service.api.auth import AuthenticatedController
from herald_service.api.context import ApiContext
from herald_service.api.http_semantics import OptionalBodyOperation
from herald_service.api.problems import problem_responses
from herald_service.api.query_params import Cursor, PageSize
from herald_service.keys.service import AuthContext
from herald_service.webhooks import service as webhooks
from herald_service.webhooks.schemas import (
    CreateWebhookRequest,
    RotateSecretRequest,
    SecretOut,
    UpdateWebhookRequest,
    WebhookDeliveryList,
    WebhookDeliveryOut,
    WebhookList,
    WebhookOut,
    delivery_out,
    webhook_out,
)


class WebhookController(AuthenticatedController):
    """Webhook endpoints of the caller's account (admin scope)."""

    path = "/v1/webhooks"
    tags = ["webhooks"]
    opt = {"scope": "admin"}

    @post(
        "/",
        status_code=201,
        summary="Create a webhook endpoint",
        response_description="Created; `secret` is shown in this answer only",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def create_webhook(
        self,
        data: JSONBody[CreateWebhookRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> WebhookOut:
        """Register a URL for events; the URL must reach a public address."""
        async with herald.sessions.begin() as session:
            endpoint, secret = await webhooks.create_endpoint(
                session,
                herald.settings,
                herald.resolver,
                auth.account_id,
                url=data.url,
                event_types=data.event_types,
                description=data.description,
                enabled=data.enabled,
            )
        await herald.webhook_endpoints.changed(auth.account_id)
        return webhook_out(endpoint, secret)

    @get("/", summary="List webhook endpoints", responses=problem_responses(401, 403))
    async def list_webhooks(
        self, auth: NamedDependency[AuthContext], herald: NamedDependency[ApiContext]
    ) -> WebhookList:
        """Every endpoint of the account, with why it is disabled if it is."""
        async with herald.sessions() as session:
            endpoints = await webhooks.list_endpoints(session, auth.account_id)
        return WebhookList(data=[webhook_out(e) for e in endpoints])

    @get(
        "/{webhook_id:str}",
        summary="Get a webhook endpoint",
        responses=problem_responses(401, 403, 404),
    )
    async def get_webhook(
        self,
        webhook_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> WebhookOut:
        """One endpoint (its secret is never shown again)."""
        async with herald.sessions() as session:
            endpoint = await webhooks.get_endpoint(session, auth.account_id, webhook_id)
        return webhook_out(endpoint)

    @patch(
        "/{webhook_id:str}",
        summary="Change a webhook endpoint",
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def update_webhook(
        self,
        webhook_id: FromPath[str],
        data: JSONBody[UpdateWebhookRequest],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> WebhookOut:
        """Change URL, event types, description or the enabled flag."""
        async with herald.sessions.begin() as session:
            endpoint = await webhooks.get_endpoint(session, auth.account_id, webhook_id)
            await webhooks.update_endpoint(
                session,
                herald.settings,
                herald.resolver,
                endpoint,
                url=data.url,
                event_types=data.event_types,
                description=data.description,
                enabled=data.enabled,
            )
        await herald.webhook_endpoints.changed(auth.account_id)
        return webhook_out(endpoint)

    @delete(
        "/{webhook_id:str}",
        status_code=204,
        summary="Delete a webhook endpoint",
        responses=problem_responses(401, 403, 404),
    )
    async def delete_webhook(
        self,
        webhook_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> None:
        """Delete the endpoint and its delivery history."""
        async with herald.sessions.begin() as session:
            endpoint = await webhooks.get_endpoint(session, auth.account_id, webhook_id)
            await webhooks.delete_endpoint(session, endpoint)
        await herald.webhook_endpoints.changed(auth.account_id)

    @post(
        "/{webhook_id:str}/rotate-secret",
        status_code=200,
        summary="Rotate the signing secret",
        operation_class=OptionalBodyOperation,
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def rotate_webhook_secret(
        self,
        webhook_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
        data: JSONBody[RotateSecretRequest | None] = None,
    ) -> SecretOut:
        """A new secret; the old one keeps signing (both signatures sent) during the overlap."""
        overlap = herald.settings.webhook_secret_overlap
        if data is not None and data.overlap_seconds is not None:
            overlap = min(max(data.overlap_seconds, 0.0), 7 * 86400.0)
        async with herald.sessions.begin() as session:
            endpoint = await webhooks.get_endpoint(session, auth.account_id, webhook_id)
            secret = await webhooks.rotate_secret(session, herald.settings, endpoint, overlap)
        return SecretOut(
            secret=secret, previous_secret_expires_at=endpoint.previous_secret_expires_at
        )

    @post(
        "/{webhook_id:str}/test",
        status_code=202,
        summary="Send a test event",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def test_webhook(
        self,
        webhook_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> WebhookDeliveryOut:
        """Queue a signed ``webhook.test`` event; follow it in the deliveries list."""
        async with herald.sessions.begin() as session:
            endpoint = await webhooks.get_endpoint(session, auth.account_id, webhook_id)
            delivery = await webhooks.send_test(session, endpoint)
        return delivery_out(delivery)

    @get(
        "/{webhook_id:str}/deliveries",
        summary="List deliveries and their attempts",
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def list_deliveries(
        self,
        webhook_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
        status: Annotated[
            Literal["pending", "succeeded", "failed"] | None,
            QueryParameter(description="Only deliveries in this state."),
        ] = None,
        cursor: Cursor = None,
        limit: PageSize = 50,
    ) -> WebhookDeliveryList:
        """Every delivery to this endpoint, newest first, with every attempt."""
        async with herald.sessions() as session:
            endpoint = await webhooks.get_endpoint(session, auth.account_id, webhook_id)
            rows, next_cursor = await webhooks.list_deliveries(
                session, endpoint, status=status, cursor=cursor, limit=limit
            )
        return WebhookDeliveryList(data=[delivery_out(d) for d in rows], next_cursor=next_cursor)

    @post(
        "/{webhook_id:str}/deliveries/{delivery_id:str}/replay",
        status_code=202,
        summary="Replay a failed delivery",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def replay_delivery(
        self,
        webhook_id: FromPath[str],
        delivery_id: FromPath[str],
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
    ) -> WebhookDeliveryOut:
        """Send a failed delivery again, with a fresh retry schedule."""
        async with herald.sessions.begin() as session:
            endpoint = await webhooks.get_endpoint(session, auth.account_id, webhook_id)
            delivery = await webhooks.replay_delivery(session, endpoint, delivery_id)
        return delivery_out(delivery)
