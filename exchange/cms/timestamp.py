"""RFC 3161 time-stamps: the authority that issues tokens, the client that asks one for a token,
and the token as a CAdES signature time-stamp.

* :class:`TimeStampAuthority` answers a ``TimeStampReq`` with a ``TimeStampResp`` (never an
  exception: a bad request gets a PKIStatus ``rejection`` with its ``failInfo``). A token is a
  CMS SignedData whose content is a ``TSTInfo`` (eContentType id-ct-TSTInfo), signed by the TSA's
  own key with the signed attributes content-type, message-digest and signing-certificate-v2
  (RFC 5816), so ``openssl ts -verify`` accepts it.
* :func:`request_token` is the client: a ``TimeStampReq`` with a nonce and ``certReq`` over
  HTTP (``application/timestamp-query`` → ``application/timestamp-reply``, RFC 3161 §3.4).
* :func:`add_timestamp` puts a token in a signature as the unsigned attribute
  id-aa-signatureTimeStampToken (1.2.840.113549.1.9.16.2.14) whose message imprint is the hash
  of the SignerInfo's signature value (RFC 3161 Appendix A): CAdES-B-T. The signed attributes
  and the signature value are not touched, so the signature stays what its signer made.
* :func:`check_token` validates a token as proof of existence (POE) of a signature value:
  its own signature, the message imprint, and its TSA's certificate path at the token's time.

Every structure is asn1crypto's (``tsp``, ``cms``); the one local definition is
:class:`TimeStampResp`, asn1crypto's with the token OPTIONAL as RFC 3161 §2.4.2 has it
(asn1crypto 1.5.1 requires it, so a rejection cannot be encoded or read: wbond/asn1crypto#286).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from exchange.cms.certs import find_signer, load_embedded
from exchange.cms.der import children, tlv, unwrap
from exchange.cms.report import TimestampInfo, iso
from exchange.errors import ExchangeError, MalformedError, PKIError
from exchange.pki.certificates import Credential, common_name_of
from exchange.pki.path import KeyPurpose, PathValidator

#: The demo TSA's policy: a UUID-based OID (ITU-T X.667, arc 2.25), which needs no registration.
POLICY = "2.25.205101744464526132543852309982879541482"
QUERY_MEDIA_TYPE = "application/timestamp-query"
REPLY_MEDIA_TYPE = "application/timestamp-reply"
#: a request larger than this is refused unread (a real one is under 100 bytes)
MAX_REQUEST = 16 * 1024
#: a token's time may be this far after the validation time (clocks of hub and node differ)
CLOCK_LEEWAY = timedelta(minutes=5)

_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512(),
}
_HASHLIB = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}


class TimestampError(ExchangeError):
    """A TSA refused to time-stamp, or answered with something that is not a token for us."""

    code = "timestamp-failed"


class TimestampUnavailableError(PKIError):
    """This hub's TSA cannot issue tokens now (its certificate is not valid at this time)."""

    code = "timestamp-unavailable"


class MalformedTokenError(MalformedError):
    code = "malformed-timestamp"


class TimeStampResp(core.Sequence):
    """RFC 3161 §2.4.2 ``TimeStampResp``; asn1crypto's ``tsp.TimeStampResp`` with the token
    OPTIONAL (a rejection carries none)."""

    _fields = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


# -- the authority ---------------------------------------------------------------------------


class _Rejection(Exception):
    def __init__(self, fail_info: str, text: str) -> None:
        super().__init__(text)
        self.fail_info, self.text = fail_info, text


@dataclass(frozen=True)
class TimestampRequest:
    """What a ``TimeStampReq`` asks for."""

    hash_algorithm: str
    hashed_message: bytes
    nonce: int | None = None
    cert_req: bool = False
    policy: str | None = None


