"""What each problem ``type`` the API answers with means, and where it is explained.

Every error is an RFC 9457 document whose ``type`` names its kind (``/problems#not-found``,
a reference relative to the API's own address). ``GET /problems`` serves this catalog as a
page with one anchor per type, and ``docs/problems.md`` is the same text in the repository
(a test keeps them in step: ``python -m herald_service.api.problem_catalog >
docs/problems.md``). A title the catalog does not know gets ``about:blank``, which RFC 9457
reserves for "nothing beyond the status code".
"""

from __future__ import annotations

import html
import re
from typing import NamedTuple

PAGE_PATH = "/problems"


class ProblemKind(NamedTuple):
    """One problem type: its title, the statuses it comes with, what it means, what to do."""

    title: str
    statuses: tuple[int, ...]
    meaning: str
    remedy: str


CATALOG: tuple[ProblemKind, ...] = (
    ProblemKind(
        "Malformed request",
        (400,),
        "The body is not the JSON the operation takes: it does not parse, a field has the "
        "wrong type, or a field is unknown. `errors` names each field.",
        "Fix the request as `errors` says; sending it again unchanged fails the same way.",
    ),
    ProblemKind(
        "Bad request",
        (400,),
        "The request breaks a rule that is not about one field's shape (a header, a query "
        "parameter, a combination of fields).",
        "Read `detail` and `errors`, fix the request.",
    ),
    ProblemKind(
        "Invalid request",
        (422,),
        "The body is well-formed but a value is refused: an address, a sending domain that "
        "is not verified, a template variable the data lacks, a `send_at` too far ahead. "
        "`errors` names each field (`to[1]`, `template_data.first_name`).",
        "Change the named values. Nothing was accepted, so nothing was sent.",
    ),
    ProblemKind(
        "Unauthorized",
        (401,),
        "No API key, or one that is malformed, unknown or revoked.",
        "Send `Authorization: Bearer <key>` with a live key (`herald keys list`).",
    ),
    ProblemKind(
        "Forbidden",
        (403,),
        "The key is valid but may not do this: it lacks the scope the operation needs, or "
        "it is restricted to other sending domains.",
        "Use a key with the scope named in `detail`, or widen this key's domains.",
    ),
    ProblemKind(
        "Not found",
        (404,),
        "No such resource in this account (another account's resources are never visible), "
        "or no such route.",
        "Check the id and that the key belongs to the account that owns it.",
    ),
    ProblemKind(
        "Method not allowed",
        (405,),
        "The route exists but not with this HTTP method; `Allow` lists the ones it takes.",
        "Use a method from the `Allow` header.",
    ),
    ProblemKind(
        "Conflict",
        (409,),
        "The request contradicts the current state: an `Idempotency-Key` reused with "
        "another body, a name or alias already taken, a change to something that moved on.",
        "Read `detail`; use a new idempotency key for a different request.",
    ),
    ProblemKind(
        "Message already started",
        (409,),
        "A cancel came after delivery of the message had begun for at least one recipient.",
        "Nothing to do: a message cannot be recalled once a server has it.",
    ),
    ProblemKind(
        "Domain paused",
        (403,),
        "The sending domain of the From address is paused by the reputation guard: its "
        "bounce or complaint rate reached a pause threshold (`detail` and "
        "`GET /v1/domains/{id}/reputation` give the rate, its window and the threshold). "
        "Nothing is sent from it, and its queued mail is held, until an admin resumes it.",
        "Find what caused it (a stale list, a signup form filled by bots), remove those "
        "addresses, then `POST /v1/domains/{id}/resume` or `herald domains resume`.",
    ),
    ProblemKind(
        "Domain not paused",
        (409,),
        "A resume asked for a domain that is not paused.",
        "Nothing to do; `GET /v1/domains/{id}` shows its status.",
    ),
    ProblemKind(
        "Nothing to retry",
        (409,),
        "A retry asked for a message none of whose recipients is `deferred`: each was "
        "delivered, bounced, canceled, or is already queued.",
        "Nothing to do; `GET /v1/messages/{id}` shows each recipient's status.",
    ),
    ProblemKind(
        "Source pruned",
        (410,),
        "The message's source (its signed bytes) was deleted by retention "
        "(`HERALD_RETENTION_BODIES`, 30 days by default); its metadata, recipients and "
        "events (within their own retention) are still there.",
        "Nothing to do: keep your own copy of sources you need longer, or ask the operator "
        "for a longer retention.",
    ),
    ProblemKind(
        "Payload too large",
        (413,),
        "The body is over `HERALD_MAX_REQUEST_BYTES` (attachments count in full).",
        "Send smaller attachments, or fewer messages per batch.",
    ),
    ProblemKind(
        "Too many requests",
        (429,),
        "A quota ran out: requests per second, or recipients per key or account per day. "
        "`RateLimit` and `Retry-After` say which and when it refills. A refused batch "
        "is refused as a whole.",
        "Wait `Retry-After` seconds and send again; ask the operator for a larger quota.",
    ),
    ProblemKind(
        "Request timeout",
        (408,),
        "The request line, headers or body did not arrive in time (`HERALD_API_HEADER_TIMEOUT`, "
        "`HERALD_API_BODY_TIMEOUT` and a minimum rate); the connection is closed.",
        "Send the request again, complete and without long pauses.",
    ),
    ProblemKind(
        "Request headers too large",
        (431,),
        "The request line and headers together are larger than the server reads.",
        "Send fewer or shorter headers (cookies, long custom headers).",
    ),
    ProblemKind(
        "Request error",
        (400,),
        "The HTTP request was refused before it reached an operation (for example an "
        "unsupported `Content-Type`).",
        "Read `detail`, fix the request.",
    ),
    ProblemKind(
        "Internal error",
        (500,),
        "Herald failed in a way it did not foresee; the server's log has the details. "
        "Nothing was accepted by this request.",
        "Retry with the same `Idempotency-Key`; report it if it persists.",
    ),
    ProblemKind(
        "Service overloaded",
        (503,),
        "More requests are in progress than the server takes at once; this one was not "
        "started, so nothing was accepted.",
        "Retry after `Retry-After` seconds (the SDK does).",
    ),
    ProblemKind(
        "Service unavailable",
        (503,),
        "The database cannot serve the request right now: it is stopped or restarting, "
        "its connections are used up, or (SQLite) its disk is full or read-only. A send "
        "answered so was not committed, except in the rare case where the connection "
        "broke during the commit itself.",
        "Retry after `Retry-After` seconds (the SDK does), with the same "
        "`Idempotency-Key`, so a send is never stored twice.",
    ),
)


