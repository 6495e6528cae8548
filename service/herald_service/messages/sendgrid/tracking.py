"""SendGrid's ``tracking_settings`` in Herald's terms.

``click_tracking.enable`` and ``open_tracking.enable`` become the message's ``tracking``
(``clicks``, ``opens``); ``subscription_tracking.enable`` becomes ``unsubscribe``: Herald's
hosted one-click unsubscribe (RFC 8058 headers, ``{{ unsubscribe_url }}`` in the body), so
a personalization that enables it must have exactly one recipient. An ``enable`` left out
takes the sending domain's default, as a field left out of ``tracking`` does on
``/v1/messages``.

What Herald does not do is refused by name, never ignored: SendGrid's own unsubscribe
footer (``subscription_tracking.text``, ``html``, ``substitution_tag``: put
``{{ unsubscribe_url }}`` in the body instead), ``open_tracking.substitution_tag`` (the
pixel always goes at the end of the HTML), click tracking of the text part
(``click_tracking.enable_text: true``) and Google Analytics (``ganalytics``).
"""

from __future__ import annotations

from typing import Any

import msgspec

from herald_service.errors import FieldError, InvalidRequest
from herald_service.messages.schemas import TrackingIn


class SGClickTracking(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """``{"enable", "enable_text"}``; links of the HTML part only (``enable_text``: false)."""

    enable: bool | None = None
    enable_text: bool = False


class SGEnable(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """``{"enable": bool}``; left out: the sending domain's default."""

    enable: bool | None = None


class SGTrackingSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Click and open tracking, and hosted one-click unsubscribe."""

    click_tracking: SGClickTracking | None = None
    open_tracking: SGEnable | None = None
    subscription_tracking: SGEnable | None = None


def tracking_fields(settings: SGTrackingSettings | None) -> dict[str, Any]:
    """The ``tracking`` and ``unsubscribe`` fields of each Herald request (none: nothing
    asked, the domain's defaults apply)."""
    if settings is None:
        return {}
    if settings.click_tracking is not None and settings.click_tracking.enable_text:
        field = "tracking_settings.click_tracking.enable_text"
        message = "click tracking of the text part is not supported by Herald (HTML links only)"
        raise InvalidRequest(message, [FieldError(field, message)])
    clicks = settings.click_tracking.enable if settings.click_tracking else None
    opens = settings.open_tracking.enable if settings.open_tracking else None
    fields: dict[str, Any] = {}
    if clicks is not None or opens is not None:
        fields["tracking"] = TrackingIn(opens=opens, clicks=clicks)
    if settings.subscription_tracking is not None:
        fields["unsubscribe"] = settings.subscription_tracking.enable
    return fields
