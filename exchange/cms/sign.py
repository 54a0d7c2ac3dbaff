"""Detached CMS SignedData signatures (RFC 5652), CAdES-BES shaped.

Built with asn1crypto's CMS structures and signed with ``cryptography``: the content is
hashed in a stream (so 50 MiB documents do not fill memory) and the signing time is a
parameter (so a simulated clock can sign in 2015). The signed attributes are content-type,
message-digest, signing-time and signing-certificate-v2 (the attribute EU validators expect).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from exchange.cms.content import Content, digest
from exchange.pki.certificates import Credential


def sign_detached(content: Content, credential: Credential, *, at: datetime) -> bytes:
    """A DER detached CMS signature over *content* by *credential*, signing time *at*.

    The signer's certificate and the CA certificates in ``credential.chain`` are embedded.
    """
    at = _signing_time(at)  # before reading the content: a usage error should fail fast
    return sign_digest(digest(content, "sha256"), credential, at=at)


def sign_digest(message_digest: bytes, credential: Credential, *, at: datetime) -> bytes:
    """As :func:`sign_detached`, for content already hashed with SHA-256."""
    at = _signing_time(at)
    cert_der = credential.certificate.public_bytes(serialization.Encoding.DER)
    parts = _signer_parts(cert_der, tuple(c.public_bytes(serialization.Encoding.DER) for c in credential.chain))
    attributes = [
        _attr("content_type", cms.ContentType("data")),
        _attr("signing_time", cms.Time({"utc_time" if 1950 <= at.year < 2050 else "generalized_time": at})),
        _attr("message_digest", core.OctetString(message_digest)),
        cms.CMSAttribute.load(parts.signing_certificate),
    ]
    # DER orders a SET OF by encoding; verifiers (openssl) re-encode before checking.
    signed_attrs = cms.CMSAttributes(sorted(attributes, key=lambda a: a.dump()))
    to_sign = signed_attrs.dump()  # DER of SET OF Attribute: what RFC 5652 §5.4 signs
    key = credential.private_key
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
        sig_alg = "sha256_rsa"
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
        sig_alg = "sha256_ecdsa"
    else:  # pragma: no cover - keys are loaded through load_private_key
        raise TypeError(f"unsupported key type {type(key).__name__}")

    signer_info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier.load(parts.sid),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "signed_attrs": signed_attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": sig_alg}),
        "signature": signature,
    })
    signed_data = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": "data"},  # detached: no eContent
        "certificates": [cms.CertificateChoices.load(der) for der in parts.certificates],
        "signer_infos": [signer_info],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()


@dataclass(frozen=True)
class _SignerParts:
    """DER of what every signature by one certificate repeats, encoded once."""

    sid: bytes  # SignerIdentifier (issuer and serial number)
    signing_certificate: bytes  # the signing-certificate-v2 attribute
    certificates: tuple[bytes, ...]  # CertificateChoices: the signer's, then its chain


@lru_cache(maxsize=512)
def _signer_parts(cert_der: bytes, chain_der: tuple[bytes, ...]) -> _SignerParts:
    # Building these from parsed certificates makes asn1crypto re-encode the issuer names,
    # which cost ~25 ms a signature (vs ~0.3 ms for RSA itself); the bytes are the same each
    # time, so they are built once per certificate and re-loaded (loading keeps the bytes).
    cert = asn1_x509.Certificate.load(cert_der)
    issuer_serial = cms.IssuerAndSerialNumber({"issuer": cert.issuer, "serial_number": cert.serial_number})
    signing_certificate = _attr("signing_certificate_v2", tsp.SigningCertificateV2({
        "certs": [{
            "cert_hash": hashlib.sha256(cert_der).digest(),
            "issuer_serial": {
                "issuer": [asn1_x509.GeneralName({"directory_name": cert.issuer})],
                "serial_number": cert.serial_number,
            },
        }],
    }))
    certificates = [cert] + [asn1_x509.Certificate.load(der) for der in chain_der]
    return _SignerParts(
        sid=cms.SignerIdentifier({"issuer_and_serial_number": issuer_serial}).dump(),
        signing_certificate=signing_certificate.dump(),
        certificates=tuple(cms.CertificateChoices({"certificate": c}).dump() for c in certificates),
    )


def _signing_time(at: datetime) -> datetime:
    # RFC 5652 §11.3: signing-time is UTC in whole seconds (GeneralizedTime must not carry
    # fractions; UTCTime cannot). Converting first also picks UTCTime by the UTC year.
    if at.tzinfo is None:
        raise ValueError("signing time must be timezone-aware")
    return at.astimezone(UTC).replace(microsecond=0)


def _attr(kind: str, value: core.Asn1Value) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": kind, "values": [value]})
