"""The Litestar application factory: one place wires routes, errors and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from herald_service import __version__
from herald_service.api.admission import AdmissionControl
from herald_service.api.auth import provide_context
from herald_service.api.context import api_context
from herald_service.api.http_semantics import complete_allow_headers
from herald_service.api.json_body import HeraldRequest
from herald_service.api.nul_guard import refuse_nul
from herald_service.api.openapi_schemas import RequestStructSchemas
from herald_service.api.problems import EXCEPTION_HANDLERS
from herald_service.api.ratelimit import RateLimitHeaders
from herald_service.api.reference import (
    DocumentCopy,
    ReferencePage,
    openapi_json,
    problems_page,
    reference_router,
    static_assets,
)
from herald_service.blocklists.controllers import IpListingController
from herald_service.console.routes import console_route_handlers, console_template_config
from herald_service.console.web import add_security_headers
from herald_service.domains.controllers import DomainController
from herald_service.events.controllers import EventController
from herald_service.gc_tuning import frozen_startup_objects, tune_gc
from herald_service.inbox.controllers import InboxController
from herald_service.ip_pools.controllers import IpPoolController, SendingIpController
from herald_service.keys.controllers import ApiKeyController
from herald_service.messages.batch.controllers import MessageBatchController
from herald_service.messages.controllers import MessageController
from herald_service.messages.schemas import SendMessageRequest
from herald_service.messages.sendgrid.controllers import sendgrid_mail_send
from herald_service.operations.health import healthz, readyz
from herald_service.operations.metrics import metrics
from herald_service.reputation.controllers import ReputationController
from herald_service.settings import Settings, get_settings
from herald_service.shaping.controllers import QueueDestinationController
from herald_service.stats.controllers import StatsController
from herald_service.submission.controllers import SmtpController
from herald_service.suppressions.controllers import SuppressionController
from herald_service.templates.controllers import TemplateController
from herald_service.tracking.controllers import TRACKING_ROUTES
from herald_service.webhooks.controllers import WebhookController


def create_app(settings: Settings | None = None) -> Litestar:
    """The API application for ``settings`` (default: from the environment)."""
    config = settings or get_settings()
    tune_gc()  # runs in every API process: uvicorn's workers each build their app

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with api_context(config) as context:
            app.state.herald = context
            with frozen_startup_objects():
                yield

    route_handlers = _route_handlers(config)
    app = Litestar(
        route_handlers=route_handlers,  # type: ignore[arg-type]
        request_class=HeraldRequest,
        plugins=[RequestStructSchemas(SendMessageRequest)],
        lifespan=[lifespan],
        middleware=[AdmissionControl(config.api_max_in_flight), RateLimitHeaders()],
        dependencies={"herald": Provide(provide_context, sync_to_thread=False)},
        before_request=refuse_nul,
        before_send=[add_security_headers],
        template_config=console_template_config(),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=config.max_request_bytes,
        openapi_config=_openapi_config(),
        on_app_init=[_quiet_logging],
    )
    complete_allow_headers(app)
    return app


def _route_handlers(config: Settings) -> list[object]:
    """The API's controllers and routes, the reference, and the console's pages."""
    handlers: list[object] = [
        healthz,
        readyz,
        metrics,
        openapi_json,
        problems_page,
        static_assets(),
        MessageController,
        MessageBatchController,
        DomainController,
        ReputationController,
        sendgrid_mail_send,
        EventController,
        WebhookController,
        ApiKeyController,
        SuppressionController,
        StatsController,
        QueueDestinationController,
        TemplateController,
        *TRACKING_ROUTES,
        SmtpController,
        IpPoolController,
        SendingIpController,
        IpListingController,
        *console_route_handlers(),
    ]
    if config.delivery_mode == "capture":
        handlers.append(InboxController)
    return handlers


def _openapi_config() -> OpenAPIConfig:
    """The OpenAPI document's metadata, served at ``/openapi.json`` and rendered at ``/docs``."""
    return OpenAPIConfig(
        title="Herald",
        version=__version__,
        description="Transactional email: send, sign, deliver, track.",
        use_handler_docstrings=True,
        render_plugins=[ReferencePage(), DocumentCopy()],
        openapi_router=reference_router(),
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="An API key: `Authorization: Bearer <key>`.",
                )
            }
        ),
    )


def _quiet_logging(app_config: AppConfig) -> AppConfig:
    app_config.logging_config = None
    return app_config
