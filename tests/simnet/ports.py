"""Finding TCP port numbers that are free on several loopback addresses at once."""

from __future__ import annotations

import errno
import ipaddress
import random
import socket
from collections.abc import Iterable
from pathlib import Path

__all__ = ["ensure_loopback", "free_port_for", "loopback_hosts"]


def loopback_hosts(count: int, first: int = 1) -> list[str]:
    """`["127.0.0.<first>", ...]`, `count` addresses long."""
    return [f"127.0.0.{i}" for i in range(first, first + count)]


def _ephemeral_low() -> int:
    """Start of the kernel's ephemeral (client) port range; we pick ports below it."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return max(low, 12000)


def ensure_loopback(host: str) -> None:
    """Raise ValueError unless `host` is a loopback address (simnet never leaves the box)."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"simnet only binds loopback addresses, not {host!r}")


def _is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def free_port_for(hosts: Iterable[str], *, attempts: int = 200) -> int:
    """Return one TCP port number that can currently be bound on every host in `hosts`.

    Ports are drawn from below the ephemeral range so outgoing client connections
    are unlikely to grab the port between this check and the servers binding it.
    """
    host_list = list(hosts)
    if not host_list:
        raise ValueError("hosts must not be empty")
    for host in host_list:
        ensure_loopback(host)
    rng = random.Random()
    high = _ephemeral_low() - 1
    for _ in range(attempts):
        port = rng.randint(10000, high)
        if all(_is_free(host, port) for host in host_list):
            return port
    raise RuntimeError(f"no common free TCP port found for {host_list}")
