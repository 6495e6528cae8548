"""``HERALD_REDIS_URL`` → a Redis client, sync (rq) or asyncio (quotas, sessions, lock-outs).

Every process builds its clients here, so a URL that works for one works for all of them.
Besides redis-py's own forms (``redis://``, ``rediss://`` for TLS, ``unix://``), Herald
accepts the ``redis+sentinel://`` form of Redis-Sentinel-Url and redisvl::

    redis+sentinel://[[user]:password@]host1[:port1][,host2[:port2]...]/service_name[/db]
                     [?sentinel_password=...&sentinel_username=...]

The hosts are the Sentinels (port 26379 when left out), ``service_name`` the name they
monitor (``sentinel monitor <service_name> ...``), ``db`` the database number (0). The
user and password are those of the Redis servers, as in a ``redis://`` URL; Sentinels that
have their own ``requirepass`` take theirs from the query. Clients ask a Sentinel for the
master before each new connection and drop connections to a master that was demoted, so
after a failover they follow the promoted replica on their next command.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, cast
from urllib.parse import parse_qs, unquote

import redis
import redis.asyncio
import redis.asyncio.sentinel
import redis.sentinel

SENTINEL_SCHEME = "redis+sentinel"
DEFAULT_SENTINEL_PORT = 26379
_QUERY_OPTIONS = ("sentinel_password", "sentinel_username")
# The password of ``user:password@`` and of ``sentinel_password=``.
_PASSWORDS = re.compile(r"(?<=://)([^@/?]*?:)[^@/?]+(?=@)|(?<=sentinel_password=)[^&#]+")


class SentinelUrl(NamedTuple):
    """The parts of a ``redis+sentinel://`` URL."""

    sentinels: tuple[tuple[str, int], ...]
    service_name: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_username: str | None = None
    sentinel_password: str | None = None

    def master_options(self) -> dict[str, Any]:
        """Options of the connections to the master (its database and credentials)."""
        options: dict[str, Any] = {"db": self.db}
        if self.username:
            options["username"] = self.username
        if self.password:
            options["password"] = self.password
        return options

    def sentinel_options(self, client_options: dict[str, Any]) -> dict[str, Any]:
        """Options of the connections to the Sentinels: the clients' socket timeouts (so
        a dead Sentinel fails as fast as a dead master) and the Sentinels' credentials."""
        options = {k: v for k, v in client_options.items() if k.startswith("socket_")}
        if self.sentinel_username:
            options["username"] = self.sentinel_username
        if self.sentinel_password:
            options["password"] = self.sentinel_password
        return options


def is_sentinel_url(url: str) -> bool:
    """Whether ``url`` names its Redis through Sentinels."""
    return url.lower().startswith(f"{SENTINEL_SCHEME}://")


def parse_sentinel_url(url: str) -> SentinelUrl:
    """Split a ``redis+sentinel://`` URL; ValueError saying what is wrong with it."""
    if not is_sentinel_url(url):
        raise ValueError(f"not a {SENTINEL_SCHEME}:// URL")
    rest = url[len(SENTINEL_SCHEME) + 3 :]
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, _, hosts = netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    sentinels = tuple(_host_port(part) for part in hosts.split(","))
    segments = path.split("/") if path else []
    if not segments or not segments[0] or len(segments) > 2:
        raise ValueError(
            f"expected {SENTINEL_SCHEME}://host1:port1[,host2:port2...]/service_name[/db]"
        )
    db = 0
    if len(segments) == 2 and segments[1]:
        if not segments[1].isdigit():
            raise ValueError(f"the database {segments[1]!r} is not a number")
        db = int(segments[1])
    options = parse_qs(query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(options) - set(_QUERY_OPTIONS))
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r} (known: {', '.join(_QUERY_OPTIONS)})")
    return SentinelUrl(
        sentinels=sentinels,
        service_name=unquote(segments[0]),
        db=db,
        username=unquote(username) or None,
        password=unquote(password) or None,
        sentinel_username=options.get("sentinel_username", [""])[-1] or None,
        sentinel_password=options.get("sentinel_password", [""])[-1] or None,
    )


