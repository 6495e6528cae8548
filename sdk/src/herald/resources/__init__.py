"""API resources, one module per path family (``client.messages`` is ``/v1/messages``)."""

from herald.resources.api_keys import ApiKeys, AsyncApiKeys
from herald.resources.domains import AsyncDomains, Domains
from herald.resources.events import AsyncEvents, Events
from herald.resources.ip_listings import AsyncIpListings, IpListings
from herald.resources.ip_pools import AsyncIpPools, IpPools
from herald.resources.messages import AsyncMessages, Messages
from herald.resources.queue import AsyncQueue, Queue
from herald.resources.smtp import AsyncSmtp, Smtp
from herald.resources.stats import AsyncStats, Stats
from herald.resources.suppressions import AsyncSuppressions, Suppressions
from herald.resources.templates import AsyncTemplates, Templates
from herald.resources.webhooks import (
    AsyncWebhookDeliveries,
    AsyncWebhooks,
    WebhookDeliveries,
    Webhooks,
)

__all__ = [
    "ApiKeys",
    "AsyncApiKeys",
    "AsyncDomains",
    "AsyncEvents",
    "AsyncIpListings",
    "AsyncIpPools",
    "AsyncMessages",
    "AsyncQueue",
    "AsyncSmtp",
    "AsyncStats",
    "AsyncSuppressions",
    "AsyncTemplates",
    "AsyncWebhookDeliveries",
    "AsyncWebhooks",
    "Domains",
    "Events",
    "IpListings",
    "IpPools",
    "Messages",
    "Queue",
    "Smtp",
    "Stats",
    "Suppressions",
    "Templates",
    "WebhookDeliveries",
    "Webhooks",
]
