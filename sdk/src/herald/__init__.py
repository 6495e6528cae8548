"""Herald's Python SDK: send transactional email through a Herald server.

```python
from herald import Herald

client = Herald()  # reads HERALD_API_KEY and HERALD_BASE_URL
sent = client.messages.send(
    from_="app@example.com", to="ann@example.net", subject="Hi", text="Hello"
)
print(client.messages.get(sent.id).status)
```

See :class:`Herald`, :class:`AsyncHerald` and the errors under :class:`HeraldError`.
"""

from herald import webhooks
from herald._base_client import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    CallOptions,
    Timeout,
)
from herald._client import AsyncHerald, Herald
from herald._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    HeraldError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    WebhookVerificationError,
)
from herald._retry import RetryPolicy
from herald._version import __version__
from herald.attachments import Attachment
from herald.models import (
    Address,
    ApiKey,
    Attempt,
    BatchResult,
    CheckFinding,
    DkimKey,
    DmarcStage,
    DnsRecord,
    Domain,
    DomainTracking,
    EmailAddress,
    Event,
    EventLogEntry,
    EventPage,
    FieldError,
    KeyQuotas,
    Message,
    MessageCheck,
    Problem,
    Recipient,
    RenderedTemplate,
    SendResult,
    Suppression,
    SuppressionPage,
    Template,
    TemplatePage,
    TemplateVersion,
    Tracking,
    Unsubscribe,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryPage,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventData,
    WebhookSecret,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APITimeoutError",
    "Address",
    "ApiKey",
    "AsyncHerald",
    "Attachment",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "BatchResult",
    "CallOptions",
    "CheckFinding",
    "ConflictError",
    "DkimKey",
    "DmarcStage",
    "DnsRecord",
    "Domain",
    "DomainTracking",
    "EmailAddress",
    "Event",
    "EventLogEntry",
    "EventPage",
    "FieldError",
    "Herald",
    "HeraldError",
    "InternalServerError",
    "KeyQuotas",
    "Message",
    "MessageCheck",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Problem",
    "RateLimitError",
    "Recipient",
    "RenderedTemplate",
    "RetryPolicy",
    "SendResult",
    "Suppression",
    "SuppressionPage",
    "Template",
    "TemplatePage",
    "TemplateVersion",
    "Timeout",
    "Tracking",
    "UnprocessableEntityError",
    "Unsubscribe",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDeliveryPage",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookEventData",
    "WebhookSecret",
    "WebhookVerificationError",
    "__version__",
    "webhooks",
]
