"""Validation of detached CMS signatures, with a report that says why.

The steps, numbered as in the report's checks:

1. format — the bytes are a CMS ContentInfo holding SignedData with one signer
2. signing certificate — the signer's certificate is among the embedded ones
3. algorithms — digest and signature algorithms and key size the policy accepts
4. message digest — the document hashes to the signed message-digest attribute
5. signature value — the signature verifies over the signed attributes with the signer's key
6. signing time — within the certificate's validity
7-10. certificate path — chain to a trust anchor, validity at the validation time,
   CA and key-usage constraints (only an end-entity signing certificate signs), revocation of
   every certificate below the root from the CRLs supplied, each current at that time
   (see exchange.pki.path)
11. signature time-stamp — an RFC 3161 token over the signature value (CAdES-B-T), checked by
   :func:`exchange.cms.tokens.check_token`: its time is proof of existence (POE)
12. proof of existence — when the path fails only for what happened after the signature
   existed (the certificate expired or was revoked since, or the CRL is no longer current),
   the path is validated again at the token's time (ETSI EN 319 102-1 §5.5, validation with
   time): valid then gives TOTAL_PASSED, saying why; revoked or expired by then gives
   TOTAL_FAILED / REVOKED or EXPIRED. Without a valid token the answer stays INDETERMINATE.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from asn1crypto import cms, core
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from exchange.cms.certs import find_signer, load_embedded
from exchange.cms.content import DIGESTS, Content, digests
from exchange.cms.der import children, tlv, unwrap
from exchange.cms.report import (
    CertificateInfo,
    Check,
    Indication,
    Outcome,
    SignerInfo,
    SubIndication,
    TimestampInfo,
    ValidationReport,
    iso,
)
from exchange.cms.tokens import CLOCK_LEEWAY, TokenCheck, check_token
from exchange.errors import MalformedError
from exchange.pki.certificates import body_id_of, common_name_of
from exchange.pki.path import PathResult, PathStatus, PathValidator

_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512(),
}
_MIN_RSA_BITS = 2048


class MalformedSignatureError(MalformedError):
    """Raised at parse time when bytes are not a CMS SignedData with one signer that we can read
    (``DetachedSignature.from_der``, the inner layer of a sealed document); a signature that parses
    but fails is a report, not this."""

    code = "malformed-signature"


@dataclass(frozen=True)
class DetachedSignature:
    """A parsed detached CMS signature: its signer, attributes and embedded certificates."""

    signer_certificate: x509.Certificate | None
    certificates: tuple[x509.Certificate, ...]
    digest_algorithm: str
    signature_algorithm: str
    signature: bytes
    signed_attributes: bytes | None  # DER of the SET OF attributes, as signed
    message_digest: bytes | None
    signing_time: datetime | None
    signing_certificate_hash: bytes | None
    #: DER of each signature time-stamp token (unsigned id-aa-signatureTimeStampToken)
    timestamp_tokens: tuple[bytes, ...] = ()

    @classmethod
    def from_der(cls, data: bytes, *, certificate_cache: dict[bytes, x509.Certificate] | None = None
                 ) -> DetachedSignature:
        """Parse DER CMS; raises MalformedSignatureError saying what is wrong."""
        if not data:
            raise MalformedSignatureError("the signature is empty")
        try:
            info = cms.ContentInfo.load(bytes(data), strict=True)
            if info["content_type"].native != "signed_data":
                raise MalformedSignatureError(f"CMS content type is {info['content_type'].native}, not signed_data")
            signed = info["content"]
            signer_infos = signed["signer_infos"]
            if len(signer_infos) == 0:
                raise MalformedSignatureError("SignedData has no signer")
            if len(signer_infos) > 1:
                # Only one signer would be checked; passing the others unchecked would mislead.
                raise MalformedSignatureError(
                    f"SignedData has {len(signer_infos)} signers; exactly one is supported")
            si = signer_infos[0]
            cache = certificate_cache if certificate_cache is not None else {}
            certs = tuple(_load_cert(c.chosen.dump(), cache) for c in signed["certificates"] or ()
                          if c.name == "certificate")
            signer_cert = find_signer(_signer_id(si["sid"].dump()), certs)
            attrs = si["signed_attrs"]
            message_digest = signing_time = cert_hash = None
            signed_der = None
            # Not ``attrs.native``: building the native form fills in default values, which
            # asn1crypto counts as a mutation, and every later dump() then re-encodes it all.
            if not isinstance(attrs, core.Void) and len(attrs):
                # RFC 5652 §5.4: the signature covers the attributes as an explicit SET OF
                encoded = [attr.dump() for attr in attrs]
                signed_der = _as_set(encoded)
                for der in encoded:
                    kind, value = _attribute(der)
                    if kind == "message_digest":
                        message_digest = value
                    elif kind == "signing_time":
                        signing_time = value
                    elif kind == "signing_certificate_v2":
                        cert_hash = value
                    elif kind == "content_type" and value != "data":
                        raise MalformedSignatureError(f"signed content type is {value}, not data")
                if message_digest is None:
                    raise MalformedSignatureError("signed attributes lack message-digest")
            sig_alg = si["signature_algorithm"]
            unsigned = si["unsigned_attrs"]
            tokens = () if isinstance(unsigned, core.Void) else _timestamp_tokens(unsigned)
            return cls(
                signer_certificate=signer_cert,
                certificates=certs,
                digest_algorithm=si["digest_algorithm"]["algorithm"].native,
                signature_algorithm=sig_alg["algorithm"].native,
                signature=si["signature"].native,
                signed_attributes=signed_der,
                message_digest=message_digest,
                signing_time=signing_time.astimezone(UTC) if signing_time else None,
                signing_certificate_hash=cert_hash,
                timestamp_tokens=tuple(tokens),
            )
        except MalformedSignatureError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise MalformedSignatureError(f"not a valid CMS signature: {exc}") from None


#: the attribute type id-aa-signatureTimeStampToken (RFC 3161 Appendix A), as DER
_SIGNATURE_TIME_STAMP = cms.CMSAttributeType("signature_time_stamp_token").dump()


def _timestamp_tokens(unsigned: cms.CMSAttributes) -> tuple[bytes, ...]:
    """The DER of each signature time-stamp token among the unsigned attributes.

    The attributes are walked as DER (each token is read later, and only if it is checked);
    asn1crypto's full parse of a token costs more than verifying the signature.
    """
    try:
        tokens: list[bytes] = []
        for _, attr in children(unsigned.contents):
            attr_type, values = children(unwrap(attr, 0x30))
            if attr_type[1] == _SIGNATURE_TIME_STAMP:
                tokens.extend(token for _, token in children(unwrap(values[1], 0x31)))
        return tuple(tokens)
    except (ValueError, IndexError):
        return tuple(v.dump() for a in unsigned if a["type"].native == "signature_time_stamp_token"
                     for v in a["values"])


def _as_set(encoded: list[bytes]) -> bytes:
    # The attributes travel as [0] IMPLICIT; the signature covers them as a DER SET OF (0x31):
    # the attributes' own encodings, sorted as DER orders a SET OF (and as openssl re-encodes
    # them). Taken before anything reads the values, so nothing is re-encoded.
    body = b"".join(sorted(encoded))
    return tlv(0x31, body)


# The two parsers below are memoised on the DER they read: a signer's content-type,
# signing-certificate-v2 and signer identifier are the same bytes in every signature it makes,
# and parsing them with asn1crypto costs more than the signature check itself. They return
# immutable values only (str, bytes, int, datetime), so sharing them is safe.


@lru_cache(maxsize=1024)
def _attribute(der: bytes) -> tuple[str, Any]:
    """(type, value) of one signed attribute; the value only for the types read here."""
    attr = cms.CMSAttribute.load(der)
    kind = attr["type"].native
    value = attr["values"][0]
    if kind in ("message_digest", "signing_time", "content_type"):
        return kind, value.native
    if kind == "signing_certificate_v2":
        return kind, value["certs"][0]["cert_hash"].native
    return kind, None


@lru_cache(maxsize=1024)
def _signer_id(der: bytes) -> tuple[str, Any, Any]:
    """("issuer_and_serial_number", issuer DER, serial) or ("subject_key_identifier", ski, None)."""
    sid = cms.SignerIdentifier.load(der)
    if sid.name == "issuer_and_serial_number":
        return sid.name, sid.chosen["issuer"].dump(), sid.chosen["serial_number"].native
    return sid.name, sid.chosen.native, None


def _load_cert(der: bytes, cache: dict[bytes, x509.Certificate]) -> x509.Certificate:
    try:
        return load_embedded(der, cache)
    except MalformedError as exc:
        raise MalformedSignatureError(exc.message) from None


class Verifier:
    """Validates detached CMS signatures against the trust anchors and CRLs it is given."""

    def __init__(self, *, paths: PathValidator) -> None:
        self.paths = paths
        self._certs: dict[bytes, x509.Certificate] = {}
        self._described = _Descriptions()

    @classmethod
    def from_ca_file(
        cls, ca_file: str | Path, *, crl_files: Iterable[str | Path] = (), require_revocation: bool = False
    ) -> Verifier:
        """A verifier trusting the root(s) in *ca_file*, enforcing the CRLs in *crl_files*."""
        return cls(paths=PathValidator.from_files(ca_file, crl_files=crl_files,
                                                  require_revocation=require_revocation))

    def parse(self, signature: bytes) -> DetachedSignature:
        """Parse *signature* (certificates parsed once and cached); raises on malformed input."""
        return DetachedSignature.from_der(signature, certificate_cache=self._certs)

    def verify(self, content: Content, signature: bytes, *, at: datetime,
               sha256: bytes | None = None) -> ValidationReport:
        """Validate *signature* over *content* at time *at*; never raises for a bad signature.

        A missing or unreadable *content* file still raises InputFileError: that is a usage
        error, not a property of the signature. *sha256*, the content's SHA-256 when the caller
        has just computed it (the hub, storing an upload), spares reading and hashing it again
        for the usual SHA-256 signatures; it must be the digest of *content*.
        """
        if at.tzinfo is None:
            raise ValueError("validation time must be timezone-aware")
        checks: list[Check] = []
        verdicts: list[tuple[Indication, SubIndication]] = []

        def check(name: str, ok: bool | None, detail: str,
                  failure: tuple[Indication, SubIndication] | None = None) -> None:
            outcome = Outcome.SKIPPED if ok is None else Outcome.PASSED if ok else Outcome.FAILED
            checks.append(Check(name, outcome, detail))
            if ok is False and failure is not None:
                verdicts.append(failure)

        # 1. format
        try:
            sig = self.parse(signature)
        except MalformedSignatureError as exc:
            sha = (sha256 if sha256 is not None else digests(content, ("sha256",))["sha256"]).hex()
            check("format", False, str(exc), (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE))
            return _report(checks, verdicts, at=at, document_sha256=sha, described=self._described)
        check("format", True, "CMS SignedData, detached, "
              f"{'with' if sig.signed_attributes else 'without'} signed attributes")

        # 4 (computed first, it reads the document): message digest, plus the SHA-256 id
        algorithm = sig.digest_algorithm if sig.digest_algorithm in DIGESTS else "sha256"
        if sha256 is not None and algorithm == "sha256":
            sums = {"sha256": sha256}
        else:
            sums = digests(content, (algorithm, "sha256"))
        document_sha256 = sums["sha256"].hex()
        described = self._described
        base: dict[str, Any] = {"at": at, "document_sha256": document_sha256, "sig": sig,
                                "described": described}

        # 2. signing certificate
        cert = sig.signer_certificate
        if cert is None:
            check("signing certificate", False, "the signer's certificate is not embedded in the signature",
                  (Indication.INDETERMINATE, SubIndication.NO_SIGNING_CERTIFICATE_FOUND))
            return _report(checks, verdicts, **base)
        if sig.signing_certificate_hash is not None and sig.signing_certificate_hash != described.sha256(cert):
            check("signing certificate", False, "signing-certificate-v2 names another certificate",
                  (Indication.INDETERMINATE, SubIndication.NO_SIGNING_CERTIFICATE_FOUND))
        else:
            check("signing certificate", True, f"{described.signer(cert).name} (serial {cert.serial_number:x})")

        # 3. algorithms
        problems = []
        if sig.digest_algorithm not in DIGESTS:
            problems.append(f"digest algorithm {sig.digest_algorithm} is not accepted")
        public_key = cert.public_key()
        if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < _MIN_RSA_BITS:
            problems.append(f"RSA key of {public_key.key_size} bits is below {_MIN_RSA_BITS}")
        check("algorithms", not problems, "; ".join(problems) or
              f"{sig.digest_algorithm} with {sig.signature_algorithm}",
              (Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE))

        # 4. message digest
        actual = sums[algorithm]
        accepted = sig.digest_algorithm in DIGESTS
        if not accepted:
            # A refused algorithm (step 3) is a policy verdict, not proof of alteration:
            # the document cannot be hashed as the signer hashed it, so 4 and 5 are not run.
            check("message digest", None, f"not checked: {sig.digest_algorithm} is not accepted")
        elif sig.signed_attributes is None:
            check("message digest", None, "no signed attributes: the signature covers the content itself")
        elif actual == sig.message_digest:
            check("message digest", True, f"document {algorithm} matches the signed message digest")
        else:
            check("message digest", False, "the document's digest differs from the signed one: "
                  "the document was altered after signing",
                  (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE))

        # 5. signature value
        if not accepted:
            check("signature value", None, f"not checked: {sig.digest_algorithm} is not accepted")
        else:
            ok, detail = _verify_signature(sig, public_key, actual, algorithm)
            check("signature value", ok, detail, (Indication.TOTAL_FAILED, SubIndication.SIG_CRYPTO_FAILURE))

        # 6. signing time within the certificate's validity
        st = sig.signing_time
        if st is None:
            check("signing time", None, "no signing-time attribute")
        elif st < cert.not_valid_before_utc:
            check("signing time", False, f"signed at {iso(st)}, before the certificate became valid "
                  f"({iso(cert.not_valid_before_utc)})", (Indication.TOTAL_FAILED, SubIndication.NOT_YET_VALID))
        elif st > cert.not_valid_after_utc:
            check("signing time", False, f"signed at {iso(st)}, after the certificate expired "
                  f"({iso(cert.not_valid_after_utc)})", (Indication.TOTAL_FAILED, SubIndication.EXPIRED))
        else:
            check("signing time", True, f"{iso(st)} within the certificate's validity")
        warnings = []
        if st is not None and (st - at).total_seconds() > 300:
            warnings.append(f"the signing time {iso(st)} is after the validation time {iso(at)}")

        # 7-10. certificate path
        path = self.paths.validate(cert, at=at, intermediates=sig.certificates)
        for pc in path.checks:
            check(pc.name, pc.passed, pc.detail)
        verdict = _path_verdict(path, st)

        # 11-12. signature time-stamp as proof of existence
        stamp = self._timestamp(sig, at) if sig.timestamp_tokens else None
        if stamp is not None:
            check("signature time-stamp", stamp.ok, stamp.detail)
            if not stamp.ok:
                warnings.append(f"the signature time-stamp is no proof of existence: {stamp.detail}")
            elif st is not None and stamp.time is not None and st > stamp.time + CLOCK_LEEWAY:
                warnings.append(f"the signing time {iso(st)} is after the time-stamp ({iso(stamp.time)})")
            if stamp.ok and stamp.time is not None and verdict is not None \
                    and verdict[0] is Indication.INDETERMINATE and path.status in _NEEDS_POE:
                ok, detail, verdict = self._past(cert, sig, stamp.time, path)
                check("proof of existence", ok, detail)
        if verdict is not None:
            verdicts.append(verdict)
        if not path.revocation_checked and path.status is PathStatus.VALID:
            warnings.append("revocation not checked: no CRL of the issuing CA was supplied")
        return _report(checks, verdicts, path=path, warnings=warnings,
                       timestamp=stamp.info if stamp is not None else None, **base)

    def _timestamp(self, sig: DetachedSignature, at: datetime) -> TokenCheck:
        """The earliest valid signature time-stamp, else the first one's failure."""
        best: TokenCheck | None = None
        first: TokenCheck | None = None
        for token in sig.timestamp_tokens:
            result = check_token(token, signature_value=sig.signature, paths=self.paths, at=at,
                                 certificates=sig.certificates, certificate_cache=self._certs)
            first = first or result
            if result.ok and result.time is not None and (best is None or result.time < best.time):  # type: ignore[operator]
                best = result
        assert first is not None
        return best or first

    def _past(self, cert: x509.Certificate, sig: DetachedSignature, poe: datetime, now: PathResult
              ) -> tuple[bool, str, tuple[Indication, SubIndication] | None]:
        """Validate the path again at the proof of existence *poe* (the signature existed then):
        (passed, what the check says, the verdict)."""
        since = "; ".join(c.detail for c in now.checks if c.passed is False)
        past = self.paths.validate(cert, at=poe, intermediates=sig.certificates)
        if past.ok:
            return True, (f"the signature existed at {iso(poe)} (its time-stamp), when the signer's "
                          f"certificate path was valid and not revoked; since then: {since}"), None
        verdict = _PAST_VERDICTS.get(past.status) or _path_verdict(past, None)
        return False, f"at {iso(poe)}, the time of its time-stamp: {past.detail}", verdict


