"""The submission server's TLS certificate, reloaded when its files change.

A renewed certificate (certbot, cert-manager) replaces the files in place; each new
connection checks their modification times and sizes (a ``stat`` each, no read), so the
next handshake uses the new certificate without a restart. Implicit TLS (465) gets a
context whose SNI callback swaps in the current one, since the listening socket's context
is fixed when it is created.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

log = logging.getLogger("herald.submission")
_Stamp = tuple[int, int, int, int]


class ReloadingCertificate:
    """A server TLS context for a certificate and key file pair, rebuilt when they change."""

    def __init__(self, cert_file: str | Path, key_file: str | Path) -> None:
        self.cert_file = Path(cert_file)
        self.key_file = Path(key_file)
        self._stamp: _Stamp | None = None
        self._context = self._load()

    def _current_stamp(self) -> _Stamp:
        cert, key = self.cert_file.stat(), self.key_file.stat()
        return cert.st_mtime_ns, cert.st_size, key.st_mtime_ns, key.st_size

    def _load(self) -> ssl.SSLContext:
        stamp = self._current_stamp()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        self._stamp = stamp
        return context

    def context(self) -> ssl.SSLContext:
        """The context for a new connection: reloaded first if the files changed. A
        half-written renewal that fails to load keeps the previous context (logged)."""
        try:
            if self._current_stamp() != self._stamp:
                self._context = self._load()
                log.info("submission TLS certificate reloaded from %s", self.cert_file)
        except (OSError, ssl.SSLError, ValueError):
            log.warning("TLS certificate %s not reloaded", self.cert_file, exc_info=True)
        return self._context

    def implicit_tls_context(self) -> ssl.SSLContext:
        """A context for a listening socket that hands each handshake the current one."""
        base = self._load()

        def swap(connection: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
            del server_name
            connection.context = self.context()

        base.sni_callback = swap
        return base


def write_self_signed(cert_file: Path, key_file: Path, hostname: str) -> None:
    """A self-signed certificate for ``hostname``, ``localhost`` and the loopback
    addresses (development and tests: clients must be told to trust it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    names: list[x509.GeneralName] = [x509.DNSName(hostname), x509.DNSName("localhost")]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", "::1")]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.touch(mode=0o600)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