def parse_request(data: bytes) -> TimestampRequest:
    """Read a DER ``TimeStampReq``; raises _Rejection with the RFC 3161 failInfo for a bad one.

    The usual request (version 1, an imprint, optional policy, nonce and certReq) is read by
    walking its TLVs, each field with asn1crypto's types (:func:`_request_fast`); anything else
    goes through asn1crypto's full parse, which also says what is wrong.
    """
    if len(data) > MAX_REQUEST:
        raise _Rejection("bad_data_format", f"the request is larger than {MAX_REQUEST} bytes")
    try:
        fast = _request_fast(bytes(data))
    except (ValueError, TypeError, KeyError, IndexError):
        fast = None
    if fast is not None:
        return _checked_request(fast)
    try:
        request = tsp.TimeStampReq.load(bytes(data), strict=True)
        version = request["version"].native
        imprint = request["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        hashed = imprint["hashed_message"].native
        policy = request["req_policy"].dotted if request["req_policy"].native is not None else None
        nonce = request["nonce"].native
        cert_req = bool(request["cert_req"].native)
        extensions = request["extensions"].native
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise _Rejection("bad_data_format", f"not a DER TimeStampReq: {exc}") from None
    if version != "v1":
        raise _Rejection("bad_request", f"TimeStampReq version {version}, not v1")
    if extensions:
        raise _Rejection("unaccepted_extensions", "this TSA accepts no request extensions")
    return _checked_request(TimestampRequest(algorithm, hashed, nonce, cert_req, policy))


def _request_fast(der: bytes) -> TimestampRequest | None:
    """A version-1 request without extensions, read by walking its TLVs; None otherwise."""
    fields = children(unwrap(der, 0x30))
    if len(fields) < 2 or fields[0][1] != b"\x02\x01\x01" or fields[1][0] != 0x30:
        return None
    imprint = children(unwrap(fields[1][1], 0x30))
    if len(imprint) != 2 or imprint[0][0] != 0x30 or imprint[1][0] != 0x04:
        return None
    policy = nonce = None
    cert_req = False
    expected = [0x06, 0x02, 0x01]  # the optional fields, in their order
    for tag, value in fields[2:]:
        if tag not in expected:
            return None  # extensions, or fields out of order: the full parse says what
        expected = expected[expected.index(tag) + 1:]
        if tag == 0x06:
            policy = _oid(value)
        elif tag == 0x02:
            nonce = core.Integer.load(value).native
        else:
            cert_req = bool(core.Boolean.load(value).native)
    return TimestampRequest(_algorithm(imprint[0][1]), unwrap(imprint[1][1], 0x04), nonce, cert_req, policy)


def _checked_request(request: TimestampRequest) -> TimestampRequest:
    """*request* if this TSA serves it, else _Rejection with RFC 3161's failInfo."""
    algorithm, hashed, policy = request.hash_algorithm, request.hashed_message, request.policy
    if algorithm not in _SIZES:
        raise _Rejection("bad_alg", f"message imprint algorithm {algorithm} is not accepted "
                                    f"(use one of {', '.join(_SIZES)})")
    if len(hashed) != _SIZES[algorithm]:
        raise _Rejection("bad_data_format", f"a {algorithm} message imprint is {_SIZES[algorithm]} bytes, "
                                            f"not {len(hashed)}")
    if policy is not None and policy != POLICY:
        raise _Rejection("unaccepted_policy", f"policy {policy} is not this TSA's ({POLICY})")
    return request


#: PKIStatusInfo ``granted``: a granted TimeStampResp is this followed by the token
_GRANTED = tsp.PKIStatusInfo({"status": "granted"}).dump()


def rejection(fail_info: str, text: str) -> bytes:
    """A ``TimeStampResp`` refusing a request: status rejection, *fail_info*, *text*."""
    return TimeStampResp({"status": {"status": "rejection", "status_string": [text],
                                     "fail_info": {fail_info}}}).dump()


class TimeStampAuthority:
    """Issues RFC 3161 tokens with one TSA credential (certificate, key, CA chain above it).

    Everything is encoded by asn1crypto once, here, as reference values: a ``tsp.TSTInfo`` and
    the CMS SignedData of a token. A token differs from them only in the TSTInfo's message
    imprint, serial number, time and nonce, the TSTInfo's digest and the signature value, so
    each token splices those (each encoded by asn1crypto's own types: ``core.Integer``,
    ``core.GeneralizedTime``, ``tsp.MessageImprint``) into the reference encoding, as
    :mod:`exchange.cms.sign` does for signatures. Building the structures anew with asn1crypto
    cost more than the RSA operation itself (1.5 ms against 0.7 ms). The constructor checks
    that splicing reproduces asn1crypto's own encoding byte for byte, and the tests compare
    the two on many tokens.
    """

    def __init__(self, credential: Credential, *, policy: str = POLICY,
                 accuracy: timedelta = timedelta(seconds=1)) -> None:
        self.credential = credential
        self.policy = policy
        self.accuracy = accuracy
        der = serialization.Encoding.DER
        cert_der = credential.certificate.public_bytes(der)
        cert = asn1_x509.Certificate.load(cert_der)
        self._tsa_name = asn1_x509.GeneralName({"directory_name": cert.subject})
        seconds = int(accuracy.total_seconds())
        millis = int((accuracy - timedelta(seconds=seconds)).total_seconds() * 1000)
        self._accuracy = tsp.Accuracy({k: v for k, v in (("seconds", seconds), ("millis", millis)) if v})
        self._not_before = credential.certificate.not_valid_before_utc
        self._not_after = credential.certificate.not_valid_after_utc
        key = credential.private_key
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):  # pragma: no cover
            raise TypeError(f"unsupported key type {type(key).__name__}")

        # TSTInfo: version, policy | imprint, serial, time | accuracy [, nonce] | tsa
        reference_time = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
        typed = tsp.TSTInfo(self._tst_fields("sha256", bytes(32), serial=12345, gen_time=reference_time,
                                             nonce=678))
        parsed_tst = tsp.TSTInfo.load(typed.dump())
        self._tst_head = parsed_tst["version"].dump() + parsed_tst["policy"].dump()
        self._tst_accuracy = parsed_tst["accuracy"].dump()
        self._tst_tail = parsed_tst["tsa"].dump()
        self._imprints: dict[str, bytes] = {}
        if self._tst_info("sha256", bytes(32), 12345, reference_time, 678) != typed.dump():
            raise RuntimeError("the TSTInfo template does not reproduce asn1crypto's encoding")  # pragma: no cover

        # The reference token, all asn1crypto: a blank TSTInfo, digest and signature.
        digest_algorithm = algos.DigestAlgorithm({"algorithm": "sha256"})
        attrs = [
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [bytes(32)]}),
            cms.CMSAttribute({"type": "signing_certificate_v2", "values": [{"certs": [{
                "cert_hash": hashlib.sha256(cert_der).digest(),
                "issuer_serial": {"issuer": [asn1_x509.GeneralName({"directory_name": cert.issuer})],
                                  "serial_number": cert.serial_number},
            }]}]}),
        ]
        encoded = [a.dump() for a in attrs]
        # DER sorts a SET OF by encoding; the three attribute types differ before the digest.
        order = sorted(range(3), key=encoded.__getitem__)
        if order != sorted(range(3), key=lambda i: encoded[i][:-32] + b"\xff" * 32 if i == 1 else encoded[i]):
            raise RuntimeError("the signed attributes' order depends on the digest")  # pragma: no cover
        self._attrs_before = b"".join(encoded[i] for i in order[:order.index(1)])
        self._attrs_after = b"".join(encoded[i] for i in order[order.index(1) + 1:])
        self._digest_prefix = encoded[1][:-32]
        blank_tst = b"\x30\x00"
        signer = cms.SignerInfo({
            "version": "v1",
            "sid": {"issuer_and_serial_number": {"issuer": cert.issuer, "serial_number": cert.serial_number}},
            "digest_algorithm": digest_algorithm,
            "signed_attrs": [attrs[i] for i in order],
            "signature_algorithm": {"algorithm": "sha256_rsa" if isinstance(key, rsa.RSAPrivateKey)
                                    else "sha256_ecdsa"},
            "signature": b"",
        })
        certificates = [cms.CertificateChoices.load(c.public_bytes(der))
                        for c in (credential.certificate, *credential.chain)]
        reference = {}
        for with_certs in (True, False):
            signed: dict[str, Any] = {
                "version": "v3", "digest_algorithms": [digest_algorithm],
                "encap_content_info": {"content_type": "tst_info", "content": core.ParsableOctetString(blank_tst)},
                "signer_infos": [signer]}
            if with_certs:
                signed["certificates"] = certificates
            reference[with_certs] = cms.ContentInfo({"content_type": "signed_data",
                                                     "content": cms.SignedData(signed)}).dump()
        parsed = cms.ContentInfo.load(reference[True])["content"]
        si = parsed["signer_infos"][0]
        self._signed_head = parsed["version"].dump() + parsed["digest_algorithms"].dump()
        self._encap_type = cms.ContentType("tst_info").dump()
        self._certificates = parsed["certificates"].dump()
        self._signer_head = si["version"].dump() + si["sid"].dump() + si["digest_algorithm"].dump()
        self._signer_tail = si["signature_algorithm"].dump()
        self._content_type = cms.ContentType("signed_data").dump()
        blank_attrs = self._attrs_before + self._digest_prefix + bytes(32) + self._attrs_after
        for with_certs, expected in reference.items():
            if self._token(blank_tst, blank_attrs, b"", with_certs) != expected:  # pragma: no cover
                raise RuntimeError("the token template does not reproduce asn1crypto's encoding")

    @property
    def certificate(self) -> x509.Certificate:
        return self.credential.certificate

    def respond(self, request: bytes, *, at: datetime) -> bytes:
        """The DER ``TimeStampResp`` to *request* at time *at*; never raises."""
        return self.answer(request, at=at)[1]

    def answer(self, request: bytes, *, at: datetime) -> tuple[int, bytes]:
        """(HTTP status, DER ``TimeStampResp``) for *request*: 400 when it is no TimeStampReq at
        all (badDataFormat), else 200 whether granted or refused in the protocol's own terms
        (badAlg, unacceptedPolicy, …), as RFC 3161 clients expect. Never raises."""
        try:
            parsed = parse_request(request)
        except _Rejection as refused:
            status = 400 if refused.fail_info == "bad_data_format" else 200
            return status, rejection(refused.fail_info, refused.text)
        return 200, self._grant(parsed, at=at)

    def _grant(self, parsed: TimestampRequest, *, at: datetime) -> bytes:
        try:
            token = self.issue(parsed.hash_algorithm, parsed.hashed_message, at=at, nonce=parsed.nonce,
                               cert_req=parsed.cert_req)
        except TimestampUnavailableError as exc:
            return rejection("time_not_available", str(exc))
        except Exception:  # noqa: BLE001 - RFC 3161: a failure is a reply, never a crash
            return rejection("system_failure", "the TSA could not issue a token")
        return tlv(0x30, _GRANTED + token)

    def issue(self, hash_algorithm: str, hashed_message: bytes, *, at: datetime, nonce: int | None = None,
              cert_req: bool = True) -> bytes:
        """A DER time-stamp token (ContentInfo) over *hashed_message*, dated *at*.

        The time is rounded up to the whole second (within the token's accuracy): a token never
        dates anything earlier than it was made. Raises TimestampUnavailableError when the TSA's
        certificate is not valid at *at*, ValueError for a naive *at*.
        """
        return self._issue(hash_algorithm, hashed_message, at=at, nonce=nonce, cert_req=cert_req)[0]

    def _issue(self, hash_algorithm: str, hashed_message: bytes, *, at: datetime, nonce: int | None,
               cert_req: bool) -> tuple[bytes, datetime, int]:
        if at.tzinfo is None:
            raise ValueError("the time-stamp time must be timezone-aware")
        gen_time = _whole_second_up(at)
        if not self._not_before <= gen_time <= self._not_after:
            raise TimestampUnavailableError(
                f"the TSA's certificate is valid {iso(self._not_before)} – {iso(self._not_after)}, "
                f"not at {iso(gen_time)}")
        serial = x509.random_serial_number()
        tst = self._tst_info(hash_algorithm, hashed_message, serial, gen_time, nonce)
        attrs = self._attrs_before + self._digest_prefix + hashlib.sha256(tst).digest() + self._attrs_after
        key = self.credential.private_key
        to_sign = tlv(0x31, attrs)  # the signature covers the attributes as a SET OF (RFC 5652 §5.4)
        if isinstance(key, rsa.RSAPrivateKey):
            signature = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
        else:
            signature = key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
        return self._token(tst, attrs, signature, cert_req), gen_time, serial

    def _tst_fields(self, hash_algorithm: str, hashed_message: bytes, *, serial: int, gen_time: datetime,
                    nonce: int | None) -> dict[str, Any]:
        """The fields of a ``tsp.TSTInfo`` as this TSA fills them."""
        fields: dict[str, Any] = {
            "version": "v1",
            "policy": self.policy,
            "message_imprint": {"hash_algorithm": {"algorithm": hash_algorithm},
                                "hashed_message": hashed_message},
            "serial_number": serial,
            "gen_time": gen_time,
            "accuracy": self._accuracy,
            "tsa": self._tsa_name,
        }
        if nonce is not None:
            fields["nonce"] = nonce
        return fields

    def _tst_info(self, hash_algorithm: str, hashed_message: bytes, serial: int, gen_time: datetime,
                  nonce: int | None) -> bytes:
        """``tsp.TSTInfo(self._tst_fields(...)).dump()``, spliced (see the class docstring)."""
        prefix = self._imprints.get(hash_algorithm)
        if prefix is None:
            blank = tsp.MessageImprint({"hash_algorithm": {"algorithm": hash_algorithm},
                                        "hashed_message": bytes(_SIZES[hash_algorithm])}).dump()
            prefix = self._imprints[hash_algorithm] = blank[:-_SIZES[hash_algorithm]]
        if len(hashed_message) != _SIZES[hash_algorithm]:
            raise ValueError(f"a {hash_algorithm} imprint is {_SIZES[hash_algorithm]} bytes")
        return tlv(0x30, b"".join((
            self._tst_head, prefix, hashed_message, core.Integer(serial).dump(),
            core.GeneralizedTime(gen_time).dump(), self._tst_accuracy,
            core.Integer(nonce).dump() if nonce is not None else b"", self._tst_tail)))

    def _token(self, tst: bytes, attrs: bytes, signature: bytes, with_certs: bool) -> bytes:
        signer = tlv(0x30, b"".join((self._signer_head, tlv(0xA0, attrs), self._signer_tail,
                                     tlv(0x04, signature))))
        encap = tlv(0x30, self._encap_type + tlv(0xA0, tlv(0x04, tst)))
        signed = tlv(0x30, b"".join((self._signed_head, encap, self._certificates if with_certs else b"",
                                     tlv(0x31, signer))))
        return tlv(0x30, self._content_type + tlv(0xA0, signed))

    def stamp(self, signature: bytes, *, at: datetime) -> Stamped:
        """*signature* (DER CMS, one signer) with this TSA's signature time-stamp added
        (CAdES-B-T), and what the token says."""
        value = signature_value(signature)
        token, gen_time, serial = self._issue("sha256", hashlib.sha256(value).digest(), at=at, nonce=None,
                                              cert_req=True)
        detail = (f"time-stamped at {iso(gen_time)} by {common_name_of(self.certificate)!r} "
                  f"(serial {serial:x}) when the hub accepted the signature")
        info = TimestampInfo(time=iso(gen_time), tsa=common_name_of(self.certificate), serial=f"{serial:x}",
                             policy=self.policy, passed=True, detail=detail)
        return Stamped(add_timestamp(signature, token), token, info)


