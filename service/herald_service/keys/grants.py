"""What an API key may be given: known scopes, quotas in range, and never more than the
key giving it holds (see :mod:`herald_service.core.key_grants`)."""

from __future__ import annotations

from collections.abc import Iterable

from herald_service.core.key_grants import Grantor, KeyGrant, KeyLimits
from herald_service.errors import FieldError, Forbidden, InvalidRequest
from herald_service.storage.models import ApiKey

SCOPES = ("send", "read", "admin")


def key_limits(key: ApiKey) -> KeyLimits:
    """The quota overrides stored on ``key``."""
    return KeyLimits(
        requests_per_second=key.rate_per_second,
        burst=key.rate_burst,
        daily_recipients=key.daily_recipients,
    )


def key_grant(key: ApiKey) -> KeyGrant:
    """What a stored key may do."""
    return KeyGrant(
        scopes=frozenset(key.scopes),
        domains=frozenset(key.allowed_domains or ()),
        limits=key_limits(key),
    )


def ensure_within(grantor: Grantor | None, wanted: KeyGrant, action: str) -> None:
    """403 naming every field in which ``wanted`` exceeds the key acting (None: the
    operator, through the CLI, who is not bound)."""
    excesses = grantor.excesses(wanted) if grantor is not None else []
    if excesses:
        raise Forbidden(
            f"this API key may not {action} a key beyond its own scopes, domains or quotas",
            [FieldError(e.field, e.message) for e in excesses],
        )


def normalize_scopes(scopes: Iterable[str]) -> list[str]:
    """Validate scope names and return them in canonical order."""
    wanted = {s.strip() for s in scopes if s.strip()}
    unknown = wanted - set(SCOPES)
    if unknown or not wanted:
        message = f"must be a non-empty subset of {', '.join(SCOPES)}; got {sorted(wanted)}"
        raise InvalidRequest(f"scopes {message}", [FieldError("scopes", message)])
    return [s for s in SCOPES if s in wanted]


def check_limits(limits: KeyLimits) -> KeyLimits:
    """``limits`` when every override is in range, else a 422 naming the bad ones."""
    errors = []
    if limits.requests_per_second is not None and not 0.001 <= limits.requests_per_second <= 1e6:
        errors.append(FieldError("quotas.requests_per_second", "must be between 0.001 and 1000000"))
    if limits.burst is not None and not 1 <= limits.burst <= 1_000_000:
        errors.append(FieldError("quotas.burst", "must be between 1 and 1000000"))
    if limits.daily_recipients is not None and not 0 <= limits.daily_recipients <= 10**9:
        errors.append(FieldError("quotas.daily_recipients", "must be >= 0 (0: no cap)"))
    if errors:
        raise InvalidRequest("invalid quota overrides", errors)
    return limits
