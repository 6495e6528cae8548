"""The relational schema, one module per area. Every row a caller can reach carries its
``account_id`` (directly or through its parent).

Importing this package registers every table on ``Base.metadata``.
"""

from herald_service.storage.models.accounts import Account, ApiKey
from herald_service.storage.models.base import Base
from herald_service.storage.models.capture import CapturedMessage
from herald_service.storage.models.domains import DestinationCooldown, DkimKey, Domain, DomainEvent
from herald_service.storage.models.events import Event
from herald_service.storage.models.idempotency import IdempotencyKey
from herald_service.storage.models.ip_listings import IpListing
from herald_service.storage.models.messages import DeliveryAttempt, Message, Recipient
from herald_service.storage.models.sending_ips import IpPool, SendingIpDay, SendingIpRow
from herald_service.storage.models.stats import StatsCounter, StatsLatency
from herald_service.storage.models.suppressions import Suppression
from herald_service.storage.models.templates import Template, TemplateVersion
from herald_service.storage.models.users import User, UserAccount
from herald_service.storage.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Account",
    "ApiKey",
    "Base",
    "CapturedMessage",
    "DeliveryAttempt",
    "DestinationCooldown",
    "DkimKey",
    "Domain",
    "DomainEvent",
    "Event",
    "IdempotencyKey",
    "IpListing",
    "IpPool",
    "Message",
    "Recipient",
    "SendingIpDay",
    "SendingIpRow",
    "StatsCounter",
    "StatsLatency",
    "Suppression",
    "Template",
    "TemplateVersion",
    "User",
    "UserAccount",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
