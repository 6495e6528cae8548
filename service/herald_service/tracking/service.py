"""Open and click tracking and hosted one-click unsubscribe, as a send applies them.

Before a message is built and signed, its HTML part's links are rewritten to
``<public URL>/t/c/<token>``, a pixel ``/t/o/<token>`` is added at the end of its body,
and with one-click unsubscribe it gets ``List-Unsubscribe`` (an HTTPS URL ``/u/<token>``
and a ``mailto:u+<token>@<return-path host>``) and ``List-Unsubscribe-Post`` (RFC 8058).
All of it is inside the DKIM signature. A message with nothing tracked is left untouched,
byte for byte, and costs one attribute check per setting.

Tokens reference the message, not a recipient: a message is signed once for all its
recipients. Events from a message with one recipient name that recipient; one-click
unsubscribe is refused on messages with several (see ``messages/intake``).
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlsplit

import msgspec

from herald_service.core.link_tracking import (
    UNSUBSCRIBE_VARIABLE,
    add_pixel,
    pixel_tag,
    rewrite_links,
)
from herald_service.core.message import OutgoingMessage
from herald_service.core.tracking_tokens import Kind, make_token
from herald_service.domains.service import SendingDomain
from herald_service.security.secretbox import derive_key
from herald_service.settings import Settings

MAILTO_PREFIX = "u+"


class TrackingUrls:
    """Makes the public URLs of tracked links, pixels and unsubscribe pages."""

    def __init__(self, public_url: str, key: bytes) -> None:
        self.base = public_url.rstrip("/")
        self.scheme = urlsplit(self.base).scheme or "https"
        self.key = key

    @classmethod
    def from_settings(cls, settings: Settings) -> TrackingUrls:
        """URLs under ``HERALD_PUBLIC_URL`` (else ``https://HERALD_HOSTNAME``)."""
        base = settings.public_url or f"https://{settings.hostname}"
        return cls(base, tracking_key(settings.require_secret_key()))

    def url(self, kind: Kind, message_id: str, link: int = 0, host: str = "") -> str:
        """The public URL of ``kind`` (``c``, ``o`` or ``u``) for ``message_id``, on the
        sending domain's own tracking ``host`` when it has one."""
        path = {"c": "t/c", "o": "t/o", "u": "u"}[kind]
        base = f"{self.scheme}://{host}" if host else self.base
        return f"{base}/{path}/{make_token(self.key, kind, message_id, link)}"

    def mailto(self, message_id: str, return_path_host: str) -> str:
        """The unsubscribe address under the domain's return path (``herald inbound``)."""
        token = make_token(self.key, "u", message_id)
        return f"{MAILTO_PREFIX}{token}@{return_path_host}"


def tracking_key(secret_key: str) -> bytes:
    """The HMAC key of tracking tokens, derived from ``HERALD_SECRET_KEY``."""
    return derive_key(secret_key, "herald/tracking-tokens/v1")


class Tracked(msgspec.Struct, frozen=True):
    """A message with its tracking applied and what its row records (None: nothing)."""

    message: OutgoingMessage
    record: dict[str, Any] | None


def apply_tracking(
    outgoing: OutgoingMessage, domain: SendingDomain, message_id: str, urls: TrackingUrls | None
) -> Tracked:
    """``outgoing`` as it will be built: links rewritten, pixel added, unsubscribe headers,
    each as the message (or else its domain) asks; unchanged when nothing applies."""
    opens = _choose(outgoing.track_opens, domain.tracking_opens)
    clicks = _choose(outgoing.track_clicks, domain.tracking_clicks)
    recipients = len(outgoing.to) + len(outgoing.cc) + len(outgoing.bcc)
    unsubscribe = _choose(outgoing.hosted_unsubscribe, domain.unsubscribe_default)
    unsubscribe = unsubscribe and recipients == 1
    html, text = outgoing.html, outgoing.text
    if urls is None or not (opens or clicks or unsubscribe):
        if UNSUBSCRIBE_VARIABLE in (html or "") + (text or ""):
            html, text = _fill(html, ""), _fill(text, "")
            return Tracked(msgspec.structs.replace(outgoing, html=html, text=text), None)
        return Tracked(outgoing, None)
    host = domain.tracking_host
    unsubscribe_url = urls.url("u", message_id, host=host) if unsubscribe else ""
    text = _fill(text, unsubscribe_url)
    headers = outgoing.headers
    if unsubscribe:
        mailto = urls.mailto(message_id, domain.return_path_host)
        headers += (
            ("List-Unsubscribe", f"<{unsubscribe_url}>, <mailto:{mailto}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        )
    links: list[str] = []
    if html is not None:
        html = _fill(html, unsubscribe_url) or ""
        if clicks:
            html, links = rewrite_links(
                html, lambda i: urls.url("c", message_id, i, host), frozenset({unsubscribe_url})
            )
        if opens:
            html = add_pixel(html, urls.url("o", message_id, host=host))
    record = {
        "opens": opens,
        "clicks": clicks,
        "unsubscribe": unsubscribe,
        "links": links,
        "host": host,
    }
    changed = msgspec.structs.replace(outgoing, html=html, text=text, headers=headers)
    return Tracked(changed, record)


def _fill(part: str | None, unsubscribe_url: str) -> str | None:
    """``part`` with ``{{ unsubscribe_url }}`` replaced."""
    if part is None or UNSUBSCRIBE_VARIABLE not in part:
        return part
    return part.replace(UNSUBSCRIBE_VARIABLE, unsubscribe_url)


def _choose(asked: bool | None, default: bool) -> bool:
    return default if asked is None else asked


def untracked_html(
    html: str, message_id: str, record: dict[str, Any] | None, urls: TrackingUrls
) -> str:
    """``html`` as its sender wrote it, for a preview that must not count as an open or a
    click: tracked links point at their original URLs again and the pixel is gone."""
    if not record:
        return html
    host = str(record.get("host") or "")
    for index, original in enumerate(record.get("links") or ()):
        tracked = escape(urls.url("c", message_id, index, host), quote=True)
        html = html.replace(f'href="{tracked}"', f'href="{escape(original, quote=True)}"')
    if record.get("opens"):
        html = html.replace(pixel_tag(urls.url("o", message_id, host=host)), "")
    return html
