"""RFC 3161 time-stamp tokens: reading one, checking it as proof of existence, and carrying it
in a signature.

* :func:`add_timestamp` puts a token in a signature as the unsigned attribute
  id-aa-signatureTimeStampToken (1.2.840.113549.1.9.16.2.14) whose message imprint is the hash
  of the SignerInfo's signature value (RFC 3161 Appendix A): CAdES-B-T. The signed attributes
  and the signature value are not touched, so the signature stays what its signer made.
  :func:`strip_timestamps` takes them off again; :func:`signature_value` is what they date.
* :class:`TimestampToken` is a parsed token (:meth:`TimestampToken.from_der`).
* :func:`check_token` validates a token as proof of existence (POE) of a signature value:
  its own signature, the message imprint, and its TSA's certificate path at the token's time.

Issuing tokens (the authority) and the request/response protocol are :mod:`exchange.cms.tsa`.
Every structure is asn1crypto's (``tsp``, ``cms``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from asn1crypto import algos, cms, core, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from exchange.cms.certs import find_signer, load_embedded
from exchange.cms.der import children, tlv, unwrap
from exchange.cms.report import TimestampInfo, iso
from exchange.errors import MalformedError
from exchange.pki.certificates import common_name_of
from exchange.pki.path import KeyPurpose, PathValidator

#: a token's time may be this far after the validation time (clocks of hub and node differ)
CLOCK_LEEWAY = timedelta(minutes=5)

_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512(),
}
_HASHLIB = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


class MalformedTokenError(MalformedError):
    """Raised by :meth:`TimestampToken.from_der` when bytes are not an RFC 3161 token (not
    SignedData, content not TSTInfo, not one signer); :func:`check_token` turns it into a failed
    check."""

    code = "malformed-timestamp"


# -- tokens in signatures --------------------------------------------------------------------


def signature_value(signature: bytes) -> bytes:
    """The signature value of the one SignerInfo of CMS *signature* (what a signature
    time-stamp's message imprint hashes). Raises MalformedError for anything else."""
    try:
        _, signer = _signer_info(bytes(signature))
        return next(unwrap(part, 0x04) for tag, part in signer if tag == 0x04)
    except (ValueError, StopIteration) as exc:
        raise MalformedError(f"not a CMS signature with one signer: {exc}") from None


def add_timestamp(signature: bytes, token: bytes) -> bytes:
    """*signature* with *token* added as an id-aa-signatureTimeStampToken unsigned attribute
    of its SignerInfo (a new attribute: several TSAs may date one signature). The signed
    attributes, the signature value and the certificates keep their exact bytes; only the
    lengths around the SignerInfo change. Raises MalformedError for anything but a CMS
    signature with one signer."""
    try:
        attribute = cms.CMSAttribute({"type": "signature_time_stamp_token",
                                      "values": [cms.ContentInfo.load(bytes(token))]}).dump()
        rebuild, signer = _signer_info(bytes(signature))
    except ValueError as exc:
        raise MalformedError(f"cannot add a time-stamp to this signature: {exc}") from None
    existing = [a for _, a in children(unwrap(signer[-1][1], 0xA1))] if signer[-1][0] == 0xA1 else []
    kept = [part for tag, part in signer if tag != 0xA1]
    # Unsigned attributes need not be DER (RFC 5652 §5.3), but sorted they are.
    unsigned = tlv(0xA1, b"".join(sorted([*existing, attribute])))
    return rebuild(b"".join(kept) + unsigned)


def strip_timestamps(signature: bytes) -> bytes:
    """*signature* without its unsigned attributes (the signature as its signer made it)."""
    try:
        rebuild, signer = _signer_info(bytes(signature))
    except ValueError as exc:
        raise MalformedError(f"not a CMS signature with one signer: {exc}") from None
    return rebuild(b"".join(part for tag, part in signer if tag != 0xA1))


def _signer_info(der: bytes) -> tuple[Callable[[bytes], bytes], list[tuple[int, bytes]]]:
    """The parts of the one SignerInfo of a ContentInfo/SignedData, and a function that puts a
    SignerInfo's new contents back in place (the enclosing values re-wrapped with definite
    lengths, every other byte kept). ValueError for anything but CMS with one signer."""
    outer = children(unwrap(der, 0x30))
    if len(outer) != 2 or outer[1][0] != 0xA0:
        raise ValueError("not a CMS ContentInfo")
    parts = children(unwrap(unwrap(outer[1][1], 0xA0), 0x30))
    if parts[-1][0] != 0x31:
        raise ValueError("SignedData does not end with its signerInfos")
    signers = children(unwrap(parts[-1][1], 0x31))
    if len(signers) != 1 or signers[0][0] != 0x30:
        raise ValueError("not exactly one signer")
    head = b"".join(part for _, part in parts[:-1])

    def rebuild(signer_contents: bytes) -> bytes:
        signed = tlv(0x30, head + tlv(0x31, tlv(0x30, signer_contents)))
        return tlv(0x30, outer[0][1] + tlv(0xA0, signed))

    return rebuild, children(unwrap(signers[0][1], 0x30))


# -- reading and checking tokens -------------------------------------------------------------


@dataclass(frozen=True)
class TimestampToken:
    """A parsed RFC 3161 token: what its TSTInfo says and what its SignedData holds."""

    der: bytes
    gen_time: datetime
    serial: int
    policy: str
    hash_algorithm: str
    hashed_message: bytes
    nonce: int | None
    accuracy: timedelta | None
    certificates: tuple[bytes, ...]  # DER
    signer_id: tuple[str, Any, Any]
    digest_algorithm: str
    signature_algorithm: str
    signature: bytes
    signed_attributes: bytes  # the SET OF as signed
    message_digest: bytes | None
    content_digest: bytes  # the TSTInfo's digest under digest_algorithm
    ess_hash: tuple[str, bytes] | None  # (algorithm, hash) of signing-certificate(-v2)

    @classmethod
    def from_der(cls, data: bytes) -> TimestampToken:
        """Parse a DER token; raises MalformedTokenError saying what is wrong.

        A token laid out as DER is read by walking its TLVs (:func:`_read_fast`), each part then
        read with asn1crypto's types and memoised on its bytes (a TSA's certificates, algorithm
        identifiers and signing-certificate attribute are the same in all its tokens). Anything
        else (BER, an unexpected layout) is read by asn1crypto's full parse
        (:func:`_read_typed`); both give the same answer, as the tests check.
        """
        data = bytes(data)
        try:
            fields = _read_fast(data)
        except MalformedTokenError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            fields = None
        if fields is None:
            try:
                fields = _read_typed(data)
            except MalformedTokenError:
                raise
            except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
                raise MalformedTokenError(f"not an RFC 3161 time-stamp token: {exc}") from None
        return cls(der=data, **fields)


_SIGNED_DATA = cms.ContentType("signed_data").dump()
_TST_INFO = cms.ContentType("tst_info").dump()
_MESSAGE_DIGEST = cms.CMSAttributeType("message_digest").dump()


def _read_fast(der: bytes) -> dict[str, Any] | None:
    """The token's fields from a DER walk; None when the layout is not the expected one."""
    ci = children(unwrap(der, 0x30))
    if len(ci) != 2 or ci[1][0] != 0xA0:
        return None
    if ci[0][1] != _SIGNED_DATA:
        raise MalformedTokenError(f"the token is {_oid_name(ci[0][1])}, not signed_data")
    parts = children(unwrap(unwrap(ci[1][1], 0xA0), 0x30))
    tags = [t for t, _ in parts]
    if len(parts) < 4 or tags[:3] != [0x02, 0x31, 0x30] or tags[-1] != 0x31:
        return None
    encap = children(unwrap(parts[2][1], 0x30))
    if encap[0][1] != _TST_INFO:
        raise MalformedTokenError(f"the token's content is {_oid_name(encap[0][1])}, not TSTInfo")
    if len(encap) != 2 or encap[1][0] != 0xA0:
        return None
    tst_der = unwrap(unwrap(encap[1][1], 0xA0), 0x04)
    certificates = tuple(c for tag, c in children(unwrap(parts[3][1], 0xA0)) if tag == 0x30) \
        if parts[3][0] == 0xA0 else ()
    signers = children(unwrap(parts[-1][1], 0x31))
    if len(signers) != 1:
        raise MalformedTokenError(f"the token has {len(signers)} signers, not one")
    si = children(unwrap(signers[0][1], 0x30))
    if len(si) < 6 or si[3][0] != 0xA0:
        return None
    attrs = children(unwrap(si[3][1], 0xA0))
    message_digest = ess = None
    for _, attr in attrs:
        attr_type, values = children(unwrap(attr, 0x30))
        if attr_type[1] == _MESSAGE_DIGEST:
            message_digest = unwrap(unwrap(values[1], 0x31), 0x04)
            continue
        kind, value = _token_attribute(attr)
        if kind == "content_type" and value != "tst_info":
            raise MalformedTokenError("the token's signed content type is not TSTInfo")
        if kind == "signing_certificate_v2" or (kind == "signing_certificate" and ess is None):
            ess = value
    digest_algorithm = _algorithm(si[2][1])
    fields = _tst_fast(tst_der)
    return {
        **fields,
        "certificates": certificates,
        "signer_id": _sid(si[1][1]),
        "digest_algorithm": digest_algorithm,
        "signature_algorithm": _algorithm(si[4][1], signed=True),
        "signature": unwrap(si[5][1], 0x04),
        "signed_attributes": tlv(0x31, b"".join(sorted(a for _, a in attrs))),
        "message_digest": message_digest,
        "content_digest": _HASHLIB[digest_algorithm](tst_der).digest() if digest_algorithm in _HASHLIB else b"",
        "ess_hash": ess,
    }


def _tst_fast(der: bytes) -> dict[str, Any]:
    """A TSTInfo's fields (RFC 3161 §2.4.2) from its DER, each read with asn1crypto."""
    fields = children(unwrap(der, 0x30))
    if len(fields) < 5 or [t for t, _ in fields[:5]] != [0x02, 0x06, 0x30, 0x02, 0x18]:
        raise ValueError("not a TSTInfo laid out as DER")
    imprint = children(unwrap(fields[2][1], 0x30))
    accuracy = nonce = None
    for tag, value in fields[5:]:
        if tag == 0x30:
            accuracy = _accuracy_of(value)
        elif tag == 0x02:
            nonce = core.Integer.load(value).native
    return {
        "gen_time": core.GeneralizedTime.load(fields[4][1]).native.astimezone(UTC),
        "serial": core.Integer.load(fields[3][1]).native,
        "policy": _oid(fields[1][1]),
        "hash_algorithm": _algorithm(imprint[0][1]),
        "hashed_message": unwrap(imprint[1][1], 0x04),
        "nonce": nonce,
        "accuracy": accuracy,
    }


def _read_typed(der: bytes) -> dict[str, Any]:
    """The token's fields through asn1crypto's full parse (any BER layout)."""
    info = cms.ContentInfo.load(der)
    if info["content_type"].native != "signed_data":
        raise MalformedTokenError(f"the token is {info['content_type'].native}, not signed_data")
    signed = info["content"]
    encap = signed["encap_content_info"]
    if encap["content_type"].native != "tst_info":
        raise MalformedTokenError(f"the token's content is {encap['content_type'].native}, not TSTInfo")
    content = encap["content"]
    if isinstance(content, core.Void):
        raise MalformedTokenError("the token carries no TSTInfo")
    tst_der = bytes(content)
    tst = tsp.TSTInfo.load(tst_der)
    imprint = tst["message_imprint"]
    accuracy = tst["accuracy"]
    signers = signed["signer_infos"]
    if len(signers) != 1:
        raise MalformedTokenError(f"the token has {len(signers)} signers, not one")
    si = signers[0]
    attrs = si["signed_attrs"]
    if isinstance(attrs, core.Void) or not len(attrs):
        raise MalformedTokenError("the token has no signed attributes")
    digest_algorithm = si["digest_algorithm"]["algorithm"].native
    message_digest = ess = None
    encoded = [a.dump(force=True) for a in attrs]
    for der_attr in encoded:
        attr = cms.CMSAttribute.load(der_attr)
        kind = attr["type"].native
        if kind == "message_digest":
            message_digest = attr["values"][0].native
            continue
        kind, value = _token_attribute(der_attr)
        if kind == "content_type" and value != "tst_info":
            raise MalformedTokenError("the token's signed content type is not TSTInfo")
        if kind == "signing_certificate_v2" or (kind == "signing_certificate" and ess is None):
            ess = value
    hasher = _HASHLIB.get(digest_algorithm)
    return {
        "gen_time": tst["gen_time"].native.astimezone(UTC),
        "serial": tst["serial_number"].native,
        "policy": tst["policy"].dotted,
        "hash_algorithm": imprint["hash_algorithm"]["algorithm"].native,
        "hashed_message": imprint["hashed_message"].native,
        "nonce": tst["nonce"].native,
        "accuracy": _accuracy_of(accuracy.dump()) if not isinstance(accuracy, core.Void) else None,
        "certificates": tuple(c.chosen.dump() for c in signed["certificates"] or ()
                              if c.name == "certificate"),
        "signer_id": _sid(si["sid"].dump()),
        "digest_algorithm": digest_algorithm,
        "signature_algorithm": si["signature_algorithm"]["algorithm"].native,
        "signature": si["signature"].native,
        "signed_attributes": tlv(0x31, b"".join(sorted(encoded))),
        "message_digest": message_digest,
        "content_digest": hasher(tst_der).digest() if hasher is not None else b"",
        "ess_hash": ess,
    }


# Memoised on the DER they read: the same bytes recur in every token of one TSA. They return
# immutable values only, so sharing them is safe.


@lru_cache(maxsize=256)
def _token_attribute(der: bytes) -> tuple[str, Any]:
    """(type, value) of a token's signed attribute other than message-digest."""
    attr = cms.CMSAttribute.load(der)
    kind = attr["type"].native
    value = attr["values"][0]
    if kind == "content_type":
        return kind, value.native
    if kind == "signing_certificate_v2":
        cert_id = value["certs"][0]
        return kind, (cert_id["hash_algorithm"]["algorithm"].native, cert_id["cert_hash"].native)
    if kind == "signing_certificate":
        return kind, ("sha1", value["certs"][0]["cert_hash"].native)
    return kind, None


@lru_cache(maxsize=256)
def _algorithm(der: bytes, signed: bool = False) -> str:
    kind = algos.SignedDigestAlgorithm if signed else algos.DigestAlgorithm
    return str(kind.load(der)["algorithm"].native)


@lru_cache(maxsize=256)
def _oid(der: bytes) -> str:
    return str(core.ObjectIdentifier.load(der).dotted)


def _oid_name(der: bytes) -> str:
    try:
        return str(cms.ContentType.load(der).native)
    except ValueError:
        return "not CMS"


@lru_cache(maxsize=256)
def _accuracy_of(der: bytes) -> timedelta:
    native = tsp.Accuracy.load(der).native
    return timedelta(seconds=native.get("seconds") or 0, milliseconds=native.get("millis") or 0,
                     microseconds=native.get("micros") or 0)


@lru_cache(maxsize=256)
def _sid(der: bytes) -> tuple[str, Any, Any]:
    sid = cms.SignerIdentifier.load(der)
    if sid.name == "issuer_and_serial_number":
        return sid.name, sid.chosen["issuer"].dump(), sid.chosen["serial_number"].native
    return sid.name, sid.chosen.native, None


@dataclass(frozen=True)
class TokenCheck:
    """Whether a token proves that a signature value existed at its time, and why (not)."""

    ok: bool
    time: datetime | None
    detail: str
    info: TimestampInfo | None


def check_token(
    der: bytes,
    *,
    signature_value: bytes,
    paths: PathValidator,
    at: datetime,
    certificates: Iterable[x509.Certificate] = (),
    certificate_cache: dict[bytes, x509.Certificate] | None = None,
) -> TokenCheck:
    """Validate the token *der* as a time-stamp of *signature_value*, at validation time *at*.

    Proof of existence at the token's time requires: a well-formed token; a TSTInfo whose
    message imprint is the hash of *signature_value*; the TSA's signature over it, by the
    certificate its signing-certificate attribute names; that certificate a TSA's
    (id-kp-timeStamping, critical) chaining to a trust anchor of *paths*, valid and not revoked
    at the token's time (with revocation data current then); the chain not expired at *at*;
    and the token's time not after *at*. *certificates*: others to build the path from (the
    signature's own, which carry the issuing CA).
    """
    try:
        token = TimestampToken.from_der(der)
    except MalformedTokenError as exc:
        return TokenCheck(False, None, str(exc), None)
    cache = certificate_cache if certificate_cache is not None else {}
    try:
        certs = tuple(load_embedded(c, cache) for c in token.certificates)
    except MalformedError as exc:
        return TokenCheck(False, token.gen_time, f"the token is malformed: {exc.message}", None)
    tsa = find_signer(token.signer_id, certs)
    when = token.gen_time

    def fail(detail: str) -> TokenCheck:
        return TokenCheck(False, when, detail, _info(token, tsa, False, detail))

    if token.hash_algorithm not in _HASHLIB:
        return fail(f"the token's message imprint uses {token.hash_algorithm}, which is not accepted")
    if _HASHLIB[token.hash_algorithm](signature_value).digest() != token.hashed_message:
        return fail("the token dates other data: its message imprint is not the hash of this signature value")
    if token.digest_algorithm not in _HASHES:
        return fail(f"the token is signed with digest algorithm {token.digest_algorithm}, which is not accepted")
    if token.message_digest is None or token.message_digest != token.content_digest:
        return fail("the token's TSTInfo does not match its signed message digest: the token was altered")
    if tsa is None:
        return fail("the TSA's certificate is not in the token (it was requested without certReq)")
    if token.ess_hash is None:
        return fail("the token lacks the signing-certificate attribute that names the TSA's certificate")
    ess_alg, ess_hash = token.ess_hash
    if _cert_hash(tsa, ess_alg) != ess_hash:
        return fail("the token's signing-certificate attribute names another certificate than its signer's")
    if not _signature_verifies(tsa.public_key(), token):
        return fail("the TSA's signature on the token does not verify: the token was altered or forged")
    if when > at + CLOCK_LEEWAY:
        return fail(f"the token's time {iso(when)} is after the validation time {iso(at)}")
    path = paths.validate(tsa, at=when, intermediates=(*certs, *certificates), purpose=KeyPurpose.TIMESTAMPING)
    if not path.ok:
        return fail(f"the TSA at the token's time: {path.detail}")
    expired = [c for c in path.path if c.not_valid_after_utc < at]
    if expired:
        return fail(f"{common_name_of(expired[0])!r} expired at {iso(expired[0].not_valid_after_utc)}, before "
                    f"the validation time: its time-stamps prove nothing any longer")
    detail = (f"time-stamped at {iso(when)} by {_name(tsa)!r} (serial {token.serial:x}): "
              "the TSA's chain was valid and not revoked then")
    return TokenCheck(True, when, detail, _info(token, tsa, True, detail))


def _info(token: TimestampToken, tsa: x509.Certificate | None, passed: bool, detail: str) -> TimestampInfo:
    return TimestampInfo(time=iso(token.gen_time), tsa=_name(tsa) if tsa is not None else None,
                         serial=f"{token.serial:x}", policy=token.policy, passed=passed, detail=detail)


def _signature_verifies(public_key: object, token: TimestampToken) -> bool:
    hash_alg = _HASHES[token.digest_algorithm]
    data = token.signed_attributes
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            pad: padding.AsymmetricPadding = (padding.PSS(padding.MGF1(hash_alg), padding.PSS.AUTO)
                                              if "pss" in token.signature_algorithm else padding.PKCS1v15())
            public_key.verify(token.signature, data, pad, hash_alg)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(token.signature, data, ec.ECDSA(hash_alg))
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


# Per TSA certificate (a handful per verifier, the same in all their tokens): memoised on
# the certificate, which hashes and compares by its DER.


@lru_cache(maxsize=256)
def _cert_hash(cert: x509.Certificate, algorithm: str) -> bytes:
    return hashlib.new(algorithm, cert.public_bytes(serialization.Encoding.DER)).digest()


@lru_cache(maxsize=256)
def _name(cert: x509.Certificate) -> str:
    return common_name_of(cert)


