"""A programmable authoritative-style DNS server on 127.0.0.1 (UDP and TCP, same port)."""

from __future__ import annotations

import errno
import ipaddress
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from dnslib import AAAA, CNAME, MX, PTR, QTYPE, RCODE, RR, TXT, A, DNSError, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger
from dnslib.server import DNSServer as _LibServer

from .ports import ensure_loopback

__all__ = ["DNSServer"]

_MAX_CNAME_HOPS = 8


def _norm(name: str) -> str:
    """Canonical form of a domain name: lower case, no trailing dot."""
    return name.strip().rstrip(".").lower()


def _txt_chunks(value: str | bytes) -> list[bytes]:
    """Split a TXT value into <= 255-byte character-strings."""
    data = value.encode() if isinstance(value, str) else value
    return [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]


class _Quiet(DNSLogger):  # type: ignore[misc]
    """dnslib logger that prints nothing."""

    def __init__(self) -> None:
        super().__init__(log="-request,-reply,-truncated,-error", prefix=False)


class _Drop(DNSError):  # type: ignore[misc]
    """Raised to make the handler send no reply at all."""


class _Handler(DNSHandler):  # type: ignore[misc]
    """Truncates UDP replies above the client's EDNS payload size (512 without EDNS)."""

    def get_reply(self, data: bytes) -> bytes:
        request = DNSRecord.parse(data)
        reply: DNSRecord = self.server.resolver.resolve(request, self)
        packed: bytes = reply.pack()
        if self.protocol == "udp":
            limit = 512
            for rr in request.ar:
                if rr.rtype == QTYPE.OPT:
                    limit = max(512, rr.rclass)
            if len(packed) > limit:
                short = DNSRecord(reply.header, q=request.q)
                short.header.tc = 1
                packed = short.pack()
        return packed


class _Resolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, owner: DNSServer) -> None:
        self.owner = owner

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        return self.owner._answer(request, handler.protocol)


