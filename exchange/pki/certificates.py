"""Certificate profiles of the demo PKI, keys, and reading certificates back.

The profile follows the government CA's: a self-signed root, an issuing CA under it, and
end-entity signing certificates with digitalSignature + contentCommitment, a UTF-8 subject
naming the body in Vietnamese, the body id as ``UID``, and a CRL distribution point. The hub's
time-stamping authority has its own certificate (RFC 3161 §2.3: extended key usage
id-kp-timeStamping only, critical), longer-lived than the bodies' so that its tokens outlast
the certificates whose signatures they date.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from exchange.errors import InputFileError, MalformedError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

#: The hub that publishes the demo CA's CRLs (``GET /api/crl``, ``GET /api/crl/root``) unless
#: ``keys init --crl-url`` names another. Validators here never fetch: they are always *given*
#: the CRLs, and enforce them whether or not a certificate names a distribution point;
#: openssl (``-crl_download``) and pyHanko (with fetching on) can follow the URL.
DEFAULT_HUB_URL = "http://127.0.0.1:8000"
CRL_URL = f"{DEFAULT_HUB_URL}/api/crl"


def crl_urls(hub_url: str = DEFAULT_HUB_URL) -> tuple[str, str]:
    """(the issuing CA's CRL, the root's CRL) as the hub at *hub_url* serves them."""
    base = hub_url.rstrip("/")
    return f"{base}/api/crl", f"{base}/api/crl/root"

ORGANIZATION = "Đảng Cộng sản Việt Nam"
CA_ORGANIZATION = "Ban Cơ yếu Chính phủ (DEMO — không phải CA thật)"


class KeyAlgorithm(StrEnum):
    """The key types the demo PKI issues: RSA-2048 (the default) or ECDSA on P-256."""

    RSA2048 = "rsa2048"
    ECDSA_P256 = "ecdsa-p256"


def generate_key(algorithm: KeyAlgorithm) -> PrivateKey:
    """A fresh private key: RSA-2048 (e=65537) or ECDSA on P-256."""
    if algorithm is KeyAlgorithm.RSA2048:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def generate_keys(algorithm: KeyAlgorithm, count: int) -> list[PrivateKey]:
    """*count* fresh private keys, made on every core: OpenSSL's key generation runs outside
    Python's lock, and an RSA-2048 key costs ~40 ms (a PKI of 80 bodies needs 165)."""
    if count < 4:
        return [generate_key(algorithm) for _ in range(count)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="keygen") as pool:
        return list(pool.map(generate_key, [algorithm] * count))


@dataclass(frozen=True)
class Credential:
    """A signing identity: certificate, its private key, and the CA certificates above it."""

    certificate: x509.Certificate
    private_key: PrivateKey
    chain: tuple[x509.Certificate, ...] = ()


def body_id_of(certificate: x509.Certificate) -> str | None:
    """The body id a certificate was issued to (its subject ``UID``), or None."""
    attrs = certificate.subject.get_attributes_for_oid(NameOID.USER_ID)
    return str(attrs[0].value) if attrs else None


def common_name_of(certificate: x509.Certificate) -> str:
    """The certificate subject's common name, or the whole subject (RFC 4514) when it has none."""
    attrs = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else certificate.subject.rfc4514_string()


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 fingerprint of the DER certificate, lowercase hex."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _name(cn: str, *, org: str, uid: str | None = None, unit: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    if uid:
        attrs.append(x509.NameAttribute(NameOID.USER_ID, uid))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: PrivateKey,
    *,
    not_before: datetime,
    days: int,
    serial: int | None = None,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key.public_key()), critical=False)
    )