def _host_port(part: str) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` of one Sentinel."""
    if part.startswith("["):
        host, bracket, port = part[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            raise ValueError(f"bad Sentinel address {part!r}")
        port = port[1:]
    else:
        host, _, port = part.partition(":")
    if not host:
        raise ValueError(f"a Sentinel address is empty in {part!r}: list them as host:port,...")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"bad Sentinel port in {part!r}")
    return host, int(port) if port else DEFAULT_SENTINEL_PORT


def redacted(url: str) -> str:
    """``url`` with its passwords masked, fit for logs and settings dumps."""
    return _PASSWORDS.sub(lambda match: f"{match.group(1) or ''}***", url)


def check_redis_url(url: str) -> str:
    """``url`` unchanged if Herald can connect with it, else ValueError (at start-up)."""
    if is_sentinel_url(url):
        parse_sentinel_url(url)
        return url
    scheme = url.partition("://")[0].lower()
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(
            f"unknown scheme {scheme!r}: use redis://, rediss://, unix:// or "
            f"{SENTINEL_SCHEME}://host:port[,host:port...]/service_name[/db]"
        )
    try:
        redis.ConnectionPool.from_url(url)  # parses only: connects on first use
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from exc
    return url


class _MasterConnection(redis.sentinel.SentinelManagedConnection):
    """Reconnects through the Sentinels also within a command's retry, where redis-py
    reconnects to the address it had (redis/redis-py#3874): without this the command that
    first meets a dead master fails even after a replica has taken over."""

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if not self.is_connected:
            self.connect()  # type: ignore[no-untyped-call]
        super().send_packed_command(command, check_health)  # type: ignore[no-untyped-call]


class _AsyncMasterConnection(redis.asyncio.sentinel.SentinelManagedConnection):
    """The asyncio one."""

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if not self.is_connected:
            await self.connect()  # type: ignore[no-untyped-call]
        await super().send_packed_command(command, check_health)


class _SentinelRedis(redis.Redis):
    """A master's client that also closes its connections to the Sentinels."""

    def close(self) -> None:
        super().close()
        cast(redis.sentinel.SentinelConnectionPool, self.connection_pool).sentinel_manager.close()


class _AsyncSentinelRedis(redis.asyncio.Redis):
    """The asyncio one."""

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        pool = cast(redis.asyncio.sentinel.SentinelConnectionPool, self.connection_pool)
        await pool.sentinel_manager.aclose()


def redis_client(url: str, **options: Any) -> redis.Redis:
    """A blocking client of the Redis at ``url`` (rq's workers and queues need one)."""
    if not is_sentinel_url(url):
        return redis.Redis.from_url(url, **options)
    parts = parse_sentinel_url(url)
    sentinel = redis.sentinel.Sentinel(
        parts.sentinels, sentinel_kwargs=parts.sentinel_options(options)
    )
    client = sentinel.master_for(
        parts.service_name,
        redis_class=_SentinelRedis,
        connection_class=_MasterConnection,
        **options,
        **parts.master_options(),
    )
    return cast(redis.Redis, client)


def async_redis_client(url: str, **options: Any) -> redis.asyncio.Redis:
    """An asyncio client of the Redis at ``url``."""
    if not is_sentinel_url(url):
        return redis.asyncio.Redis.from_url(url, **options)
    parts = parse_sentinel_url(url)
    sentinel = redis.asyncio.sentinel.Sentinel(
        parts.sentinels, sentinel_kwargs=parts.sentinel_options(options)
    )
    client = sentinel.master_for(
        parts.service_name,
        redis_class=_AsyncSentinelRedis,
        connection_class=_AsyncMasterConnection,
        **options,
        **parts.master_options(),
    )
    return cast(redis.asyncio.Redis, client)
