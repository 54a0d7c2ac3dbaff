"""The envelope's XML signature (XMLDSig, enveloped, RSA- or ECDSA-SHA256) by the sender's key.

Signing and verification are done by ``signxml``; path validation of the signer's certificate
(chain to our root, CRL, validity at *at*) by :mod:`exchange.pki.path`, like every other
signature here. The signature covers the whole package (``Reference URI=""``), attachments
included, and sits where the SDK puts its ``<Signature>``: the last child of edXMLHeader.
The SDK's own ``<Signature>`` is a placeholder in the QCVN namespace with static values; it is
reported as such and never "verified".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree
from signxml import CanonicalizationMethod, SignatureMethod, XMLSigner, XMLVerifier
from signxml.exceptions import (
    InvalidCertificate,
    InvalidDigest,
    InvalidInput,
    InvalidSignature,
    SignXMLException,
)
from signxml.verifier import SignatureConfiguration

from exchange.edxml.codes import DSIG_NS
from exchange.edxml.reader import DEFAULT_MAX_PACKAGE, parse_xml
from exchange.errors import MalformedError
from exchange.pki.certificates import Credential, body_id_of, common_name_of
from exchange.pki.path import PathValidator


class XmlSignatureStatus(StrEnum):
    """What checking a package's XMLDSig found: valid, invalid (altered), untrusted (certificate),
    the SDK's placeholder, or absent."""

    VALID = "valid"  # XMLDSig verified and the signer's certificate path validated
    INVALID = "invalid"  # the package was altered or the signature does not match
    UNTRUSTED = "untrusted"  # the signature matches, but the certificate does not validate
    PLACEHOLDER = "sdk-placeholder"  # the SDK's static <Signature> (not an XML signature)
    ABSENT = "absent"  # no signature at all


@dataclass(frozen=True)
class XmlSignatureReport:
    """What checking a package's XML signature found, and why."""

    status: XmlSignatureStatus
    detail: str
    signer: str | None = None  # body id (certificate UID) when known
    subject: str | None = None  # the certificate's common name
    at: datetime | None = None

    @property
    def valid(self) -> bool:
        """Whether the XML signature verified and its certificate path validated."""
        return self.status is XmlSignatureStatus.VALID

    def summary(self) -> str:
        """One line: the status, the signer if known, and why."""
        who = f" by {self.signer or self.subject}" if (self.signer or self.subject) else ""
        return f"XML signature {self.status.value}{who}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able data (status, detail, signer, subject, signing time)."""
        return {"status": self.status.value, "detail": self.detail, "signer": self.signer,
                "subject": self.subject, "at": self.at.isoformat() if self.at else None}


def sign_package(xml: bytes, credential: Credential) -> bytes:
    """*xml* (written with the signature placeholder) signed by *credential*'s key, its
    certificate and chain in KeyInfo."""
    root = parse_xml(xml, max_size=2 * DEFAULT_MAX_PACKAGE)
    key = credential.private_key
    method = SignatureMethod.ECDSA_SHA256 if isinstance(key, ec.EllipticCurvePrivateKey) else SignatureMethod.RSA_SHA256
    signer = XMLSigner(signature_algorithm=method, digest_algorithm="sha256",
                       c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    signer.namespaces = {None: DSIG_NS}  # type: ignore[dict-item]  # <Signature xmlns="…xmldsig#">, as real packages
    signed = signer.sign(root, key=key, cert=[credential.certificate, *credential.chain])
    for node in signed.iter(f"{{{DSIG_NS}}}Signature"):
        node.attrib.pop("Id", None)  # the placeholder's marker, not part of what a reader needs
    body = etree.tostring(signed, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def verify_package(xml: bytes, *, validator: PathValidator | None, at: datetime) -> XmlSignatureReport:
    """Check the XML signature of a package at time *at* against *validator*'s trust anchors
    (None: no trust anchor at hand, so a matching signature is at best UNTRUSTED)."""
    root = parse_xml(xml)
    signatures = root.findall(f".//{{{DSIG_NS}}}Signature")
    if not signatures:
        placeholder = any(etree.QName(n).localname in ("Signature", "DigitalSignature")
                          for n in root.iter() if isinstance(n.tag, str))
        if placeholder:
            return XmlSignatureReport(XmlSignatureStatus.PLACEHOLDER, "the header carries the SDK's placeholder "
                                      "<Signature> (static values, not in the XMLDSig namespace): nothing to verify",
                                      at=at)
        return XmlSignatureReport(XmlSignatureStatus.ABSENT, "the package carries no XML signature", at=at)
    if len(signatures) > 1:
        return XmlSignatureReport(XmlSignatureStatus.INVALID, "more than one XML signature", at=at)
    certs = _certificates(signatures[0])
    if not certs:
        return XmlSignatureReport(XmlSignatureStatus.INVALID, "the signature carries no X509Certificate", at=at)
    leaf = certs[0]
    signer, subject = body_id_of(leaf), common_name_of(leaf)

    def found(status: XmlSignatureStatus, detail: str) -> XmlSignatureReport:
        return XmlSignatureReport(status, detail, signer=signer, subject=subject, at=at)

    try:
        result = XMLVerifier().verify(xml, x509_cert=leaf, expect_config=SignatureConfiguration(
            require_x509=True, expect_references=1, verification_time=at))
    except (InvalidSignature, InvalidDigest) as exc:
        return found(XmlSignatureStatus.INVALID, f"the package does not match its signature ({exc})")
    except InvalidCertificate as exc:
        return found(XmlSignatureStatus.UNTRUSTED, f"certificate: {exc}")
    except (InvalidInput, SignXMLException, ValueError) as exc:
        return found(XmlSignatureStatus.INVALID, f"malformed signature ({exc})")
    signed_root = result.signed_xml  # type: ignore[union-attr]
    # Against signature wrapping: the signed reference must be the whole package.
    if signed_root is None or etree.QName(signed_root).localname != "edXML":
        return found(XmlSignatureStatus.INVALID, "the signature does not cover the whole package")
    if validator is None:
        return found(XmlSignatureStatus.UNTRUSTED, "the package matches its signature, but no trust "
                     "anchor was given to check the signer's certificate")
    path = validator.validate(leaf, at=at, intermediates=certs[1:])
    if not path.ok:
        return found(XmlSignatureStatus.UNTRUSTED, f"signer certificate: {path.detail}")
    return found(XmlSignatureStatus.VALID, "XMLDSig over the whole package verified; signer's "
                 "certificate chains to the root and is not revoked")


def _certificates(signature: etree._Element) -> list[x509.Certificate]:
    out = []
    for node in signature.iter(f"{{{DSIG_NS}}}X509Certificate"):
        text = "".join((node.text or "").split())
        try:
            out.append(x509.load_der_x509_certificate(_b64(text)))
        except ValueError:
            raise MalformedError("the XML signature's X509Certificate is not a certificate",
                                 code="invalid-edxml") from None
    return out


def _b64(text: str) -> bytes:
    import base64
    import binascii

    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