#: what a proof of existence can resolve: only what happens after a signature is made
_NEEDS_POE = (PathStatus.EXPIRED, PathStatus.REVOKED, PathStatus.REVOCATION_UNKNOWN)
#: the path at the proof of existence: revoked or expired by then is definitive
_PAST_VERDICTS = {
    PathStatus.REVOKED: (Indication.TOTAL_FAILED, SubIndication.REVOKED),
    PathStatus.EXPIRED: (Indication.TOTAL_FAILED, SubIndication.EXPIRED),
    PathStatus.NOT_YET_VALID: (Indication.TOTAL_FAILED, SubIndication.NOT_YET_VALID),
    PathStatus.REVOCATION_UNKNOWN: (Indication.INDETERMINATE, SubIndication.TRY_LATER),
}


def _verify_signature(
    sig: DetachedSignature, public_key: object, content_digest: bytes, algorithm: str
) -> tuple[bool, str]:
    if sig.digest_algorithm not in _HASHES:
        return False, f"cannot verify with digest algorithm {sig.digest_algorithm}"
    hash_alg = _HASHES[sig.digest_algorithm]
    if sig.signed_attributes is not None:
        data, prehashed = sig.signed_attributes, False
    else:
        data, prehashed = content_digest, True
    chosen = utils.Prehashed(hash_alg) if prehashed else hash_alg
    name = sig.signature_algorithm
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            if "pss" in name:
                pad: padding.AsymmetricPadding = padding.PSS(padding.MGF1(hash_alg), padding.PSS.AUTO)
            else:
                pad = padding.PKCS1v15()
            public_key.verify(sig.signature, data, pad, chosen)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(sig.signature, data, ec.ECDSA(chosen))
        else:
            return False, f"unsupported public key type {type(public_key).__name__}"
    except InvalidSignature:
        return False, "the signature value does not verify with the signer's public key"
    return True, f"{name} signature verifies with the signer's key"


