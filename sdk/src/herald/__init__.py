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

from herald._base_client import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
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
)
from herald._retry import RetryPolicy
from herald._version import __version__
from herald.models import (
    Address,
    Attempt,
    EmailAddress,
    Event,
    FieldError,
    Message,
    Problem,
    Recipient,
    SendResult,
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
    "AsyncHerald",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "EmailAddress",
    "Event",
    "FieldError",
    "Herald",
    "HeraldError",
    "InternalServerError",
    "Message",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Problem",
    "RateLimitError",
    "Recipient",
    "RetryPolicy",
    "SendResult",
    "UnprocessableEntityError",
    "__version__",
]
