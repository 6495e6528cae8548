"""Everything the console adds to the application: its pages, static files, templates."""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from litestar.types import ControllerRouterHandler

from herald_service import __version__
from herald_service.console.activity import ActivityController
from herald_service.console.blocklists import BlocklistsController
from herald_service.console.controllers import SignInController
from herald_service.console.domain_reputation import DomainReputationController
from herald_service.console.domains import DomainsController
from herald_service.console.inbox import InboxPageController
from herald_service.console.ip_pools_page import IpPoolsController
from herald_service.console.keys import KeysController
from herald_service.console.message_page import MessagePageController
from herald_service.console.navigation import NAVIGATION
from herald_service.console.overview import OverviewController
from herald_service.console.queue_page import QueueController
from herald_service.console.scheduled import ScheduledController
from herald_service.console.smtp import SmtpController
from herald_service.console.stats_page import StatsController
from herald_service.console.suppressions import SuppressionsController
from herald_service.console.templates_page import TemplatesController
from herald_service.console.web import CONSOLE_EXCEPTION_HANDLERS, check_request
from herald_service.console.webhooks import WebhooksController

HERE = Path(__file__).parent

# Asset URLs carry ``?v=<version>``, so a year of caching never serves an old file.
STATIC_CACHE = CacheControlHeader(max_age=365 * 24 * 3600, public=True, immutable=True)


def console_route_handlers() -> list[ControllerRouterHandler]:
    """The console's controllers and its ``/console/static`` files."""
    pages = Router(
        "/console",
        route_handlers=[
            SignInController,
            OverviewController,
            ActivityController,
            MessagePageController,
            StatsController,
            QueueController,
            ScheduledController,
            SuppressionsController,
            TemplatesController,
            KeysController,
            DomainsController,
            DomainReputationController,
            WebhooksController,
            SmtpController,
            IpPoolsController,
            BlocklistsController,
            InboxPageController,
        ],
        before_request=check_request,
        exception_handlers=CONSOLE_EXCEPTION_HANDLERS,
        include_in_schema=False,
    )
    return [
        pages,
        create_static_files_router(
            path="/console/static",
            directories=[HERE / "static"],
            cache_control=STATIC_CACHE,
            include_in_schema=False,
            name="console-static",
        ),
    ]


def _add_globals(engine: JinjaTemplateEngine) -> None:
    engine.engine.globals["version"] = __version__
    engine.engine.globals["navigation"] = NAVIGATION


def console_template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """Jinja2 (autoescaping) over ``console/templates``."""
    return TemplateConfig(
        directory=HERE / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=_add_globals,
    )
