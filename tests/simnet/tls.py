"""Throw-away X.509 material: a test CA and server certificates made at runtime."""

from __future__ import annotations

import datetime
import functools
import ipaddress
import itertools
import shutil
import ssl
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertificateAuthority", "ServerCertificate", "default_ca"]

_PrivateKey = ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _san_entry(name: str) -> x509.GeneralName:
    """An IPAddress entry for IP literals, a DNSName entry otherwise."""
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name.rstrip(".").lower())


def _key_pem(key: _PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass(frozen=True)
class ServerCertificate:
    """A leaf certificate and key, as PEM bytes and as files on disk.

    `cert_pem`/`cert_file` hold the full chain (leaf followed by the CA certificate).
    """

    names: tuple[str, ...]
    cert_pem: bytes
    key_pem: bytes
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        """A server-side SSLContext presenting this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


class CertificateAuthority:
    """A self-signed test CA that issues server certificates for any names/IPs.

    Files live in a private temporary directory removed when the CA is garbage
    collected, at exit, or on `cleanup()`; nothing is ever written to the repository.
    """

    def __init__(self, common_name: str = "Simnet Test CA", *, valid_days: int = 7) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="simnet-ca-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.directory, True)
        self._valid = datetime.timedelta(days=valid_days)
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + self._valid)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )
        self.cert_pem = self.certificate.public_bytes(serialization.Encoding.PEM)
        self.ca_file = self.directory / "ca.pem"
        self.ca_file.write_bytes(self.cert_pem)
        self._serial = itertools.count(1)

    def issue(self, *names: str) -> ServerCertificate:
        """Issue a server certificate whose SAN lists `names` (DNS names or IP literals)."""
        if not names:
            raise ValueError("at least one name is required")
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        ca_ski = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + self._valid)
            .add_extension(x509.SubjectAlternativeName([_san_entry(n) for n in names]), False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski.value),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        n = next(self._serial)
        cert_pem = cert.public_bytes(serialization.Encoding.PEM) + self.cert_pem
        key_pem = _key_pem(key)
        cert_file = self.directory / f"server-{n}.pem"
        key_file = self.directory / f"server-{n}.key"
        cert_file.write_bytes(cert_pem)
        key_file.write_bytes(key_pem)
        key_file.chmod(0o600)
        return ServerCertificate(tuple(names), cert_pem, key_pem, cert_file, key_file)

    def client_context(self) -> ssl.SSLContext:
        """A client SSLContext that trusts only this CA and checks host names."""
        return ssl.create_default_context(cadata=self.cert_pem.decode("ascii"))

    def cleanup(self) -> None:
        """Remove the temporary directory holding the PEM files."""
        self._finalizer()


@functools.cache
def default_ca() -> CertificateAuthority:
    """The process-wide test CA shared by simulated servers."""
    return CertificateAuthority()
