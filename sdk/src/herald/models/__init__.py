"""Typed views of what the Herald API sends and receives.

Response models are ``msgspec`` Structs that ignore fields they do not know, so a newer
server that adds fields never breaks an older SDK. Their names follow the API's JSON, except
``from`` which is ``from_`` in Python.
"""

from herald.models._accounts import ApiKey, ApiKeyList, KeyQuotas, Suppression, SuppressionPage
from herald.models._batch import BatchResult
from herald.models._checks import CheckFinding, CheckSummary, MessageCheck
from herald.models._common import FieldError, Problem
from herald.models._domains import (
    DkimKey,
    DmarcStage,
    DnsRecord,
    Domain,
    DomainEvent,
    DomainList,
    DomainReputation,
    DomainTracking,
    ReputationThresholds,
    ReputationWindow,
    ResumeResult,
)
from herald.models._events import EventLogEntry, EventPage
from herald.models._ip_pools import IpPool, IpPoolList, SendingIp, Warmup
from herald.models._ips import IpListing, IpListingList, ZoneListing
from herald.models._messages import (
    Address,
    Attempt,
    EmailAddress,
    Event,
    Message,
    MessagePage,
    MessageSummary,
    Recipient,
    RecipientSummary,
    SendResult,
    Tracking,
    Unsubscribe,
)
from herald.models._queue import (
    DestinationReply,
    DestinationRule,
    QueueDestination,
    QueueDestinationList,
    RetryResult,
)
from herald.models._smtp import SmtpLockout, SmtpLockoutList, SmtpSettings
from herald.models._stats import (
    StatsCounts,
    StatsGroup,
    StatsLatency,
    StatsRates,
    StatsReport,
)
from herald.models._templates import (
    RenderedTemplate,
    Template,
    TemplatePage,
    TemplateSummary,
    TemplateVersion,
    TemplateVersionList,
)
from herald.models._webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryPage,
    WebhookEndpoint,
    WebhookEndpointList,
    WebhookEvent,
    WebhookEventData,
    WebhookSecret,
)

__all__ = [
    "Address",
    "ApiKey",
    "ApiKeyList",
    "Attempt",
    "BatchResult",
    "CheckFinding",
    "CheckSummary",
    "DestinationReply",
    "DestinationRule",
    "DkimKey",
    "DmarcStage",
    "DnsRecord",
    "Domain",
    "DomainEvent",
    "DomainList",
    "DomainReputation",
    "DomainTracking",
    "EmailAddress",
    "Event",
    "EventLogEntry",
    "EventPage",
    "FieldError",
    "IpListing",
    "IpListingList",
    "IpPool",
    "IpPoolList",
    "KeyQuotas",
    "Message",
    "MessageCheck",
    "MessagePage",
    "MessageSummary",
    "Problem",
    "QueueDestination",
    "QueueDestinationList",
    "Recipient",
    "RecipientSummary",
    "RenderedTemplate",
    "ReputationThresholds",
    "ReputationWindow",
    "ResumeResult",
    "RetryResult",
    "SendResult",
    "SendingIp",
    "SmtpLockout",
    "SmtpLockoutList",
    "SmtpSettings",
    "StatsCounts",
    "StatsGroup",
    "StatsLatency",
    "StatsRates",
    "StatsReport",
    "Suppression",
    "SuppressionPage",
    "Template",
    "TemplatePage",
    "TemplateSummary",
    "TemplateVersion",
    "TemplateVersionList",
    "Tracking",
    "Unsubscribe",
    "Warmup",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDeliveryPage",
    "WebhookEndpoint",
    "WebhookEndpointList",
    "WebhookEvent",
    "WebhookEventData",
    "WebhookSecret",
    "ZoneListing",
]