def issue_root(key: PrivateKey, *, not_before: datetime, days: int = 3650) -> x509.Certificate:
    """A self-signed root CA certificate (the Government Cipher Committee's, in the demo)."""
    name = _name("DEMO Government Cipher Committee Root CA", org=CA_ORGANIZATION)
    return (
        _builder(name, name, key, not_before=not_before, days=days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .sign(key, hashes.SHA256())
    )


def issue_ca(
    key: PrivateKey, *, issuer: Credential, not_before: datetime, days: int = 1825,
    crl_url: str | None = None,
) -> x509.Certificate:
    """The issuing CA under the root: it signs body, hub and TSA certificates and its CRL.

    *crl_url*: where the root's CRL (which covers this certificate) is published.
    """
    name = _name("DEMO Party Bodies Issuing CA", org=CA_ORGANIZATION)
    builder = (
        _builder(name, issuer.certificate.subject, key, not_before=not_before, days=days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(_aki(issuer.certificate), critical=False)
    )
    return _with_crl_url(builder, crl_url).sign(issuer.private_key, hashes.SHA256())


def issue_signing_certificate(
    key: PrivateKey,
    *,
    issuer: Credential,
    body_id: str,
    name_vi: str,
    unit: str | None = None,
    not_before: datetime,
    days: int = 730,
    key_usage: x509.KeyUsage | None = None,
    crl_url: str | None = CRL_URL,
) -> x509.Certificate:
    """An end-entity signing certificate for one body (digitalSignature + contentCommitment).

    ``crl_url=None`` leaves out the CRL distribution point (validators here enforce a CRL
    they are given either way; tests use this to prove it).
    """
    subject = _name(name_vi, org=ORGANIZATION, uid=body_id, unit=unit)
    builder = (
        _builder(subject, issuer.certificate.subject, key, not_before=not_before, days=days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage or signing_key_usage(), critical=True)
        .add_extension(_aki(issuer.certificate), critical=False)
    )
    return _with_crl_url(builder, crl_url).sign(issuer.private_key, hashes.SHA256())


def issue_hub_certificate(
    key: PrivateKey, *, issuer: Credential, not_before: datetime, days: int = 730,
    crl_url: str | None = CRL_URL,
) -> x509.Certificate:
    """The hub's certificate: it signs the hub's own statements (e.g. its transparency log)."""
    builder = (
        _builder(_name("Trục liên thông văn bản (hub)", org=ORGANIZATION, uid="hub"),
                 issuer.certificate.subject, key, not_before=not_before, days=days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(signing_key_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(_aki(issuer.certificate), critical=False)
    )
    return _with_crl_url(builder, crl_url).sign(issuer.private_key, hashes.SHA256())


#: the common name of the hub's time-stamping authority
TSA_NAME = "DEMO Trục liên thông văn bản — Time-Stamping Authority"


def issue_tsa_certificate(
    key: PrivateKey, *, issuer: Credential, not_before: datetime, days: int = 1460,
    crl_url: str | None = CRL_URL, name: str = TSA_NAME,
) -> x509.Certificate:
    """The time-stamping authority's certificate (RFC 3161 §2.3): its own key, key usage
    digitalSignature + contentCommitment, and extended key usage id-kp-timeStamping alone,
    critical, so the key can sign nothing but time-stamp tokens. No ``UID``: it is no body."""
    builder = (
        _builder(_name(name, org=ORGANIZATION), issuer.certificate.subject, key,
                 not_before=not_before, days=days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(signing_key_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(_aki(issuer.certificate), critical=False)
    )
    return _with_crl_url(builder, crl_url).sign(issuer.private_key, hashes.SHA256())


def is_tsa_certificate(certificate: x509.Certificate) -> bool:
    """Whether *certificate* is a time-stamping authority's: id-kp-timeStamping, critical."""
    try:
        eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return False
    return eku.critical and ExtendedKeyUsageOID.TIME_STAMPING in eku.value


def _with_crl_url(builder: x509.CertificateBuilder, crl_url: str | None) -> x509.CertificateBuilder:
    if crl_url is None:
        return builder
    return builder.add_extension(
        x509.CRLDistributionPoints(
            [x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)]
        ),
        critical=False,
    )


def signing_key_usage(*, digital_signature: bool = True, content_commitment: bool = True) -> x509.KeyUsage:
    """The KeyUsage extension of a signing certificate: digitalSignature and nonRepudiation by
    default, nothing that encrypts or certifies."""
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _aki(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


# -- reading and writing -----------------------------------------------------------------


#: what ``cryptography`` raises for bytes that are not a well-formed certificate
_UNDECODABLE = (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion, x509.DuplicateExtension)


def load_certificates(data: bytes, *, source: str = "input") -> list[x509.Certificate]:
    """Every certificate in PEM or DER *data*, wholly decoded; raises MalformedError if there
    is none or one does not decode."""
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except _UNDECODABLE as exc:
        raise MalformedError(f"{source} is not a certificate: {exc}") from None
    for cert in certs:
        decoded(cert, source=source)
    return certs


def load_der_certificate(der: bytes, *, source: str = "input") -> x509.Certificate:
    """One DER certificate, wholly decoded (see :func:`decoded`); MalformedError otherwise."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except _UNDECODABLE as exc:
        raise MalformedError(f"{source} is not a certificate: {exc}") from None
    return decoded(cert, source=source)


def decoded(cert: x509.Certificate, *, source: str = "input") -> x509.Certificate:
    """*cert* once every part the validators read has been decoded; MalformedError otherwise.

    ``cryptography`` parses a certificate's outer structure at load time but decodes its
    names, key, extensions and dates only when first read, so a corrupted certificate loads
    fine and raises later, deep inside validation. Reading them all here turns that into one
    parse-time error (a CMS signature carrying it becomes FORMAT_FAILURE, not a crash).
    """
    try:
        cert.subject.rfc4514_string()
        cert.issuer.rfc4514_string()
        cert.public_key()
        for _ in cert.extensions:
            pass
        cert.not_valid_before_utc, cert.not_valid_after_utc  # noqa: B018
        cert.signature_algorithm_oid  # noqa: B018
    except _UNDECODABLE as exc:
        raise MalformedError(f"{source}: a certificate does not decode: {exc}") from None
    return cert


def load_certificate_file(path: str | Path) -> list[x509.Certificate]:
    """Every certificate in the PEM or DER file at *path*; raises InputFileError if unreadable,
    MalformedError if none parses."""
    return load_certificates(read_file(path), source=str(path))


def read_file(path: str | Path) -> bytes:
    """Read a whole file, turning OS errors into one readable InputFileError."""
    p = Path(path)
    if p.is_dir():
        raise InputFileError(f"{p} is a directory, not a file")
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"no such file: {p}") from None
    except OSError as exc:
        raise InputFileError(f"cannot read {p}: {exc.strerror or exc}") from None


def load_private_key(path: str | Path, *, generated_here: bool = False) -> PrivateKey:
    """An unencrypted PEM private key. *generated_here*: a key this project generated and
    wrote itself (a KeyStore's), whose RSA parameters need no re-validation."""
    data = read_file(path)
    try:
        # OpenSSL's RSA key check costs ~40 ms a load (more than 50 signatures) and guards
        # against malformed or tampered parameters, which a key from elsewhere may have. Keys
        # that generate_key made and the key store wrote (mode 0600) skip it.
        key = serialization.load_pem_private_key(data, password=None,
                                                 unsafe_skip_rsa_key_validation=generated_here)
    except (ValueError, TypeError) as exc:
        raise MalformedError(f"{path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise MalformedError(f"{path}: unsupported key type {type(key).__name__}")
    return key


def certificate_pem(certificate: x509.Certificate) -> bytes:
    """*certificate* as PEM bytes."""
    return certificate.public_bytes(serialization.Encoding.PEM)


def private_key_pem(key: PrivateKey) -> bytes:
    """*key* as unencrypted PKCS#8 PEM (the demo keeps its keys in clear on disk)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
