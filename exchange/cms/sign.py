"""Detached CMS SignedData signatures (RFC 5652), CAdES-BES shaped.

The content is hashed in a stream (so 50 MiB documents do not fill memory) and the signing
time is a parameter (so a simulated clock can sign in 2015). The signed attributes are
content-type, message-digest, signing-time and signing-certificate-v2 (the attribute EU
validators expect); the signer's certificate and its chain are embedded.

Everything in a signature except the signing time, the message digest and the signature
value is the same for every signature one certificate makes. So the DER is encoded once per
signer with asn1crypto (a :class:`_Template`), and each signature only splices those three
values into it: building the structures anew cost several times the RSA operation itself.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import lru_cache

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from exchange.cms.content import Content, digest
from exchange.cms.der import contents_of, tlv
from exchange.pki.certificates import Credential

_SHA256_SIZE = 32


def sign_detached(content: Content, credential: Credential, *, at: datetime) -> bytes:
    """A DER detached CMS signature over *content* by *credential*, signing time *at*.

    The signer's certificate and the CA certificates in ``credential.chain`` are embedded.
    Raises ValueError if *at* is naive.
    """
    at = _signing_time(at)  # before reading the content: a usage error should fail fast
    return sign_digest(digest(content, "sha256"), credential, at=at)


def sign_digest(message_digest: bytes, credential: Credential, *, at: datetime) -> bytes:
    """As :func:`sign_detached`, for content already hashed with SHA-256.

    Raises ValueError if *at* is naive or *message_digest* is not 32 bytes long.
    """
    at = _signing_time(at)
    if len(message_digest) != _SHA256_SIZE:
        raise ValueError(
            f"a SHA-256 message digest is {_SHA256_SIZE} bytes, not {len(message_digest)}")
    key = credential.private_key
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm = "sha256_rsa"
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = "sha256_ecdsa"
    else:  # pragma: no cover - keys are loaded through load_private_key
        raise TypeError(f"unsupported key type {type(key).__name__}")
    generalized = not 1950 <= at.year < 2050  # RFC 5652 §11.3: UTCTime for 1950-2049
    template = _template(credential.certificate, credential.chain, algorithm, generalized)
    signing_time = _time_text(at, generalized=generalized)
    signed_attrs = template.signed_attributes(signing_time, message_digest)
    # RFC 5652 §5.4: the signature covers the attributes as an explicit SET OF (tag 0x31),
    # not as they travel ([0] IMPLICIT, tag 0xA0); the rest of the encoding is the same.
    to_sign = b"\x31" + signed_attrs[1:]
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
    return template.content_info(signed_attrs, signature)


class _Template:
    """The DER of one signer's signatures with blanks where each signature differs.

    Built once per (certificate, chain, signature algorithm, signing-time encoding) from
    asn1crypto structures, so every constant byte is asn1crypto's own encoding. The splice
    points are:

    * in the signed attributes (``[0] IMPLICIT SET OF Attribute``, DER-sorted): the
      signing time's characters (13 bytes of UTCTime ``YYMMDDHHMMSSZ`` or 15 of
      GeneralizedTime ``YYYYMMDDHHMMSSZ``) at ``_time_at`` and the 32-byte message digest
      at ``_digest_at``. Both have a fixed length, so no length around them changes, and
      the attributes' DER order does not depend on them (checked when the template is built);
    * the signature value, an OCTET STRING closing the SignerInfo. Its length is fixed for
      an RSA key but not for ECDSA (a DER SEQUENCE of two INTEGERs), so the five lengths
      that enclose it (SignerInfo, SET OF SignerInfo, SignedData, ``[0]`` content,
      ContentInfo) are encoded per signature.
    """

    __slots__ = ("_attrs", "_content_type", "_digest_at", "_signed_data_head", "_signer_head",
                 "_signer_tail", "_time_at", "_time_size")

    def __init__(self, cert_der: bytes, chain_der: tuple[bytes, ...], algorithm: str, *,
                 generalized: bool) -> None:
        cert = asn1_x509.Certificate.load(cert_der)
        blank_time = datetime(2050 if generalized else 2000, 1, 1, tzinfo=UTC)
        time_kind = "generalized_time" if generalized else "utc_time"
        time_text = _time_text(blank_time, generalized=generalized)
        blank_digest = bytes(_SHA256_SIZE)
        encoded = [
            _attr("content_type", cms.ContentType("data")).dump(),
            _attr("signing_time", cms.Time({time_kind: blank_time})).dump(),
            _attr("message_digest", core.OctetString(blank_digest)).dump(),
            _signing_certificate_v2(cert, cert_der).dump(),
        ]
        # Each blank is the contents of its attribute's last TLV (Attribute ::= SEQUENCE
        # { attrType, attrValues SET { value } }), so it ends the attribute's encoding.
        time_index, digest_index = 1, 2
        blanks = {time_index: len(time_text), digest_index: _SHA256_SIZE}
        ends: dict[int, int] = {}
        body = b""
        for i in _der_order(encoded, blanks=blanks):
            body += encoded[i]
            ends[i] = len(body)
        attrs = tlv(0xA0, body)
        header = len(attrs) - len(body)
        self._attrs = attrs
        self._time_size = len(time_text)
        self._time_at = header + ends[time_index] - self._time_size
        self._digest_at = header + ends[digest_index] - _SHA256_SIZE
        found = self.signed_attributes(time_text, blank_digest)
        if found != attrs:  # pragma: no cover - a blank is not at the end of its attribute
            raise RuntimeError("the signed attributes' blanks are not where the template expects")

        digest_algorithm = algos.DigestAlgorithm({"algorithm": "sha256"})
        sid = cms.SignerIdentifier({"issuer_and_serial_number": {
            "issuer": cert.issuer, "serial_number": cert.serial_number}})
        # SignerInfo: version, sid, digestAlgorithm | signedAttrs | signatureAlgorithm, signature
        self._signer_head = core.Integer(1).dump() + sid.dump() + digest_algorithm.dump()
        self._signer_tail = algos.SignedDigestAlgorithm({"algorithm": algorithm}).dump()
        # SignedData without its last field (signerInfos), as asn1crypto encodes it: with no
        # signer the encoding ends in an empty SET OF (31 00), cut off here.
        signed_data = cms.SignedData({
            "version": "v1",
            "digest_algorithms": [digest_algorithm],
            "encap_content_info": {"content_type": "data"},  # detached: no eContent
            "certificates": [cms.CertificateChoices.load(c) for c in (cert_der, *chain_der)],
            "signer_infos": [],
        }).dump()
        contents = contents_of(signed_data)
        if not contents.endswith(b"\x31\x00"):  # pragma: no cover - asn1crypto's field order
            raise RuntimeError("SignedData does not end with its signerInfos")
        self._signed_data_head = contents[:-2]
        self._content_type = cms.ContentType("signed_data").dump()

    def signed_attributes(self, signing_time: bytes, message_digest: bytes) -> bytes:
        """The ``[0] IMPLICIT`` signed attributes with *signing_time* (the time's characters)
        and *message_digest* spliced in; both must have the template's lengths."""
        if len(signing_time) != self._time_size or len(message_digest) != _SHA256_SIZE:
            raise ValueError("signing time or message digest does not fit the template")
        attrs = bytearray(self._attrs)
        attrs[self._time_at:self._time_at + self._time_size] = signing_time
        attrs[self._digest_at:self._digest_at + _SHA256_SIZE] = message_digest
        return bytes(attrs)

    def content_info(self, signed_attributes: bytes, signature: bytes) -> bytes:
        """The whole ContentInfo around *signed_attributes* and the *signature* value."""
        signer_info = tlv(0x30, b"".join((
            self._signer_head, signed_attributes, self._signer_tail, tlv(0x04, signature))))
        signed_data = tlv(0x30, self._signed_data_head + tlv(0x31, signer_info))
        return tlv(0x30, self._content_type + tlv(0xA0, signed_data))


@lru_cache(maxsize=512)
def _template(
    certificate: x509.Certificate, chain: tuple[x509.Certificate, ...], algorithm: str,
    generalized: bool,
) -> _Template:
    # Keyed by the certificates themselves (they hash and compare by their DER), so a
    # credential read from disk again finds the template of an equal one.
    der = serialization.Encoding.DER
    chain_der = tuple(c.public_bytes(der) for c in chain)
    return _Template(certificate.public_bytes(der), chain_der, algorithm, generalized=generalized)


def _der_order(encoded: list[bytes], *, blanks: dict[int, int]) -> list[int]:
    """Indexes of *encoded* in DER SET OF order (by encoding), the same whatever fills the
    *blanks* (index -> size of the blank at the end of that encoding)."""

    def order(fill: int) -> list[int]:
        filled = [e[:len(e) - blanks[i]] + bytes([fill]) * blanks[i] if i in blanks else e
                  for i, e in enumerate(encoded)]
        return sorted(range(len(filled)), key=filled.__getitem__)

    low, high = order(0x00), order(0xFF)
    if low != high:  # cannot happen for these attributes: their types differ before any blank
        raise RuntimeError("the signed attributes' DER order depends on the signature's values")
    return low


def _signing_certificate_v2(cert: asn1_x509.Certificate, cert_der: bytes) -> cms.CMSAttribute:
    return _attr("signing_certificate_v2", tsp.SigningCertificateV2({
        "certs": [{
            "cert_hash": hashlib.sha256(cert_der).digest(),
            "issuer_serial": {
                "issuer": [asn1_x509.GeneralName({"directory_name": cert.issuer})],
                "serial_number": cert.serial_number,
            },
        }],
    }))


def _signing_time(at: datetime) -> datetime:
    # RFC 5652 §11.3: signing-time is UTC in whole seconds (GeneralizedTime must not carry
    # fractions; UTCTime cannot). Converting first also picks UTCTime by the UTC year.
    if at.tzinfo is None:
        raise ValueError("signing time must be timezone-aware")
    return at.astimezone(UTC).replace(microsecond=0)


def _time_text(at: datetime, *, generalized: bool) -> bytes:
    """*at* (UTC, whole seconds) as the characters of a GeneralizedTime or UTCTime."""
    year = f"{at.year:04d}" if generalized else f"{at.year % 100:02d}"
    text = f"{year}{at.month:02d}{at.day:02d}{at.hour:02d}{at.minute:02d}{at.second:02d}Z"
    return text.encode("ascii")


def _attr(kind: str, value: core.Asn1Value) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": kind, "values": [value]})
