"""Encryption certificates: each body (and the hub) holds a second key pair, for secret documents.

Government PKIs keep signing and encryption keys apart: a signing key never leaves its holder
(non-repudiation), while an encryption key may have to be recovered. So ``keys init`` issues
every body an encryption certificate beside its signing one, with the key usage its key type
allows: RSA keys get ``keyEncipherment`` (the sender's AES key is wrapped with RSA-OAEP), EC
keys get ``keyAgreement`` (ECDH). Neither may sign, and a signing certificate may not be
encrypted to (see :class:`~exchange.pki.path.KeyPurpose`).

A sender checks a recipient's encryption certificate before encrypting to it
(:func:`check_encryption_certificate`): it must chain to the root, be valid now, not be on the
CRL, carry the encryption key usage and name the intended body. A revoked or expired
encryption certificate is never encrypted to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from exchange.errors import UnusableCertificateError
from exchange.pki.certificates import (
    CRL_URL,
    Credential,
    KeyAlgorithm,
    PrivateKey,
    body_id_of,
    certificate_pem,
    generate_key,
    issue_signing_certificate,
    private_key_pem,
)
from exchange.pki.path import KeyPurpose, PathResult, PathStatus, PathValidator
from exchange.pki.store import KeyStore

#: the hub's own encryption certificate is stored under this id
HUB_ID = "hub"
HUB_NAME = "Trục liên thông văn bản (hub)"


def encryption_key_usage(key: PrivateKey) -> x509.KeyUsage:
    """keyEncipherment for an RSA key, keyAgreement for an EC key; never a signing usage."""
    is_ec = isinstance(key, ec.EllipticCurvePrivateKey)
    return x509.KeyUsage(
        digital_signature=False, content_commitment=False,
        key_encipherment=not is_ec, data_encipherment=False, key_agreement=is_ec,
        key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
    )


def issue_encryption_certificate(
    key: PrivateKey, *, issuer: Credential, body_id: str, name_vi: str, unit: str | None = None,
    not_before: datetime, days: int = 730, crl_url: str | None = CRL_URL,
) -> x509.Certificate:
    """An encryption certificate for one body: its subject names the body as its signing one does."""
    return issue_signing_certificate(key, issuer=issuer, body_id=body_id, name_vi=name_vi, unit=unit,
                                     not_before=not_before, days=days, key_usage=encryption_key_usage(key),
                                     crl_url=crl_url)


def issue_encryption(
    store: KeyStore, *, body_id: str, name_vi: str, unit: str | None = None, issuing: Credential,
    at: datetime, algorithm: KeyAlgorithm, days: int = 730, backdate: timedelta = timedelta(minutes=10),
    crl_url: str | None = CRL_URL, key: PrivateKey | None = None,
) -> x509.Certificate:
    """Issue *body_id* a fresh encryption key (*key* if given) and certificate and write both
    to *store*."""
    key = key if key is not None else generate_key(algorithm)
    cert = issue_encryption_certificate(key, issuer=issuing, body_id=body_id, name_vi=name_vi, unit=unit,
                                        not_before=at - backdate, days=days, crl_url=crl_url)
    store.write(store.encryption_key_path(body_id).relative_to(store.directory), private_key_pem(key),
                private=True)
    store.write(store.encryption_cert_path(body_id).relative_to(store.directory), certificate_pem(cert))
    return cert


def archive_encryption(store: KeyStore, body_id: str) -> None:
    """Move the body's current encryption certificate to the archive (before a renewal).

    Its private key is kept beside the archived certificate: what was encrypted to the old
    key must stay readable by its recipient.
    """
    if not store.has_encryption(body_id):
        return
    old = store.encryption_certificate(body_id)
    stem = f"{body_id}-{old.serial_number:x}"
    store.write(store.encryption_archive_dir.relative_to(store.directory) / f"{stem}.pem", certificate_pem(old))
    store.write(store.encryption_archive_dir.relative_to(store.directory) / f"{stem}.key",
                store.encryption_key_path(body_id).read_bytes(), private=True)


def check_encryption_certificate(
    certificate: x509.Certificate, *, paths: PathValidator, body_id: str, at: datetime,
    intermediates: Sequence[x509.Certificate] = (),
) -> PathResult:
    """The path validation of *certificate* as *body_id*'s encryption certificate at *at*
    (*intermediates*: CA certificates to build the path with, e.g. the issuing CA).

    Raises UnusableCertificateError saying why when it must not be encrypted to: it names
    another body, does not chain to a trusted root, is expired or not yet valid, is revoked,
    its revocation status is unknown, or its key usage does not allow encryption.
    """
    named = body_id_of(certificate)
    if named != body_id:
        raise UnusableCertificateError(
            f"the encryption certificate offered for {body_id} names {named or 'no body'}")
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise UnusableCertificateError(f"the encryption certificate of {body_id} has an unsupported key type")
    result = paths.validate(certificate, at=at, intermediates=intermediates, purpose=KeyPurpose.ENCRYPTION)
    if result.status is not PathStatus.VALID:
        raise UnusableCertificateError(
            f"will not encrypt to {body_id}: its encryption certificate (serial {certificate.serial_number:x}) "
            f"is {result.status.value.replace('_', ' ')}: {result.detail}",
            detail={"body": body_id, "status": result.status.value})
    return result