def _path_verdict(path: PathResult, signing_time: datetime | None) -> tuple[Indication, SubIndication] | None:
    status = path.status
    if status is PathStatus.VALID:
        return None
    if status is PathStatus.NO_CHAIN:
        return Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    if status is PathStatus.NOT_YET_VALID:
        return Indication.TOTAL_FAILED, SubIndication.NOT_YET_VALID
    if status is PathStatus.EXPIRED:
        return Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE
    if status is PathStatus.CONSTRAINTS:
        return Indication.INDETERMINATE, SubIndication.CHAIN_CONSTRAINTS_FAILURE
    if status is PathStatus.REVOCATION_UNKNOWN:
        return Indication.INDETERMINATE, SubIndication.TRY_LATER
    # REVOKED: definitive only if revoked before the (claimed) signing time
    entry = path.revocation
    if entry is not None and signing_time is not None and entry.revoked_at <= signing_time:
        return Indication.TOTAL_FAILED, SubIndication.REVOKED
    return Indication.INDETERMINATE, SubIndication.REVOKED_NO_POE


def _cert_info(cert: x509.Certificate) -> CertificateInfo:
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=f"{cert.serial_number:x}",
        not_before=iso(cert.not_valid_before_utc),
        not_after=iso(cert.not_valid_after_utc),
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
    )


