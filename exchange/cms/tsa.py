"""The RFC 3161 time-stamping authority (TSA) and its protocol: requests and responses.

* :class:`TimeStampAuthority` answers a ``TimeStampReq`` with a ``TimeStampResp`` (never an
  exception: a bad request gets a PKIStatus ``rejection`` with its ``failInfo``). A token is a
  CMS SignedData whose content is a ``TSTInfo`` (eContentType id-ct-TSTInfo), signed by the TSA's
  own key with the signed attributes content-type, message-digest and signing-certificate-v2
  (RFC 5816), so ``openssl ts -verify`` accepts it. :meth:`TimeStampAuthority.stamp` adds its
  token to a signature (CAdES-B-T, see :mod:`exchange.cms.tokens`).
* :func:`build_request` and :func:`read_response` are the client's half of the protocol: a
  ``TimeStampReq`` with a nonce and ``certReq``, and the token of the ``TimeStampResp`` that
  answers it (sent over HTTP by :func:`exchange.node.tsa_client.request_token`, since this
  package knows nothing of HTTP).

Reading and checking a token is :mod:`exchange.cms.tokens`. Every structure is asn1crypto's
(``tsp``, ``cms``); the one local definition is :class:`TimeStampResp`, asn1crypto's with the
token OPTIONAL as RFC 3161 §2.4.2 has it (asn1crypto 1.5.1 requires it, so a rejection cannot
be encoded or read: wbond/asn1crypto#286).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from exchange.cms.der import children, tlv, unwrap
from exchange.cms.report import TimestampInfo, iso
from exchange.cms.tokens import TimestampToken, _algorithm, _oid, add_timestamp, signature_value
from exchange.errors import ExchangeError, PKIError
from exchange.pki.certificates import Credential, common_name_of

#: The demo TSA's policy: a UUID-based OID (ITU-T X.667, arc 2.25), which needs no registration.
POLICY = "2.25.205101744464526132543852309982879541482"
QUERY_MEDIA_TYPE = "application/timestamp-query"
REPLY_MEDIA_TYPE = "application/timestamp-reply"
#: a request larger than this is refused unread (a real one is under 100 bytes)
MAX_REQUEST = 16 * 1024

_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}


class TimestampError(ExchangeError):
    """Raised by the client side when a TSA refused to time-stamp, could not be reached, or
    answered with something that is not a token for our request."""

    code = "timestamp-failed"


class TimestampUnavailableError(PKIError):
    """Raised by :meth:`TimeStampAuthority.issue` when the TSA certificate is not valid at the
    time asked for: it has no time to give (the protocol answers timeNotAvailable)."""

    code = "timestamp-unavailable"


class TimeStampResp(core.Sequence):  # type: ignore[misc]  # asn1crypto has no type hints
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
    return bytes(TimeStampResp({"status": {"status": "rejection", "status_string": [text],
                                           "fail_info": {fail_info}}}).dump())


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
        """The TSA's certificate (id-kp-timeStamping), which its tokens carry and name."""
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


# -- the client's half -------------------------------------------------------------------------


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
    return bytes(tsp.TimeStampReq(fields).dump())


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
    token: bytes = token_info.dump()
    parsed = TimestampToken.from_der(token)
    if parsed.hashed_message != hashed_message:
        raise TimestampError("the TSA's token dates other data than we asked for (message imprint differs)")
    if nonce is not None and parsed.nonce != nonce:
        raise TimestampError("the TSA's token does not carry our nonce: it answers another request")
    return token
