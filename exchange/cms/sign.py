"""Detached CMS SignedData signatures (RFC 5652), CAdES-BES shaped.

Built with asn1crypto's CMS structures and signed with ``cryptography``: the content is
hashed in a stream (so 50 MiB documents do not fill memory) and the signing time is a
parameter (so a simulated clock can sign in 2015). The signed attributes are content-type,
message-digest, signing-time and signing-certificate-v2 (the attribute EU validators expect).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

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
    if at.tzinfo is None:
        raise ValueError("signing time must be timezone-aware")
    return sign_digest(digest(content, "sha256"), credential, at=at)


def sign_digest(message_digest: bytes, credential: Credential, *, at: datetime) -> bytes:
    """As :func:`sign_detached`, for content already hashed with SHA-256."""
    cert_der = credential.certificate.public_bytes(serialization.Encoding.DER)
    cert = asn1_x509.Certificate.load(cert_der)
    issuer_serial = cms.IssuerAndSerialNumber({"issuer": cert.issuer, "serial_number": cert.serial_number})
    attributes = [
        _attr("content_type", cms.ContentType("data")),
        _attr("signing_time", cms.Time({"utc_time" if 1950 <= at.year < 2050 else "generalized_time": at})),
        _attr("message_digest", core.OctetString(message_digest)),
        _attr("signing_certificate_v2", tsp.SigningCertificateV2({
            "certs": [{
                "cert_hash": hashlib.sha256(cert_der).digest(),
                "issuer_serial": {
                    "issuer": [asn1_x509.GeneralName({"directory_name": cert.issuer})],
                    "serial_number": cert.serial_number,
                },
            }],
        })),
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

    certificates = [cert] + [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in credential.chain
    ]
    signer_info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": issuer_serial}),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "signed_attrs": signed_attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": sig_alg}),
        "signature": signature,
    })
    signed_data = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": "data"},  # detached: no eContent
        "certificates": [cms.CertificateChoices({"certificate": c}) for c in certificates],
        "signer_infos": [signer_info],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()


def _attr(kind: str, value: core.Asn1Value) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": kind, "values": [value]})
