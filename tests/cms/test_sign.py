"""Detached CMS signing: the structure RFC 5652 and CAdES-BES ask for, from any content."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from exchange.cms import Indication, Verifier, digest, sign_detached, sign_digest
from exchange.cms.report import iso
from exchange.cms.sign import _Template, _time_text
from exchange.errors import InputFileError
from exchange.pki import Credential

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import TestPKI

    from exchange.pki import KeyStore

    from cms.conftest import BoundaryPKI

DOCUMENT = "Công văn số 12-CV/VPTW về ứng dụng CNTT\r\n".encode()


def _signer_info(signature: bytes) -> cms.SignerInfo:
    return cms.ContentInfo.load(signature)["content"]["signer_infos"][0]


def _attributes(signature: bytes) -> dict[str, Any]:
    return {a["type"].native: a["values"][0] for a in _signer_info(signature)["signed_attrs"]}


def test_a_detached_signed_data_with_one_signer(pki: TestPKI) -> None:
    info = cms.ContentInfo.load(sign_detached(DOCUMENT, pki.signer, at=pki.created))
    assert info["content_type"].native == "signed_data"
    signed = info["content"]
    assert signed["version"].native == "v1"
    assert signed["encap_content_info"]["content_type"].native == "data"
    assert signed["encap_content_info"]["content"].native is None  # detached
    assert [a["algorithm"].native for a in signed["digest_algorithms"]] == ["sha256"]
    (si,) = signed["signer_infos"]
    assert si["digest_algorithm"]["algorithm"].native == "sha256"
    assert si["signature_algorithm"]["algorithm"].native == "sha256_rsa"
    sid = si["sid"].chosen
    assert sid["serial_number"].native == pki.signer.certificate.serial_number
    assert sid["issuer"].dump() == pki.signer.certificate.issuer.public_bytes()


def test_signer_and_issuing_ca_certificates_are_embedded(pki: TestPKI) -> None:
    signed = cms.ContentInfo.load(sign_detached(DOCUMENT, pki.signer, at=pki.created))["content"]
    embedded = [c.chosen.dump() for c in signed["certificates"]]
    expected = [
        c.public_bytes(serialization.Encoding.DER)
        for c in (pki.signer.certificate, *pki.signer.chain)
    ]
    assert sorted(embedded) == sorted(expected)  # a SET OF: DER order, not chain order
    assert pki.signer.chain == (pki.store.issuing_ca().certificate,)


def test_signed_attributes(pki: TestPKI) -> None:
    attrs = _attributes(sign_detached(DOCUMENT, pki.signer, at=pki.created))
    assert set(attrs) == {
        "content_type",
        "message_digest",
        "signing_time",
        "signing_certificate_v2",
    }
    assert attrs["content_type"].native == "data"
    assert attrs["message_digest"].native == hashlib.sha256(DOCUMENT).digest()
    assert attrs["signing_time"].native == pki.created
    assert attrs["signing_time"].name == "utc_time"
    cert_der = pki.signer.certificate.public_bytes(serialization.Encoding.DER)
    ess = attrs["signing_certificate_v2"]["certs"][0]
    assert ess["cert_hash"].native == hashlib.sha256(cert_der).digest()
    assert ess["issuer_serial"]["serial_number"].native == pki.signer.certificate.serial_number


def test_signed_attributes_are_in_der_set_order(pki: TestPKI) -> None:
    # openssl re-encodes the SET OF before checking: an unsorted set would not verify there
    encoded = [
        a.dump()
        for a in _signer_info(sign_detached(DOCUMENT, pki.signer, at=pki.created))["signed_attrs"]
    ]
    assert encoded == sorted(encoded)


def test_signing_time_after_2049_is_generalized_time(pki: TestPKI) -> None:
    at = datetime(2051, 1, 2, 3, 4, 5, tzinfo=UTC)
    attrs = _attributes(sign_detached(DOCUMENT, pki.signer, at=at))
    assert attrs["signing_time"].name == "generalized_time"
    assert attrs["signing_time"].native == at


@pytest.mark.parametrize("year", [2026, 2051])
def test_signing_time_is_utc_in_whole_seconds(pki: TestPKI, year: int) -> None:
    # RFC 5652 §11.3: UTC, seconds present, no fractional seconds (UTCTime or GeneralizedTime)
    ict = timezone(timedelta(hours=7), "ICT")
    at = datetime(year, 3, 4, 15, 30, 45, 987654, tzinfo=ict)
    signing_time = _attributes(sign_detached(DOCUMENT, pki.signer, at=at))["signing_time"]
    assert signing_time.native == datetime(year, 3, 4, 8, 30, 45, tzinfo=UTC)
    assert signing_time.chosen.contents.endswith(b"083045Z")


def test_signing_time_must_be_timezone_aware(pki: TestPKI) -> None:
    naive = datetime(2015, 1, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_detached(DOCUMENT, pki.signer, at=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_digest(digest(DOCUMENT), pki.signer, at=naive)


def test_bytes_path_str_and_stream_sign_alike(pki: TestPKI, tmp_path: Path) -> None:
    # RSA PKCS#1 v1.5 is deterministic: the same content and time give the same bytes
    path = tmp_path / "Công văn số 1 (bản chính).txt"
    path.write_bytes(DOCUMENT)
    reference = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    assert sign_detached(bytearray(DOCUMENT), pki.signer, at=pki.created) == reference
    assert sign_detached(memoryview(DOCUMENT), pki.signer, at=pki.created) == reference
    assert sign_detached(path, pki.signer, at=pki.created) == reference
    assert sign_detached(str(path), pki.signer, at=pki.created) == reference
    assert sign_detached(io.BytesIO(DOCUMENT), pki.signer, at=pki.created) == reference
    assert sign_digest(digest(DOCUMENT), pki.signer, at=pki.created) == reference


def test_signing_time_is_a_parameter(pki: TestPKI) -> None:
    at = datetime(2015, 6, 30, 8, 0, tzinfo=UTC)
    later = at + timedelta(seconds=1)
    first = sign_detached(DOCUMENT, pki.signer, at=at)
    assert _attributes(first)["signing_time"].native == at
    assert sign_detached(DOCUMENT, pki.signer, at=later) != first


def test_ecdsa_signature_algorithm(ecdsa_store: KeyStore, pki: TestPKI) -> None:
    signature = sign_detached(DOCUMENT, ecdsa_store.credential("da-nang"), at=pki.created)
    assert _signer_info(signature)["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"


def test_missing_file_and_directory_are_input_errors(pki: TestPKI, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        sign_detached(tmp_path / "missing.pdf", pki.signer, at=pki.created)
    with pytest.raises(InputFileError, match="is a directory"):
        sign_detached(tmp_path, pki.signer, at=pki.created)


# -- the templates, byte for byte against asn1crypto -------------------------------------------
#
# sign.py encodes what a signer's signatures share once and splices the signing time, the
# message digest and the signature value into it. These tests build the same signature the
# slow way, every structure from asn1crypto values (as sign.py once did), and want the very
# same bytes: RSA PKCS#1 v1.5 is deterministic; an ECDSA value is taken from our signature.

ICT = timezone(timedelta(hours=7), "ICT")
TIMES = {
    "1949-generalized": datetime(1949, 12, 31, 23, 59, 59, tzinfo=UTC),  # before UTCTime's range
    "1950-utc": datetime(1950, 1, 1, tzinfo=UTC),  # UTCTime's first second
    "2015-utc": datetime(2015, 6, 1, 8, 0, 5, tzinfo=UTC),
    "2049-utc": datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC),  # UTCTime's last second
    "2050-generalized": datetime(2050, 1, 1, tzinfo=UTC),  # GeneralizedTime from here on
    "2050-ict-is-2049-utc": datetime(2050, 1, 1, 6, 59, 59, 999999, tzinfo=ICT),  # UTC year counts
    "2099-generalized": datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC),
}


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def _reference_attributes(message_digest: bytes, credential: Credential, at: datetime) -> cms.CMSAttributes:
    """The signed attributes as asn1crypto encodes them (a SET OF: asn1crypto sorts it)."""
    at = at.astimezone(UTC).replace(microsecond=0)
    cert_der = _der(credential.certificate)
    cert = asn1_x509.Certificate.load(cert_der)
    ess = tsp.SigningCertificateV2({"certs": [{
        "cert_hash": hashlib.sha256(cert_der).digest(),
        "issuer_serial": {"issuer": [asn1_x509.GeneralName({"directory_name": cert.issuer})],
                          "serial_number": cert.serial_number},
    }]})
    time_kind = "utc_time" if 1950 <= at.year < 2050 else "generalized_time"
    return cms.CMSAttributes([
        {"type": "content_type", "values": [cms.ContentType("data")]},
        {"type": "signing_time", "values": [cms.Time({time_kind: at})]},
        {"type": "message_digest", "values": [core.OctetString(message_digest)]},
        {"type": "signing_certificate_v2", "values": [ess]},
    ])


def _reference_signature(
    message_digest: bytes, credential: Credential, *, at: datetime, signature: bytes | None = None
) -> bytes:
    """The whole ContentInfo from asn1crypto values; *signature* given, or made with RSA."""
    attrs = _reference_attributes(message_digest, credential, at)
    key = credential.private_key
    if signature is None:
        assert isinstance(key, rsa.RSAPrivateKey)
        signature = key.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
    cert = asn1_x509.Certificate.load(_der(credential.certificate))
    signer_info = cms.SignerInfo({
        "version": "v1",
        "sid": {"issuer_and_serial_number": {"issuer": cert.issuer, "serial_number": cert.serial_number}},
        "digest_algorithm": {"algorithm": "sha256"},
        "signed_attrs": attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm(
            {"algorithm": "sha256_rsa" if isinstance(key, rsa.RSAPrivateKey) else "sha256_ecdsa"}),
        "signature": signature,
    })
    signed_data = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": "data"},
        "certificates": [asn1_x509.Certificate.load(_der(c))
                         for c in (credential.certificate, *credential.chain)],
        "signer_infos": [signer_info],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()


@pytest.mark.parametrize("at", list(TIMES.values()), ids=list(TIMES))
@pytest.mark.parametrize("actor", ["signer", "revoked", "foreign"])
def test_rsa_signatures_are_asn1cryptos_byte_for_byte(pki: TestPKI, actor: str, at: datetime) -> None:
    credential = getattr(pki, actor)
    message_digest = digest(DOCUMENT)
    ours = sign_digest(message_digest, credential, at=at)
    assert ours == _reference_signature(message_digest, credential, at=at)


@pytest.mark.parametrize("at", list(TIMES.values()), ids=list(TIMES))
def test_ecdsa_signatures_are_asn1cryptos_byte_for_byte(
    ecdsa_store: KeyStore, pki: TestPKI, at: datetime
) -> None:
    credential = ecdsa_store.credential("da-nang")
    message_digest = digest(DOCUMENT)
    ours = sign_digest(message_digest, credential, at=at)
    value = _signer_info(ours)["signature"].native
    # everything but the (randomised) signature value is asn1crypto's, and the value verifies
    # over asn1crypto's own encoding of the signed attributes
    assert ours == _reference_signature(message_digest, credential, at=at, signature=value)
    public_key = credential.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(value, _reference_attributes(message_digest, credential, at).dump(),
                      ec.ECDSA(hashes.SHA256()))
    # and two signatures at the same time differ only there
    again = sign_digest(message_digest, credential, at=at)
    assert again != ours
    assert again == _reference_signature(
        message_digest, credential, at=at, signature=_signer_info(again)["signature"].native)


def test_ecdsa_signature_lengths_vary_and_every_length_is_encoded(
    ecdsa_store: KeyStore, pki: TestPKI
) -> None:
    # An ECDSA value is a DER SEQUENCE of two INTEGERs: 70 to 72 bytes, so the lengths that
    # enclose it are worked out per signature
    credential = ecdsa_store.credential("da-nang")
    verifier = Verifier(paths=ecdsa_store.path_validator())
    message_digest = digest(DOCUMENT)
    lengths = set()
    for _ in range(24):
        signature = sign_digest(message_digest, credential, at=pki.created)
        value = _signer_info(signature)["signature"].native
        lengths.add(len(value))
        assert signature == _reference_signature(
            message_digest, credential, at=pki.created, signature=value)
        assert verifier.verify(DOCUMENT, signature, at=pki.created).passed
    assert len(lengths) > 1  # all 24 of one length: about 0.5**23 by chance


@pytest.mark.parametrize("generalized", [False, True], ids=["utc-time", "generalized-time"])
def test_the_template_is_asn1cryptos_encoding(pki: TestPKI, generalized: bool) -> None:
    at = TIMES["2050-generalized" if generalized else "2015-utc"]
    credential = pki.signer
    template = _Template(_der(credential.certificate), tuple(_der(c) for c in credential.chain),
                         "sha256_rsa", generalized=generalized)
    message_digest = digest(DOCUMENT)
    spliced = template.signed_attributes(_time_text(at, generalized=generalized), message_digest)
    expected = _reference_attributes(message_digest, credential, at).dump()
    assert spliced == b"\xa0" + expected[1:]  # travels as [0] IMPLICIT, else identical


def test_a_digest_of_another_length_is_refused(pki: TestPKI) -> None:
    with pytest.raises(ValueError, match="32 bytes, not 48"):
        sign_digest(hashlib.sha384(DOCUMENT).digest(), pki.signer, at=pki.created)


def test_a_credential_read_again_signs_alike(pki: TestPKI) -> None:
    # templates are keyed by the certificates' DER, not by the objects
    first = sign_detached(DOCUMENT, pki.store.credential("central-office"), at=pki.created)
    assert sign_detached(DOCUMENT, pki.store.credential("central-office"), at=pki.created) == first
    assert sign_detached(DOCUMENT, pki.store.credential("ha-noi"), at=pki.created) != first


@pytest.mark.parametrize("algorithm", ["rsa", "ecdsa"])
@pytest.mark.parametrize("offset", [-1, 0, 1], ids=["2049-utc", "2050-generalized", "2050+1s"])
def test_our_verifier_accepts_signatures_either_side_of_2050(
    boundary_pki: BoundaryPKI, algorithm: str, offset: int
) -> None:
    store = boundary_pki.store(algorithm)
    at = boundary_pki.boundary + timedelta(seconds=offset)
    signature = sign_detached(DOCUMENT, store.credential(boundary_pki.body_id), at=at)
    kind = _attributes(signature)["signing_time"].name
    assert kind == ("utc_time" if offset < 0 else "generalized_time")
    report = Verifier(paths=store.path_validator()).verify(
        DOCUMENT, signature, at=boundary_pki.boundary + timedelta(hours=1))
    assert report.indication is Indication.TOTAL_PASSED, report.summary()
    assert report.signing_time == iso(at)
