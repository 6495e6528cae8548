"""pytest fixtures for the simulated internet; tests/conftest.py star-imports this module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import pytest

from .dns import DNSServer
from .ports import free_port_for, loopback_hosts
from .smtp import SMTPServer
from .tls import CertificateAuthority, default_ca

__all__ = ["SMTPServerFactory", "dns_server", "simnet_ca", "smtp_port", "smtp_server_factory"]

SMTP_HOSTS = loopback_hosts(9)
"""127.0.0.1 .. 127.0.0.9: the addresses `smtp_port` is guaranteed free on."""


class SMTPServerFactory(Protocol):
    """Signature of the `smtp_server_factory` fixture."""

    def __call__(self, host: str = "127.0.0.2", **behaviour: Any) -> SMTPServer: ...


@pytest.fixture
def dns_server() -> Iterator[DNSServer]:
    """A running, empty DNS server on 127.0.0.1:<ephemeral>; use `.address` for Herald."""
    with DNSServer() as server:
        yield server


@pytest.fixture(scope="session")
def smtp_port() -> int:
    """One TCP port free on 127.0.0.1-127.0.0.9, shared by all simulated MX servers."""
    return free_port_for(SMTP_HOSTS)


@pytest.fixture(scope="session")
def simnet_ca() -> CertificateAuthority:
    """The process-wide test CA that signs simulated servers' certificates."""
    return default_ca()


@pytest.fixture
def smtp_server_factory(smtp_port: int) -> Iterator[SMTPServerFactory]:
    """`factory("127.0.0.2", **behaviour)` starts an SMTPServer on `smtp_port`; all stop after."""
    servers: list[SMTPServer] = []

    def factory(host: str = "127.0.0.2", **behaviour: Any) -> SMTPServer:
        server = SMTPServer(host, smtp_port, **behaviour).start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()
