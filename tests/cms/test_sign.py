"""Detached CMS signing: the structure RFC 5652 and CAdES-BES ask for, from any content."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives import serialization

from exchange.cms import digest, sign_detached, sign_digest
from exchange.errors import InputFileError

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import TestPKI

    from exchange.pki import KeyStore

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
