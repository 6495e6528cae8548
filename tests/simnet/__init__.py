"""Simulated internet for Herald's tests: DNS, SMTP and TLS servers on loopback only."""

from .dns import DNSServer
from .ports import ensure_loopback, free_port_for, loopback_hosts
from .smtp import DEFER, REJECT, STAGES, ReceivedMessage, Reply, SMTPServer, Stage
from .tls import CertificateAuthority, ServerCertificate, default_ca

__all__ = [
    "DEFER",
    "REJECT",
    "STAGES",
    "CertificateAuthority",
    "DNSServer",
    "ReceivedMessage",
    "Reply",
    "SMTPServer",
    "ServerCertificate",
    "Stage",
    "default_ca",
    "ensure_loopback",
    "free_port_for",
    "loopback_hosts",
]