class DNSServer:
    """In-memory DNS zone data served over UDP and TCP on 127.0.0.1:<ephemeral port>.

    Unknown names answer NXDOMAIN, known names without the asked type NOERROR/NODATA.
    All mutators are thread-safe and may be used while the server is running.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        ensure_loopback(host)
        self.host = host
        self.port = 0
        self.queries: list[tuple[str, str]] = []
        self.tcp_queries: list[tuple[str, str]] = []
        self._records: dict[str, list[RR]] = {}
        self._servfail: set[str] = set()
        self._timeout: set[str] = set()
        self._lock = threading.RLock()
        self._servers: list[_LibServer] = []
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------

    @property
    def address(self) -> str:
        """`"127.0.0.1:PORT"`, the form HERALD_DNS_NAMESERVERS takes."""
        return f"{self.host}:{self.port}"

    def start(self) -> DNSServer:
        """Bind UDP and TCP on one ephemeral port and serve in background threads."""
        if self._servers:
            raise RuntimeError("DNSServer already started")
        resolver = _Resolver(self)
        for _ in range(50):
            udp = _LibServer(resolver, self.host, 0, logger=_Quiet(), handler=_Handler)
            port = udp.server.server_address[1]
            try:
                tcp = _LibServer(resolver, self.host, port, True, _Quiet(), _Handler)
            except OSError as exc:
                udp.server.server_close()
                if exc.errno == errno.EADDRINUSE:
                    continue
                raise
            break
        else:
            raise RuntimeError("could not bind UDP and TCP on the same port")
        self.port = port
        self._servers = [udp, tcp]
        for srv in self._servers:
            thread = threading.Thread(
                target=srv.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and close both sockets."""
        for srv in self._servers:
            srv.server.shutdown()
            srv.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def __enter__(self) -> DNSServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- zone data ---------------------------------------------------------------

    def _add(self, name: str, rtype: str, rdata: Any, ttl: int) -> None:
        key = _norm(name)
        with self._lock:
            self._records.setdefault(key, []).append(
                RR(key + ".", getattr(QTYPE, rtype), rdata=rdata, ttl=ttl)
            )

    def add_mx(self, domain: str, hosts: Iterable[tuple[int, str]], ttl: int = 300) -> None:
        """Add MX records: `hosts` is `[(preference, exchange), ...]`."""
        for preference, exchange in hosts:
            self._add(domain, "MX", MX(exchange.rstrip(".") + ".", preference), ttl)

    def add_null_mx(self, domain: str, ttl: int = 300) -> None:
        """Add an RFC 7505 null MX (`0 .`): the domain accepts no mail."""
        self._add(domain, "MX", MX(".", 0), ttl)

    def add_a(self, name: str, ip: str, ttl: int = 300) -> None:
        """Add an A record."""
        self._add(name, "A", A(str(ipaddress.IPv4Address(ip))), ttl)

    def add_aaaa(self, name: str, ip: str, ttl: int = 300) -> None:
        """Add an AAAA record."""
        self._add(name, "AAAA", AAAA(str(ipaddress.IPv6Address(ip))), ttl)

    def add_txt(self, name: str, value: str | bytes, ttl: int = 300) -> None:
        """Add one TXT record; long values become several 255-byte character-strings."""
        self._add(name, "TXT", TXT(_txt_chunks(value)), ttl)

    def add_ptr(self, ip: str, name: str, ttl: int = 300) -> None:
        """Add a PTR record for `ip` under in-addr.arpa / ip6.arpa."""
        reverse = ipaddress.ip_address(ip).reverse_pointer
        self._add(reverse, "PTR", PTR(name.rstrip(".") + "."), ttl)

    def add_cname(self, name: str, target: str, ttl: int = 300) -> None:
        """Add a CNAME; lookups of other types follow it within this server's data."""
        self._add(name, "CNAME", CNAME(target.rstrip(".") + "."), ttl)

    def set_servfail(self, name: str) -> None:
        """Answer every query for `name` with SERVFAIL (a temporary failure)."""
        with self._lock:
            self._servfail.add(_norm(name))

    def set_timeout(self, name: str) -> None:
        """Never answer queries for `name`, so clients time out."""
        with self._lock:
            self._timeout.add(_norm(name))

    def remove(self, name: str, rtype: str | None = None) -> None:
        """Remove records of `rtype` (all records and failure modes if None) for `name`."""
        key = _norm(name)
        with self._lock:
            if rtype is None:
                self._records.pop(key, None)
                self._servfail.discard(key)
                self._timeout.discard(key)
                return
            code = getattr(QTYPE, rtype.upper())
            kept = [rr for rr in self._records.get(key, []) if rr.rtype != code]
            if kept:
                self._records[key] = kept
            else:
                self._records.pop(key, None)

    def clear(self) -> None:
        """Forget all records, failure modes and recorded queries."""
        with self._lock:
            self._records.clear()
            self._servfail.clear()
            self._timeout.clear()
            self.queries.clear()
            self.tcp_queries.clear()

    # -- answering ---------------------------------------------------------------

    def _exists(self, key: str) -> bool:
        suffix = "." + key
        return key in self._records or any(k.endswith(suffix) for k in self._records)

    def _answer(self, request: DNSRecord, protocol: str) -> DNSRecord:
        reply = request.reply(ra=1, aa=1)
        key = _norm(str(request.q.qname))
        qtype = request.q.qtype
        with self._lock:
            entry = (key, QTYPE.get(qtype, str(qtype)))
            self.queries.append(entry)
            if protocol == "tcp":
                self.tcp_queries.append(entry)
            for _ in range(_MAX_CNAME_HOPS):
                if key in self._timeout:
                    raise _Drop(f"simulated timeout for {key}")
                if key in self._servfail:
                    reply.header.rcode = RCODE.SERVFAIL
                    return reply
                if not self._exists(key):
                    reply.header.rcode = RCODE.NXDOMAIN
                    return reply
                rrs = self._records.get(key, [])
                cnames = [rr for rr in rrs if rr.rtype == QTYPE.CNAME]
                if cnames and qtype not in (QTYPE.CNAME, QTYPE.ANY):
                    reply.add_answer(cnames[0])
                    key = _norm(str(cnames[0].rdata.label))
                    continue
                for rr in rrs:
                    if qtype in (rr.rtype, QTYPE.ANY):
                        reply.add_answer(rr)
                return reply
        reply.header.rcode = RCODE.SERVFAIL
        return reply
