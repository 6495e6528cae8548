"""API resources, one module per path family (``client.messages`` is ``/v1/messages``)."""

from herald.resources.domains import AsyncDomains, Domains
from herald.resources.events import AsyncEvents, Events
from herald.resources.messages import AsyncMessages, Messages
from herald.resources.webhooks import (
    AsyncWebhookDeliveries,
    AsyncWebhooks,
    WebhookDeliveries,
    Webhooks,
)

__all__ = [
    "AsyncDomains",
    "AsyncEvents",
    "AsyncMessages",
    "AsyncWebhookDeliveries",
    "AsyncWebhooks",
    "Domains",
    "Events",
    "Messages",
    "WebhookDeliveries",
    "Webhooks",
]
