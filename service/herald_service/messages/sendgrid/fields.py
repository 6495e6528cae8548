"""Herald's field paths in SendGrid's terms, for errors on ``/v3/mail/send``."""

from __future__ import annotations

_FIELD_NAMES = {
    "template_data": "dynamic_template_data",
    "template_alias": "template_id",
    "text": "content",
    "html": "content",
    "tags": "categories",
    "metadata": "custom_args",
    "from": "from.email",
    "tracking": "tracking_settings",
    "unsubscribe": "tracking_settings.subscription_tracking.enable",
    "ip_pool": "ip_pool_name",
}
_PER_PERSONALIZATION = ("to", "cc", "bcc", "subject", "headers", "metadata", "template_data")


def sendgrid_field(index: int, field: str) -> str:
    """A Herald field path in SendGrid's terms (``to[0]`` → ``personalizations.0.to.0``)."""
    head, sep, rest = field.partition(".")
    base = head.split("[")[0]
    renamed = _FIELD_NAMES.get(base, base) + head[len(base) :] + sep + rest
    if base in _PER_PERSONALIZATION:
        renamed = f"personalizations[{index}].{renamed}"
    return renamed