def slug(title: str) -> str:
    """The anchor of a title: lower case, words joined by ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


_KNOWN = {slug(kind.title) for kind in CATALOG}


def type_uri(title: str) -> str:
    """The ``type`` of problems with this title."""
    anchor = slug(title)
    return f"{PAGE_PATH}#{anchor}" if anchor in _KNOWN else "about:blank"


def markdown() -> str:
    """The catalog as ``docs/problems.md``."""
    parts = [
        "# Problem types\n\n",
        "Every error of the Herald API is an RFC 9457 `application/problem+json` document. ",
        "Its `type` is one of the references below, relative to the API's address ",
        f"(`{PAGE_PATH}#not-found`), and the running server serves this page at ",
        f"`GET {PAGE_PATH}`. `errors` lists the failing fields where there are some.\n",
    ]
    for kind in CATALOG:
        statuses = ", ".join(str(s) for s in kind.statuses)
        parts.append(
            f'\n<a id="{slug(kind.title)}"></a>\n## {kind.title}\n\n'
            f"Status: {statuses}. `type`: `{type_uri(kind.title)}`\n\n"
            f"{kind.meaning}\n\nWhat to do: {kind.remedy}\n"
        )
    return "".join(parts)


def _inline(text: str) -> str:
    """Markdown's `code` spans as HTML, everything escaped."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(text, quote=False))


def page() -> str:
    """The catalog as the HTML page ``GET /problems`` serves."""
    sections = "".join(
        f'<section id="{slug(kind.title)}"><h2>{html.escape(kind.title)}</h2>'
        f"<p>Status: {', '.join(str(s) for s in kind.statuses)}.</p>"
        f"<p>{_inline(kind.meaning)}</p><p>What to do: {_inline(kind.remedy)}</p></section>\n"
        for kind in CATALOG
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Herald: problem types</title></head>\n<body><h1>Problem types</h1>\n"
        "<p>The <code>type</code> of every error the Herald API answers with.</p>\n"
        f"{sections}</body></html>\n"
    )


if __name__ == "__main__":
    print(markdown(), end="")
