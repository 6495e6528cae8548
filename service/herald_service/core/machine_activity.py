"""Tell opens and clicks made by machines from those made by people.

Link scanners (Microsoft Safe Links, Proofpoint, Mimecast, Barracuda...) follow every link
of a message as it arrives, and privacy proxies (Apple Mail Privacy Protection) fetch every
image whether or not the message is read. Such events are recorded, flagged
``"machine": true``, so stats can leave them out. The heuristics, in order:

1. a ``HEAD`` request (a browser following a link sends ``GET``);
2. no user agent, or one naming a scanner, a crawler or an HTTP library;
3. an open whose user agent is exactly ``Mozilla/5.0``: the Apple privacy proxy's pattern;
4. a click within :data:`SCANNER_SECONDS` of delivery: people do not click that fast,
   scanners do.

They are heuristics: a person may be flagged (a click within seconds of delivery) and a
careful scanner missed. What is flagged is documented, so both can be accounted for.
"""

from __future__ import annotations

import ipaddress

SCANNER_SECONDS = 10.0
_MACHINE_AGENTS = (
    "bot",
    "spider",
    "crawl",
    "scan",
    "barracuda",
    "proofpoint",
    "mimecast",
    "safelinks",
    "trendmicro",
    "symantec",
    "forcepoint",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "httpx",
    "go-http-client",
    "java/",
    "okhttp",
    "wget",
    "curl/",
    "libwww",
    "headlesschrome",
    "phantomjs",
)
APPLE_PROXY_AGENT = "Mozilla/5.0"


def is_machine(
    kind: str, method: str, user_agent: str, seconds_since_delivery: float | None
) -> bool:
    """Whether an open (``kind`` ``open``) or click (``click``) looks made by a machine."""
    if method.upper() == "HEAD":
        return True
    agent = user_agent.strip()
    lowered = agent.lower()
    if not agent or any(marker in lowered for marker in _MACHINE_AGENTS):
        return True
    if kind == "open" and agent == APPLE_PROXY_AGENT:
        return True
    return (
        kind == "click"
        and seconds_since_delivery is not None
        and 0 <= seconds_since_delivery < SCANNER_SECONDS
    )


def kept_ip(address: str, privacy: str) -> str:
    """What an event keeps of a client's IP: ``full``, ``none`` (empty), or ``truncate``:
    the IPv4 /24 or IPv6 /48 network (``192.0.2.0/24``), enough for a region, not a host."""
    if privacy == "none":
        return ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if privacy == "full":
        return str(ip)
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
