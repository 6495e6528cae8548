"""MTA-STS (RFC 8461): which recipient domains demand verified TLS to listed MX hosts.

A domain announces a policy with a ``_mta-sts.<domain>`` TXT record (``v=STSv1; id=...``)
and serves it at ``https://mta-sts.<domain>/.well-known/mta-sts.txt``. Policies are cached
for their ``max_age``; the TXT ``id`` tells when to fetch again. When the record or the
fetch fails, a cached policy stays in force (§5.1), so an attacker who blocks the lookup
cannot downgrade delivery to plain text.

The TXT record is looked up again at most every :data:`TXT_RECHECK` seconds per domain
(RFC 8461 §3.3 leaves the frequency to the sender): a busy worker sends many messages a
second to the same domains, and one DNS query each was a measurable share of its CPU.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable

import dns.asyncresolver
import dns.exception
import dns.resolver
import httpx
from msgspec import Struct

log = logging.getLogger(__name__)

MAX_POLICY_BYTES = 64 * 1024
MAX_AGE_LIMIT = 31_557_600  # one year, RFC 8461 §3.2
# How long the answer for a domain (a policy, or none) is used before the TXT record is
# read again; a new or changed policy takes effect within this time.
TXT_RECHECK = 60.0
# Recipient domains whose answer is remembered (least recently used are forgotten first).
RECHECK_DOMAINS = 10_000


class MtaStsPolicy(Struct, frozen=True):
    """One domain's policy: ``enforce``, ``testing`` or ``none``, and its MX patterns."""

    id: str
    mode: str
    mx: tuple[str, ...]
    max_age: int

    @property
    def enforced(self) -> bool:
        """True when mail must go over verified TLS to a listed MX or not at all."""
        return self.mode == "enforce"

    def allows(self, mx_name: str) -> bool:
        """Whether ``mx_name`` matches an ``mx`` pattern (``*.`` matches one label)."""
        name = mx_name.lower().rstrip(".")
        for pattern in self.mx:
            if pattern.startswith("*."):
                head, _, tail = name.partition(".")
                if head and tail == pattern[2:]:
                    return True
            elif name == pattern:
                return True
        return False


def parse_policy(text: str, policy_id: str) -> MtaStsPolicy | None:
    """The policy in an ``mta-sts.txt`` body, or None when it is not a valid STSv1 policy."""
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), []).append(value.strip())
    mode = (fields.get("mode") or [""])[0]
    if (fields.get("version") or [""])[0] != "STSv1" or mode not in ("enforce", "testing", "none"):
        return None
    try:
        max_age = min(int((fields.get("max_age") or [""])[0]), MAX_AGE_LIMIT)
    except ValueError:
        return None
    mx = tuple(p.lower().rstrip(".") for p in fields.get("mx", []))
    if mode != "none" and not mx:
        return None
    return MtaStsPolicy(id=policy_id, mode=mode, mx=mx, max_age=max_age)


def _txt_id(records: list[str]) -> str | None:
    """The ``id`` of the single ``v=STSv1`` record, or None (zero or several records)."""
    found = [r for r in records if r.replace(" ", "").startswith("v=STSv1;")]
    if len(found) != 1:
        return None
    for part in found[0].split(";"):
        key, _, value = part.strip().partition("=")
        if key == "id" and value:
            return value
    return None


class MtaStsPolicies:
    """Looks up, fetches and caches MTA-STS policies per recipient domain."""

    def __init__(
        self,
        resolver: dns.asyncresolver.Resolver,
        tls_context: ssl.SSLContext,
        *,
        port: int = 443,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        recheck: float = TXT_RECHECK,
    ) -> None:
        self.resolver = resolver
        self.tls_context = tls_context
        self.port = port
        self.timeout = timeout
        self._clock = clock
        self._recheck = recheck
        self._cache: dict[str, tuple[float, MtaStsPolicy]] = {}
        # domain -> (when to read the TXT record again, the answer it led to)
        self._answers: OrderedDict[str, tuple[float, MtaStsPolicy | None]] = OrderedDict()
        self._refreshing: dict[str, asyncio.Future[MtaStsPolicy | None]] = {}
        self.fetches = 0

    async def policy(self, domain: str) -> MtaStsPolicy | None:
        """The policy in force for ``domain``, or None when it has none.

        Concurrent deliveries to a domain whose answer is not known share one lookup (and
        at most one policy fetch) instead of each making their own.
        """
        domain = domain.lower().rstrip(".")
        answered = self._answers.get(domain)
        if answered is not None and self._clock() < answered[0]:
            self._answers.move_to_end(domain)
            return answered[1]
        refresh = self._refreshing.get(domain)
        if refresh is None:
            refresh = asyncio.ensure_future(self._refresh(domain))
            self._refreshing[domain] = refresh
            refresh.add_done_callback(lambda _: self._refreshing.pop(domain, None))
        # Shielded: one caller giving up (cancelled) does not cancel the others' lookup.
        return await asyncio.shield(refresh)

    async def _refresh(self, domain: str) -> MtaStsPolicy | None:
        now = self._clock()
        try:
            found = await self._lookup(domain)
        except dns.exception.DNSException:
            # No answer to remember: a cached policy stays in force, and the next message
            # asks again.
            cached = self._cache.get(domain)
            return cached[1] if cached is not None and cached[0] > self._clock() else None
        until = now + self._recheck
        cached = self._cache.get(domain)
        if cached is not None:
            until = min(until, cached[0])  # never past the policy's own max_age
        self._answers[domain] = (until, found)
        self._answers.move_to_end(domain)
        while len(self._answers) > RECHECK_DOMAINS:
            self._answers.popitem(last=False)
        return found

    async def _lookup(self, domain: str) -> MtaStsPolicy | None:
        """Read the TXT record and fetch the policy when its id is new; raises
        :class:`dns.exception.DNSException` when the record cannot be read."""
        cached = self._cache.get(domain)
        if cached is not None and cached[0] <= self._clock():
            self._cache.pop(domain, None)
            cached = None
        try:
            answer = await self.resolver.resolve(f"_mta-sts.{domain}", "TXT")
            texts = [b"".join(r.strings).decode("ascii", "replace") for r in answer]
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            texts = []
        policy_id = _txt_id(texts)
        if policy_id is None:
            return cached[1] if cached else None
        if cached is not None and cached[1].id == policy_id:
            return cached[1]
        fetched = await self._fetch(domain, policy_id)
        if fetched is None:
            return cached[1] if cached else None
        self._cache[domain] = (self._clock() + fetched.max_age, fetched)
        return fetched

    async def _fetch(self, domain: str, policy_id: str) -> MtaStsPolicy | None:
        host = f"mta-sts.{domain}"
        self.fetches += 1
        try:
            answer = await self.resolver.resolve(host, "A")
            address = next(iter(answer)).to_text()
        except dns.exception.DNSException:
            log.info("MTA-STS policy host %s has no address", host)
            return None
        netloc = f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
        url = f"https://{netloc}:{self.port}/.well-known/mta-sts.txt"
        try:
            async with httpx.AsyncClient(
                verify=self.tls_context, timeout=self.timeout, follow_redirects=False
            ) as client:
                response = await client.get(
                    url, headers={"Host": host}, extensions={"sni_hostname": host}
                )
        except httpx.HTTPError as exc:
            log.info("MTA-STS policy fetch from %s failed: %s", host, exc)
            return None
        content_type = response.headers.get("content-type", "")
        if response.status_code != 200 or not content_type.startswith("text/plain"):
            return None
        return parse_policy(
            response.content[:MAX_POLICY_BYTES].decode("utf-8", "replace"), policy_id
        )
