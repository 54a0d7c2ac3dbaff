"""Our packages as others read them: the SDK-shaped layout, the independent parser, and the
XML signature checked by xmlsec1 (Debian's XMLDSig tool) and by signxml; and the other way
round, a signature made by signxml outside our code verified by ours."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import etree
from signxml import XMLSigner, XMLVerifier
from signxml.verifier import SignatureConfiguration

from edxml.sdk_parser import parse as sdk_parse
from exchange.edxml import (
    Attachment,
    DocumentPackage,
    Organization,
    Trace,
    XmlSignatureStatus,
    document_package_xml,
    read_package,
    sign_package,
    verify_package,
)
from exchange.pki.path import PathValidator

PDF = b"%PDF-1.4\n% Bao cao 6 thang\n%%EOF\n"
SIG = b"\x30\x82\x01\x00" + b"\x11" * 200


def _package() -> DocumentPackage:
    return DocumentPackage(
        sender=Organization("000.00.01.A00", "Văn phòng Trung ương Đảng"),
        recipients=(Organization("000.00.00.A41", "Tỉnh ủy Nghệ An"), Organization("000.00.00.A24", "Thành ủy Hà Nội")),
        document_id="000.00.01.A00,2015/06/30,1126-CV/VPTW", code_number="1126", code_notation="CV/VPTW",
        subject="V/v báo cáo <kết quả> & kế hoạch", promulgation_date=date(2015, 6, 30), type_code=1,
        type_name="Công văn", traces=(Trace("000.00.01.A00", datetime(2015, 6, 30, 1, 0, tzinfo=UTC)),),
        attachments=(Attachment("a1", "1126-CV-VPTW.pdf", PDF), Attachment("a2", "1126-CV-VPTW.pdf.p7s", SIG)))


@pytest.fixture(scope="module")
def signed(pki) -> bytes:  # type: ignore[no-untyped-def]
    return sign_package(document_package_xml(_package()), pki.signer)


def test_the_layout_is_the_sdks_prefixes_namespaces_and_date_styles(signed):
    text = signed.decode("utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">')
    assert '<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">' in text
    assert "<edXML:Bussiness>" in text and "<AttachmentEncoded>" in text
    assert '<edXML:ContentTransferEncoded xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">' in text
    assert "<edXML:PromulgationDate>2015/06/30</edXML:PromulgationDate>" in text
    assert "<edXML:Timestamp>2015/06/30 08:00:00</edXML:Timestamp>" in text  # Hanoi time, no zone
    # The C# integrators read literal qualified names: every header element carries the prefix.
    header = text[text.index("<edXML:MessageHeader>"):text.index("</edXML:TraceHeaderList>")]
    assert "<From>" not in header and "<Subject>" not in header
    # the signature sits where the SDK puts its <Signature>: last in edXMLHeader
    assert text.index("</edXML:TraceHeaderList>") < text.index('<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"') \
        < text.index("</edXML:edXMLHeader>")


def test_the_independent_parser_reads_our_export_field_by_field(signed):
    got = sdk_parse(signed)
    assert got["from"] == "000.00.01.A00" and got["to"] == ["000.00.00.A41", "000.00.00.A24"]
    assert (got["code_number"], got["code_notation"]) == ("1126", "CV/VPTW")
    assert got["subject"] == "V/v báo cáo <kết quả> & kế hoạch"
    assert got["attachments"] == {"1126-CV-VPTW.pdf": hashlib.sha256(PDF).hexdigest(),
                                  "1126-CV-VPTW.pdf.p7s": hashlib.sha256(SIG).hexdigest()}
    assert got["business_type"] == "0"


def test_our_reader_reads_back_what_we_wrote(signed):
    back = read_package(signed)
    assert back.subject == _package().subject and back.signature == "xmldsig"
    assert [a.data for a in back.attachments] == [PDF, SIG]


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 not installed (apt-get install xmlsec1)")
def test_xmlsec1_verifies_our_signature_and_refuses_an_altered_package(signed, pki, tmp_path):
    good = tmp_path / "good.edxml"
    good.write_bytes(signed)
    root = str(pki.dir / "root-ca.pem")
    ok = subprocess.run(["xmlsec1", "--verify", "--trusted-pem", root, str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    altered = tmp_path / "altered.edxml"
    altered.write_bytes(signed.replace(base64.b64encode(PDF), base64.b64encode(PDF.replace(b"6", b"9"))))
    bad = subprocess.run(["xmlsec1", "--verify", "--trusted-pem", root, str(altered)], capture_output=True, text=True)
    assert bad.returncode != 0


def test_signxml_verifies_our_signature(signed, pki):
    result = XMLVerifier().verify(signed, x509_cert=pki.signer.certificate,
                                  expect_config=SignatureConfiguration(verification_time=pki.created))
    assert etree.QName(result.signed_xml).localname == "edXML"


def test_our_verifier_says_why(signed, pki):
    at = pki.created
    assert verify_package(signed, validator=pki.store.path_validator(), at=at).status is XmlSignatureStatus.VALID
    altered = signed.replace("kết quả".encode(), "kết luận".encode())
    report = verify_package(altered, validator=pki.store.path_validator(), at=at)
    assert report.status is XmlSignatureStatus.INVALID and "does not match" in report.detail
    foreign = sign_package(document_package_xml(_package()), pki.foreign)
    report = verify_package(foreign, validator=pki.store.path_validator(), at=at)
    assert report.status is XmlSignatureStatus.UNTRUSTED
    revoked = sign_package(document_package_xml(_package()), pki.revoked)
    report = verify_package(revoked, validator=pki.store.path_validator(), at=pki.revoked_at.replace(year=pki.revoked_at.year + 1))
    assert report.status is XmlSignatureStatus.UNTRUSTED and "revoked" in report.detail.lower()


def test_a_signature_made_outside_our_code_by_signxml_verifies_with_ours(pki):
    # signxml's own defaults (ds: prefix, Canonical XML 1.1, signature appended to the root)
    root = etree.fromstring(document_package_xml(_package(), signed=False))
    other = XMLSigner().sign(root, key=pki.signer.private_key, cert=[pki.signer.certificate, *pki.signer.chain])
    data = etree.tostring(other, xml_declaration=True, encoding="UTF-8")
    assert verify_package(data, validator=pki.store.path_validator(), at=pki.created).valid


def test_the_sdk_placeholder_signature_is_reported_not_verified():
    from pathlib import Path

    data = (Path(__file__).resolve().parents[2] / "samples/edxml/sdk/edoc_new.edxml").read_bytes()
    report = verify_package(data, validator=None, at=datetime.now(UTC))
    assert report.status is XmlSignatureStatus.PLACEHOLDER


EXPORTED = sorted((Path(__file__).resolve().parents[2] / "samples/edxml/exported").glob("*.edxml"))


@pytest.mark.parametrize("path", EXPORTED, ids=[p.stem for p in EXPORTED])
def test_the_committed_exports_read_alike_and_verify_against_the_demo_root(path):
    data = path.read_bytes()
    ours, theirs = read_package(data), sdk_parse(data)
    assert ours.sender.organ_id == theirs["from"] == "000.00.00.A41" or path.stem.startswith("status_")
    root = path.parent / "demo-root-ca.pem"
    report = verify_package(data, validator=PathValidator.from_files(root), at=datetime(2026, 12, 1, tzinfo=UTC))
    assert report.valid, report.summary()
    if shutil.which("xmlsec1"):
        assert subprocess.run(["xmlsec1", "--verify", "--trusted-pem", str(root), str(path)],
                              capture_output=True).returncode == 0
