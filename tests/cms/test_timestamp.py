"""The RFC 3161 time-stamping authority and tokens inside signatures (the HTTP client's tests are
tests/node/test_tsa_client.py).

openssl is the referee both ways: it verifies our tokens (``openssl ts -verify``) and still
verifies a signature we added a token to (``openssl cms -verify``); a TSA of another PKI made
with ``openssl ts -reply`` produces tokens our verifier accepts once that PKI's root is trusted.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from asn1crypto import cms, core, tsp

from exchange.cms import (
    Indication,
    TimestampToken,
    Verifier,
    add_timestamp,
    sign_detached,
    strip_timestamps,
)
from exchange.cms.tokens import _read_typed, signature_value
from exchange.cms.tsa import POLICY, TimeStampResp, _request_fast, build_request, read_response
from exchange.cms.verify import DetachedSignature
from exchange.pki import PathValidator
from exchange.pki.certificates import is_tsa_certificate

if TYPE_CHECKING:
    from conftest import TestPKI

DOCUMENT = "Công văn số 7 — Văn phòng Trung ương Đảng\r\n".encode()
HAS_OPENSSL = shutil.which("openssl") is not None
needs_openssl = pytest.mark.skipif(not HAS_OPENSSL, reason="openssl is not on PATH")


def _status(reply: bytes) -> tuple[str, set[str], str]:
    status = TimeStampResp.load(reply)["status"]
    fail = status["fail_info"].native
    return (status["status"].native, set(fail) if fail else set(),
            "; ".join(status["status_string"].native or ()))


def _openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, check=False)


# -- the TSA's certificate -------------------------------------------------------------------


def test_the_tsa_certificate_is_a_critical_time_stamping_one_that_outlives_body_certificates(pki: TestPKI) -> None:
    tsa = pki.store.tsa_credential().certificate
    assert is_tsa_certificate(tsa)
    assert not is_tsa_certificate(pki.signer.certificate)
    assert tsa.not_valid_after_utc - tsa.not_valid_before_utc > \
        pki.signer.certificate.not_valid_after_utc - pki.signer.certificate.not_valid_before_utc
    assert tsa.public_key() != pki.store.hub_credential().certificate.public_key()  # its own key
    assert tsa.issuer == pki.store.issuing_ca().certificate.subject


# -- answering requests ----------------------------------------------------------------------


def test_a_granted_reply_carries_the_nonce_policy_accuracy_and_certificates(pki: TestPKI, tsa) -> None:
    hashed = hashlib.sha256(b"data").digest()
    at = pki.created + timedelta(hours=1, microseconds=250_000)
    reply = tsa.respond(build_request(hashed, nonce=2**70 + 5, cert_req=True), at=at)
    assert _status(reply)[0] == "granted"
    token = TimestampToken.from_der(read_response(reply, hashed_message=hashed, nonce=2**70 + 5))
    assert token.gen_time == pki.created + timedelta(hours=1, seconds=1)  # rounded up, never earlier
    assert (token.nonce, token.policy, token.accuracy) == (2**70 + 5, POLICY, timedelta(seconds=1))
    assert (token.hash_algorithm, token.hashed_message) == ("sha256", hashed)
    assert len(token.certificates) == 2  # the TSA's and the issuing CA's

    without = TimestampToken.from_der(read_response(tsa.respond(build_request(hashed, cert_req=False), at=at),
                                                    hashed_message=hashed, nonce=None))
    assert without.certificates == () and without.nonce is None


def test_each_token_has_its_own_serial(tsa) -> None:
    hashed = hashlib.sha256(b"x").digest()
    at = datetime.now(UTC)
    serials = {TimestampToken.from_der(tsa.issue("sha256", hashed, at=at)).serial for _ in range(20)}
    assert len(serials) == 20


@pytest.mark.parametrize(("request_der", "fail", "words"), [
    (b"not a request", "bad_data_format", "not a DER TimeStampReq"),
    (b"", "bad_data_format", "not a DER TimeStampReq"),
    (build_request(hashlib.sha1(b"x").digest(), hash_algorithm="sha1"), "bad_alg", "sha1"),
    (build_request(hashlib.md5(b"x").digest(), hash_algorithm="md5"), "bad_alg", "md5"),
    (build_request(b"\0" * 20), "bad_data_format", "32 bytes"),
    (build_request(hashlib.sha256(b"x").digest(), policy="1.2.3.4"), "unaccepted_policy", "1.2.3.4"),
    (b"\x30" + bytes([0x82, 0x40, 0x01]) + bytes(0x4001), "bad_data_format", "larger than"),
])
def test_bad_requests_get_a_rejection_with_its_fail_info(tsa, request_der: bytes, fail: str, words: str) -> None:
    status, fails, text = _status(tsa.respond(request_der, at=datetime.now(UTC)))
    assert (status, fails) == ("rejection", {fail})
    assert words in text


def test_request_version_and_extensions_are_checked(tsa) -> None:
    hashed = hashlib.sha256(b"x").digest()
    imprint = {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": hashed}
    v2 = tsp.TimeStampReq({"version": 2, "message_imprint": imprint}).dump()
    assert _status(tsa.respond(v2, at=datetime.now(UTC)))[:2] == ("rejection", {"bad_request"})
    extended = tsp.TimeStampReq({"version": "v1", "message_imprint": imprint, "extensions": [
        {"extn_id": "1.2.3.4", "critical": False, "extn_value": b"x"}]}).dump()
    assert _status(tsa.respond(extended, at=datetime.now(UTC)))[:2] == ("rejection", {"unaccepted_extensions"})


def test_outside_its_certificate_the_tsa_has_no_time_to_give(tsa) -> None:
    late = tsa.certificate.not_valid_after_utc + timedelta(seconds=1)
    status, fails, text = _status(tsa.respond(build_request(hashlib.sha256(b"x").digest()), at=late))
    assert (status, fails) == ("rejection", {"time_not_available"}) and "valid" in text


def test_a_failure_inside_the_tsa_is_a_system_failure_reply_not_an_exception(tsa, monkeypatch) -> None:
    def broken(*_: object, **__: object) -> bytes:
        raise RuntimeError("the HSM is unplugged")

    monkeypatch.setattr(tsa, "_issue", broken)
    status, fails, _ = _status(tsa.respond(build_request(hashlib.sha256(b"x").digest()), at=datetime.now(UTC)))
    assert (status, fails) == ("rejection", {"system_failure"})


# -- the encodings: spliced, read fast, against asn1crypto's own -----------------------------


@pytest.mark.parametrize("fields", [
    {}, {"nonce": 0}, {"nonce": 2**80}, {"cert_req": True}, {"policy": POLICY}, {"policy": "1.2.3"},
    {"policy": POLICY, "nonce": 5, "cert_req": True}, {"hash_algorithm": "sha512"},
])
def test_a_request_reads_the_same_fast_and_through_asn1crypto(fields: dict) -> None:
    algorithm = fields.pop("hash_algorithm", "sha256")
    der = build_request(bytes({"sha256": 32, "sha512": 64}[algorithm]), hash_algorithm=algorithm, **fields)
    fast = _request_fast(der)
    typed = tsp.TimeStampReq.load(der)
    assert fast is not None
    assert (fast.hash_algorithm, fast.nonce, fast.cert_req, fast.policy) == (
        typed["message_imprint"]["hash_algorithm"]["algorithm"].native, typed["nonce"].native,
        typed["cert_req"].native, typed["req_policy"].dotted if typed["req_policy"].native else None)


def test_spliced_tst_info_is_asn1cryptos_encoding(tsa) -> None:
    rng = random.Random(3161)
    for _ in range(200):
        algorithm = rng.choice(["sha256", "sha384", "sha512"])
        hashed = rng.randbytes({"sha256": 32, "sha384": 48, "sha512": 64}[algorithm])
        serial = rng.randrange(1, 2**159)
        nonce = rng.choice([None, 0, 1, 127, 128, 255, 256, rng.randrange(2**64)])
        when = datetime(2015, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(40 * 365 * 86400))
        fields = tsa._tst_fields(algorithm, hashed, serial=serial, gen_time=when, nonce=nonce)
        assert tsa._tst_info(algorithm, hashed, serial, when, nonce) == tsp.TSTInfo(fields).dump()


def test_a_token_reads_the_same_fast_and_through_asn1crypto(tsa) -> None:
    for cert_req in (True, False):
        for nonce in (None, 42):
            token = tsa.issue("sha384", bytes(48), at=datetime.now(UTC), nonce=nonce, cert_req=cert_req)
            fast = TimestampToken.from_der(token)
            assert TimestampToken(der=token, **_read_typed(token)) == fast
            parsed = tsp.TSTInfo.load(bytes(cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"]))
            assert fast.serial == parsed["serial_number"].native and fast.nonce == parsed["nonce"].native


def test_a_ber_token_reads_as_its_der_twin(tsa) -> None:
    token = tsa.issue("sha256", bytes(32), at=datetime.now(UTC), nonce=7)
    info = cms.ContentInfo.load(token)
    ber = _indefinite(info)  # the same token with an indefinite-length outer SEQUENCE
    assert ber != token
    parsed = TimestampToken.from_der(ber)
    assert parsed.nonce == 7 and parsed.content_digest == TimestampToken.from_der(token).content_digest


def _indefinite(info: cms.ContentInfo) -> bytes:
    body = info.dump()[2:] if info.dump()[1] < 0x80 else info.dump()[2 + (info.dump()[1] & 0x7F):]
    return b"\x30\x80" + body + b"\x00\x00"


# -- tokens inside signatures ----------------------------------------------------------------


def test_adding_a_token_keeps_every_signed_byte(pki: TestPKI, tsa) -> None:
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    stamped = tsa.stamp(signature, at=pki.created).signature
    before, after = DetachedSignature.from_der(signature), DetachedSignature.from_der(stamped)
    assert after.signed_attributes == before.signed_attributes
    assert after.signature == before.signature == signature_value(stamped)
    assert after.certificates == before.certificates
    assert len(after.timestamp_tokens) == 1 and before.timestamp_tokens == ()
    assert strip_timestamps(stamped) == signature
    twice = tsa.stamp(stamped, at=pki.created + timedelta(minutes=1)).signature
    assert len(DetachedSignature.from_der(twice).timestamp_tokens) == 2
    assert strip_timestamps(twice) == signature


def test_a_token_is_added_to_a_ber_signature_too(pki: TestPKI, tsa) -> None:
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    ber = _indefinite(cms.ContentInfo.load(signature))
    stamped = tsa.stamp(ber, at=pki.created).signature
    report = pki.verifier().verify(DOCUMENT, stamped, at=pki.created + timedelta(minutes=1))
    assert report.indication is Indication.TOTAL_PASSED and report.timestamp and report.timestamp.passed


def test_the_tsas_own_stamp_says_what_it_added(pki: TestPKI, tsa) -> None:
    stamped = tsa.stamp(sign_detached(DOCUMENT, pki.signer, at=pki.created), at=pki.created)
    token = TimestampToken.from_der(stamped.token)
    assert stamped.info.time == token.gen_time.isoformat().replace("+00:00", "Z")
    assert stamped.info.serial == f"{token.serial:x}" and stamped.info.passed


# -- openssl, both ways -------------------------------------------------------------------------


@needs_openssl
def test_openssl_ts_verifies_our_reply_against_its_query(pki: TestPKI, tsa, tmp_path: Path) -> None:
    data = tmp_path / "report.pdf"
    data.write_bytes(DOCUMENT)
    query = tmp_path / "req.tsq"
    made = _openssl("ts", "-query", "-data", data, "-sha256", "-cert", "-out", query)
    assert made.returncode == 0, made.stderr
    reply = tmp_path / "resp.tsr"
    reply.write_bytes(tsa.respond(query.read_bytes(), at=datetime.now(UTC)))
    for source in (("-queryfile", query), ("-data", data)):
        checked = _openssl("ts", "-verify", *source, "-in", reply, "-CAfile", pki.store.root_path,
                           "-untrusted", pki.store.issuing_path)
        assert "Verification: OK" in checked.stdout, checked.stdout + checked.stderr
    text = _openssl("ts", "-reply", "-in", reply, "-text").stdout
    assert f"Policy OID: {POLICY}" in text and "Accuracy: 0x01 seconds" in text


@needs_openssl
def test_openssl_cms_still_verifies_a_time_stamped_signature(pki: TestPKI, tsa, tmp_path: Path) -> None:
    document = tmp_path / "công văn.txt"
    document.write_bytes(DOCUMENT)
    signature = tmp_path / "công văn.txt.p7s"
    signature.write_bytes(tsa.stamp(sign_detached(document, pki.signer, at=pki.created), at=pki.created).signature)
    checked = _openssl("cms", "-verify", "-binary", "-inform", "DER", "-in", signature, "-content", document,
                       "-CAfile", pki.store.root_path, "-purpose", "any", "-out", "/dev/null")
    assert checked.returncode == 0 and "Verification successful" in checked.stderr, checked.stderr
    printed = _openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", signature).stdout
    assert "id-smime-aa-timeStampToken" in printed  # the unsigned attribute, as openssl names it


@needs_openssl
def test_a_token_from_an_openssl_tsa_of_another_pki_is_accepted_once_its_root_is_trusted(
        pki: TestPKI, tmp_path: Path) -> None:
    other = _openssl_tsa(tmp_path / "other-pki")
    signature = sign_detached(DOCUMENT, pki.signer, at=datetime.now(UTC).replace(microsecond=0))
    query = tmp_path / "sig.tsq"
    query.write_bytes(build_request(hashlib.sha256(signature_value(signature)).digest(), nonce=99))
    reply = tmp_path / "sig.tsr"
    made = _openssl("ts", "-reply", "-config", other / "tsa.cnf", "-queryfile", query, "-out", reply)
    assert made.returncode == 0, made.stderr
    token = read_response(reply.read_bytes(), hashed_message=hashlib.sha256(signature_value(signature)).digest(),
                          nonce=99)
    stamped = add_timestamp(signature, token)
    at = datetime.now(UTC) + timedelta(minutes=1)

    ours_only = pki.verifier().verify(DOCUMENT, stamped, at=at)
    assert ours_only.timestamp is not None and not ours_only.timestamp.passed
    both = Verifier(paths=PathValidator(trust_anchors=[pki.root, *_certs(other / "ca.pem")],
                                        crls=pki.store.crls(), require_revocation=False))
    report = both.verify(DOCUMENT, stamped, at=at)
    assert report.indication is Indication.TOTAL_PASSED, report.summary()
    assert report.timestamp is not None and report.timestamp.passed and report.timestamp.tsa == "Other TSA"
    assert report.timestamp.policy == "1.2.3.4.1"
    parsed = TimestampToken.from_der(token)
    assert TimestampToken(der=token, **_read_typed(token)) == parsed  # openssl's layout read both ways
    assert parsed.ess_hash is not None and parsed.ess_hash[0] == "sha1"  # ESSCertID v1, openssl's default


def _certs(path: Path):  # type: ignore[no-untyped-def]
    from exchange.pki import load_certificate_file

    return load_certificate_file(path)


def _openssl_tsa(folder: Path) -> Path:
    """A root CA and a TSA certificate made by openssl alone, and an ``openssl ts`` config."""
    folder.mkdir()
    ext = folder / "ext.cnf"
    ext.write_text("[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                   "[tsa]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n"
                   "extendedKeyUsage=critical,timeStamping\n")
    steps = [
        ("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
         folder / "ca.key", "-out", folder / "ca.pem", "-subj", "/CN=Other Root", "-days", "30",
         "-config", ext, "-extensions", "ca"),
        ("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", folder / "tsa.key",
         "-out", folder / "tsa.csr", "-subj", "/CN=Other TSA"),
        ("x509", "-req", "-in", folder / "tsa.csr", "-CA", folder / "ca.pem", "-CAkey", folder / "ca.key",
         "-CAcreateserial", "-out", folder / "tsa.pem", "-days", "30", "-extfile", ext, "-extensions", "tsa"),
    ]
    for step in steps:
        done = _openssl(*step)
        assert done.returncode == 0, done.stderr
    (folder / "serial").write_text("01\n")
    (folder / "tsa.cnf").write_text(
        "[tsa]\ndefault_tsa = tsa_config\n[tsa_config]\n"
        f"dir = {folder}\nserial = $dir/serial\ncrypto_device = builtin\nsigner_cert = $dir/tsa.pem\n"
        "certs = $dir/ca.pem\nsigner_key = $dir/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n"
        "digests = sha256, sha384, sha512\naccuracy = secs:1\nordering = no\ntsa_name = yes\n"
        "ess_cert_id_chain = no\n")
    return folder


def test_core_void_is_what_a_missing_token_reads_as() -> None:
    # RFC 3161 §2.4.2: a rejection carries no token; asn1crypto 1.5.1 insists on one (#286)
    reply = TimeStampResp({"status": {"status": "rejection", "fail_info": {"bad_request"}}}).dump()
    assert isinstance(TimeStampResp.load(reply)["time_stamp_token"], core.Void)
    with pytest.raises(ValueError):
        tsp.TimeStampResp({"status": {"status": "rejection"}}).dump()
