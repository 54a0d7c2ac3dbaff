"""TLS certificates for the hub and its clients, issued under the demo root at the REAL time.

Signing certificates may be issued on a simulated clock (the demo replays 2015), but TLS
stacks (OpenSSL under Python's ``ssl``, curl, browsers) check validity against the real
clock. So TLS has a CA of its own under the root, ``tls/ca.pem`` ("DEMO TLS Issuing CA"),
issued from the real "now" the caller passes (a year), whatever the validity of the issuing CA
that signs body certificates; it issues the TLS certificates (90 days), each re-issued when it
no longer covers that moment, its hosts or its CA. Only the root must be valid now.

The server certificate names ``localhost``, ``127.0.0.1`` and the hosts asked for in its
subjectAltName, with extendedKeyUsage serverAuth. Client certificates (for ``hub serve
--mtls``) name their body in the subject ``UID``, as its signing certificate does, with
extendedKeyUsage clientAuth; the hub binds them to the token. Each ``.pem`` holds the leaf
followed by the TLS CA's certificate, so a peer that trusts only the root builds the chain.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from exchange.errors import PKIError
from exchange.pki.certificates import (
    CA_ORGANIZATION,
    Credential,
    KeyAlgorithm,
    PrivateKey,
    certificate_pem,
    generate_key,
    load_certificate_file,
    load_private_key,
    private_key_pem,
)
from exchange.pki.store import KeyStore

#: how long a TLS certificate lives, and how much of its life must remain to be reused
TLS_DAYS = 90
RENEW_BEFORE = timedelta(days=7)
#: how long the TLS CA lives (it is re-issued once less than TLS_DAYS remain)
TLS_CA_DAYS = 365
DEFAULT_HOSTS = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class TLSFiles:
    """Where a TLS certificate (with its chain) and its key are, and the certificate itself."""

    cert_path: Path
    key_path: Path
    certificate: x509.Certificate


def tls_dir(store: KeyStore) -> Path:
    """``tls/`` in the key directory: the hub's TLS certificate and key, apart from the signing
    PKI's files."""
    return store.directory / "tls"


def tls_ca(store: KeyStore, *, at: datetime) -> Credential:
    """The TLS CA (``tls/ca.pem``) under the root, valid at *at*: reused while it is valid for
    TLS_DAYS more and issued by the current root, else issued now (TLS_CA_DAYS).

    Raises PKIError if the root's key is not in *store*, or the root is not valid at *at*.
    """
    cert_path, key_path = tls_dir(store) / "ca.pem", tls_dir(store) / "ca.key"
    root = store.root()
    if cert_path.is_file() and key_path.is_file():
        current = load_certificate_file(cert_path)[0]
        if current.issuer == root.subject and _signed_by(current, root) and \
                current.not_valid_before_utc <= at <= current.not_valid_after_utc - timedelta(days=TLS_DAYS):
            return Credential(current, load_private_key(key_path, generated_here=True), (root,))
    if not (store.directory / "root-ca.key").is_file():
        raise PKIError("no TLS CA and no root CA key to issue one")
    if not root.not_valid_before_utc <= at <= root.not_valid_after_utc - timedelta(days=TLS_CA_DAYS):
        raise PKIError(f"the root CA is not valid at {at:%Y-%m-%d %H:%M}Z for the next {TLS_CA_DAYS} days (valid "
                       f"{root.not_valid_before_utc:%Y-%m-%d} to {root.not_valid_after_utc:%Y-%m-%d}): TLS clients "
                       "check the real time; make a PKI whose root is valid now (exchange keys init --force)")
    root_credential = store.root_credential()
    key = generate_key(_algorithm(store))
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, CA_ORGANIZATION),
                      x509.NameAttribute(NameOID.COMMON_NAME, "DEMO TLS Issuing CA")])
    not_before = at - timedelta(minutes=5)
    root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=TLS_CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False)
        .sign(root_credential.private_key, hashes.SHA256())
    )
    store.write("tls/ca.key", private_key_pem(key), private=True)
    store.write("tls/ca.pem", certificate_pem(cert))
    return Credential(cert, key, (root,))


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # noqa: BLE001 - any failure means "not this issuer's", never an error
        return False
    return True