@dataclass(frozen=True)
class Stamped:
    """A signature with a time-stamp token added, the token, and what it says."""

    signature: bytes
    token: bytes
    info: TimestampInfo


def _whole_second_up(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    if at.microsecond:
        at = at.replace(microsecond=0) + timedelta(seconds=1)
    return at


# -- the client ------------------------------------------------------------------------------


def build_request(hashed_message: bytes, *, hash_algorithm: str = "sha256", nonce: int | None = None,
                  cert_req: bool = True, policy: str | None = None) -> bytes:
    """A DER ``TimeStampReq`` for *hashed_message*."""
    fields: dict[str, Any] = {
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": hash_algorithm}, "hashed_message": hashed_message},
        "cert_req": cert_req,
    }
    if nonce is not None:
        fields["nonce"] = nonce
    if policy is not None:
        fields["req_policy"] = policy
    return tsp.TimeStampReq(fields).dump()


def read_response(data: bytes, *, hashed_message: bytes, nonce: int | None) -> bytes:
    """The token of a granted ``TimeStampResp`` that answers our request; raises TimestampError
    (saying the TSA's status and failInfo) for a refusal or an answer to another request."""
    try:
        response = TimeStampResp.load(bytes(data), strict=True)
        status = response["status"]
        state = status["status"].native
        text = "; ".join(status["status_string"].native or ())
        fail = sorted(status["fail_info"].native or ()) if status["fail_info"].native else []
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(f"the TSA's answer is not a TimeStampResp: {exc}") from None
    if state not in ("granted", "granted_with_mods"):
        detail = ", ".join(fail)
        raise TimestampError(f"the TSA refused: {state}" + (f" ({detail})" if detail else "")
                             + (f": {text}" if text else ""), detail={"status": state, "fail_info": fail})
    token_info = response["time_stamp_token"]
    if isinstance(token_info, core.Void):
        raise TimestampError("the TSA granted the request but sent no token")
    token = token_info.dump()
    parsed = TimestampToken.from_der(token)
    if parsed.hashed_message != hashed_message:
        raise TimestampError("the TSA's token dates other data than we asked for (message imprint differs)")
    if nonce is not None and parsed.nonce != nonce:
        raise TimestampError("the TSA's token does not carry our nonce: it answers another request")
    return token


def request_token(url: str, data: bytes, *, timeout: float = 30.0, transport: Any = None) -> bytes:
    """Ask the RFC 3161 TSA at *url* for a token over SHA-256(*data*); returns the token (DER).

    Raises TimestampError when the TSA cannot be reached, refuses or answers badly.
    """
    import httpx

    hashed = hashlib.sha256(data).digest()
    nonce = secrets.randbits(63)
    try:
        with httpx.Client(timeout=timeout, transport=transport) as http:
            answer = http.post(url, content=build_request(hashed, nonce=nonce),
                               headers={"Content-Type": QUERY_MEDIA_TYPE, "Accept": REPLY_MEDIA_TYPE})
    except httpx.HTTPError as exc:
        raise TimestampError(f"cannot reach the TSA at {url}: {exc}") from None
    if answer.status_code != 200:
        raise TimestampError(f"the TSA at {url} answered HTTP {answer.status_code}")
    return read_response(answer.content, hashed_message=hashed, nonce=nonce)


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


def _signer_info(der: bytes) -> tuple[Any, list[tuple[int, bytes]]]:
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