class _Descriptions:
    """What reports say about each certificate, worked out once per verifier.

    A hub sees the same 80 signers and 2 CA certificates in thousands of signatures; names,
    fingerprints and dates are re-read from the certificate only the first time. The values
    are frozen dataclasses, so reports can share them.
    """

    _LIMIT = 4096

    def __init__(self) -> None:
        self._info: dict[x509.Certificate, CertificateInfo] = {}
        self._signers: dict[x509.Certificate, SignerInfo] = {}

    def info(self, cert: x509.Certificate) -> CertificateInfo:
        found = self._info.get(cert)
        if found is None:
            if len(self._info) >= self._LIMIT:
                self._info.clear()
            found = self._info[cert] = _cert_info(cert)
        return found

    def signer(self, cert: x509.Certificate) -> SignerInfo:
        found = self._signers.get(cert)
        if found is None:
            if len(self._signers) >= self._LIMIT:
                self._signers.clear()
            found = self._signers[cert] = SignerInfo(body_id_of(cert), common_name_of(cert), self.info(cert))
        return found

    def sha256(self, cert: x509.Certificate) -> bytes:
        """SHA-256 of the certificate's DER (what signing-certificate-v2 names)."""
        return bytes.fromhex(self.info(cert).sha256)


def _report(
    checks: list[Check],
    verdicts: list[tuple[Indication, SubIndication]],
    *,
    at: datetime,
    document_sha256: str | None,
    sig: DetachedSignature | None = None,
    path: PathResult | None = None,
    warnings: list[str] | None = None,
    described: _Descriptions | None = None,
    timestamp: TimestampInfo | None = None,
) -> ValidationReport:
    # A definitive failure (TOTAL_FAILED) outranks a doubt (INDETERMINATE); the first of each wins.
    failed = [v for v in verdicts if v[0] is Indication.TOTAL_FAILED]
    chosen = failed[0] if failed else verdicts[0] if verdicts else None
    cert = sig.signer_certificate if sig else None
    described = described or _Descriptions()
    return ValidationReport(
        indication=chosen[0] if chosen else Indication.TOTAL_PASSED,
        sub_indication=chosen[1] if chosen else None,
        validation_time=iso(at),
        checks=tuple(checks),
        signer=described.signer(cert) if cert else None,
        signing_time=iso(sig.signing_time) if sig and sig.signing_time else None,
        document_sha256=document_sha256,
        digest_algorithm=sig.digest_algorithm if sig else None,
        signature_algorithm=sig.signature_algorithm if sig else None,
        chain=tuple(described.info(c) for c in path.path[1:]) if path else (),
        revocation_checked=path.revocation_checked if path else False,
        warnings=tuple(warnings or ()),
        timestamp=timestamp,
    )