def server_certificate(store: KeyStore, *, hosts: Iterable[str] = (), at: datetime) -> TLSFiles:
    """The hub's TLS server certificate for *hosts* (plus localhost and 127.0.0.1), valid at *at*.

    Reuses ``tls/hub.pem`` when it covers the hosts, was issued by the current TLS CA and is
    valid from *at* for at least a week more; otherwise issues a new one (90 days from *at*).
    Raises PKIError as :func:`tls_ca` does.
    """
    names = tuple(dict.fromkeys([*DEFAULT_HOSTS, *(h for h in hosts if h and h not in ("0.0.0.0", "::"))]))
    cert_path, key_path = tls_dir(store) / "hub.pem", tls_dir(store) / "hub.key"
    issuing = tls_ca(store, at=at)
    if cert_path.is_file() and key_path.is_file():
        current = load_certificate_file(cert_path)[0]
        if _reusable(current, issuing.certificate, names, at):
            return TLSFiles(cert_path, key_path, current)
    ca = issuing.certificate
    key = generate_key(_algorithm(store))
    cert = _server_builder(key, names=names, issuer=ca, at=at).sign(issuing.private_key, hashes.SHA256())
    store.write("tls/hub.key", private_key_pem(key), private=True)
    store.write("tls/hub.pem", certificate_pem(cert) + certificate_pem(ca))
    return TLSFiles(cert_path, key_path, cert)


def client_certificate(store: KeyStore, body_id: str, *, at: datetime) -> TLSFiles:
    """*body_id*'s TLS client certificate (``tls/clients/ID.pem``), valid at *at*: reused while
    it is valid for a week more and issued by the current TLS CA, else issued now.

    Raises PKIError when it must be issued and cannot be: the key folder holds no CA key (a
    node's own key folder need not: it then has no client certificate), or as :func:`tls_ca`.
    """
    directory = tls_dir(store) / "clients"
    cert_path, key_path = directory / f"{body_id}.pem", directory / f"{body_id}.key"
    ca_path = tls_dir(store) / "ca.pem"
    if cert_path.is_file() and key_path.is_file() and ca_path.is_file():
        current = load_certificate_file(cert_path)[0]
        ca = load_certificate_file(ca_path)[0]
        if current.issuer == ca.subject and _signed_by(current, ca) and \
                current.not_valid_before_utc <= at <= current.not_valid_after_utc - RENEW_BEFORE:
            return TLSFiles(cert_path, key_path, current)
    issuing = tls_ca(store, at=at)
    issuer_cert = issuing.certificate
    key = generate_key(_algorithm(store))
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Đảng Cộng sản Việt Nam"),
                         x509.NameAttribute(NameOID.USER_ID, body_id),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"{body_id} (TLS client)")])
    cert = _leaf_builder(key, subject=subject, issuer=issuer_cert, at=at,
                         usage=ExtendedKeyUsageOID.CLIENT_AUTH).sign(issuing.private_key, hashes.SHA256())
    relative = f"tls/clients/{body_id}"
    store.write(f"{relative}.key", private_key_pem(key), private=True)
    store.write(f"{relative}.pem", certificate_pem(cert) + certificate_pem(issuer_cert))
    return TLSFiles(cert_path, key_path, cert)


def _algorithm(store: KeyStore) -> KeyAlgorithm:
    try:
        return KeyAlgorithm(store.manifest().get("algorithm", KeyAlgorithm.RSA2048.value))
    except ValueError:
        return KeyAlgorithm.RSA2048


def _reusable(cert: x509.Certificate, issuer: x509.Certificate, names: tuple[str, ...], at: datetime) -> bool:
    if cert.issuer != issuer.subject or not _signed_by(cert, issuer):
        return False
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc - RENEW_BEFORE:
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    covered = {str(v) for v in san.get_values_for_type(x509.DNSName)} | \
              {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    return all(_canonical(n) in covered for n in names)


def _canonical(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def _server_builder(key: PrivateKey, *, names: tuple[str, ...], issuer: x509.Certificate,
                    at: datetime) -> x509.CertificateBuilder:
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Đảng Cộng sản Việt Nam"),
                         x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    return (_leaf_builder(key, subject=subject, issuer=issuer, at=at, usage=ExtendedKeyUsageOID.SERVER_AUTH)
            .add_extension(x509.SubjectAlternativeName(alt), critical=False))


def _leaf_builder(key: PrivateKey, *, subject: x509.Name, issuer: x509.Certificate, at: datetime,
                  usage: x509.ObjectIdentifier) -> x509.CertificateBuilder:
    """A TLS leaf for *usage* (serverAuth or clientAuth), valid from *at* for TLS_DAYS."""
    not_before = at - timedelta(minutes=5)
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    key_usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=is_rsa,
                              data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                              encipher_only=False, decipher_only=False)
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=TLS_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
    )
