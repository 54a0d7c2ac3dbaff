"""The reader on packages written the way the Government Office's SDK writes them
(``samples/edxml/sdk/``), the tolerant cases real packages need, and what it must refuse."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from edxml.sdk_parser import parse as sdk_parse
from exchange.edxml import BusinessDocType, DocumentPackage, StatusCode, StatusPackage, read_package
from exchange.errors import MalformedError, TooLargeError

SDK = Path(__file__).resolve().parents[2] / "samples" / "edxml" / "sdk"
STATUS_FILES = sorted(SDK.glob("status_*.edxml"))


def test_the_sdk_new_document_reads_field_by_field_like_the_independent_parser():
    data = (SDK / "edoc_new.edxml").read_bytes()
    package = read_package(data)
    expected = sdk_parse(data)
    assert isinstance(package, DocumentPackage)
    assert package.sender.organ_id == expected["from"] == "000.00.00.G12"
    assert [r.organ_id for r in package.recipients] == expected["to"] == ["000.00.00.A41", "000.00.00.A24"]
    assert (package.code_number, package.code_notation) == (expected["code_number"], expected["code_notation"])
    assert package.subject == expected["subject"]
    assert package.business.doc_type is BusinessDocType.NEW
    assert {a.name: a.sha256 for a in package.attachments} == expected["attachments"]
    zipped = [a for a in package.attachments if a.zipped]
    assert [a.name for a in zipped] == ["phu-luc-danh-sach.txt"]  # unzipped to the file the agency sent
    assert zipped[0].data.decode("utf-8").startswith("Phụ lục")
    assert package.signature == "sdk-placeholder"  # the SDK's static <Signature>, accepted, not "verified"
    assert package.promulgation_date.isoformat() == "2015-09-30"
    assert package.traces[0].timestamp.isoformat() == "2015-09-30T08:15:00+07:00"


@pytest.mark.parametrize(("name", "kind"), [("edoc_revocation.edxml", BusinessDocType.REVOKE),
                                            ("edoc_update.edxml", BusinessDocType.UPDATE),
                                            ("edoc_replacement.edxml", BusinessDocType.REPLACE)])
def test_revoke_update_and_replace_packages_say_what_they_do(name, kind):
    package = read_package((SDK / name).read_bytes())
    assert package.business.doc_type is kind
    if kind is BusinessDocType.REPLACE:
        assert [r.document_id for r in package.business.replaces] == ["000.00.00.G12,2015/09/30,7816/BTC-THTK"]
        assert package.business.replaces[0].organ_ids == ("000.00.00.A41", "000.00.00.A24")
    if kind is BusinessDocType.UPDATE:
        assert package.business.update is not None and package.business.update.document_info
    if kind is BusinessDocType.REVOKE:
        assert package.response_for[0].document_id == package.document_id


@pytest.mark.parametrize("path", STATUS_FILES, ids=[p.stem for p in STATUS_FILES])
def test_every_status_package_reads_its_code_and_document(path):
    package = read_package(path.read_bytes())
    expected = sdk_parse(path.read_bytes())
    assert isinstance(package, StatusPackage)
    assert package.status_code == expected["status"] == path.stem.rsplit("_", 1)[1]
    assert isinstance(package.status, StatusCode)
    assert package.response_for.document_id == expected["response_for"]


def test_bkav_style_dates_empty_elements_and_a_lying_content_type_are_accepted():
    package = read_package((SDK / "edoc_new_bkav-style.edxml").read_bytes())
    assert package.promulgation_date.isoformat() == "2015-09-30"  # dd/MM/yyyy
    assert package.due_date is None and package.sender.address == ""
    # declared application/pdf, but the bytes are a zip: trusted the bytes
    assert [a.zipped for a in package.attachments] == [False, True]


def test_the_dotnet_flavour_without_prefixes_and_with_bare_content_ids_is_read():
    text = (SDK / "edoc_new.edxml").read_text(encoding="utf-8").replace("edXML:", "").replace(
        ' xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016"', "").replace("<ContentId>cid:", "<ContentId>")
    package = read_package(text.encode())
    assert package.sender.organ_id == "000.00.00.G12" and len(package.attachments) == 2


def test_a_missing_bussiness_is_a_new_document_and_a_missing_namespace_is_tolerated():
    text = (SDK / "edoc_new.edxml").read_text(encoding="utf-8")
    start, end = text.index("<edXML:Bussiness>"), text.index("</edXML:Bussiness>") + len("</edXML:Bussiness>")
    package = read_package((text[:start] + text[end:]).encode())
    assert package.business.doc_type is BusinessDocType.NEW


@pytest.mark.parametrize(("data", "code", "words"), [
    (b"%PDF-1.4 not xml", "invalid-edxml", "not XML"),
    (b"<html><body>hi</body></html>", "invalid-edxml", "root element is <html>"),
    (b"<edXML><unclosed></edXML>", "invalid-edxml", "malformed"),
    (b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><edXML>&xxe;</edXML>',
     "xml-attack", "XXE"),
])
def test_what_is_not_edxml_or_is_hostile_is_refused_with_a_reason(data, code, words):
    with pytest.raises(MalformedError) as caught:
        read_package(data)
    assert caught.value.code == code and words in str(caught.value)


def test_billion_laughs_is_refused_at_once():
    lol = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    data = f'<?xml version="1.0"?><!DOCTYPE edXML [{"".join(lol)}]><edXML>&lol9;</edXML>'.encode()
    started = time.perf_counter()
    with pytest.raises(MalformedError) as caught:
        read_package(data)
    assert caught.value.code == "xml-attack"
    assert time.perf_counter() - started < 5  # refused before any expansion (a generous bound, not a benchmark)


def test_an_attachment_that_does_not_decode_is_refused():
    text = (SDK / "edoc_new.edxml").read_text(encoding="utf-8")
    good = base64.b64encode((SDK / "edoc_new.edxml").read_bytes()[:0]).decode()
    start = text.index('QCVN_102_2016">', text.index("<AttachmentEncoded>")) + len('QCVN_102_2016">')
    bad = text[:start] + "@@not base64@@" + good + text[text.index("<", start):]
    with pytest.raises(MalformedError) as caught:
        read_package(bad.encode())
    assert caught.value.code == "bad-attachment" and "7816-BTC-THTK.pdf" in str(caught.value)


def test_a_corrupt_zip_is_refused():
    text = (SDK / "edoc_new.edxml").read_text(encoding="utf-8")
    corrupt = base64.b64encode(b"PK\x03\x04" + b"\x00" * 40).decode()
    start = text.index('QCVN_102_2016">', text.index("phu-luc-danh-sach.txt</AttachmentName>")) + len('QCVN_102_2016">')
    bad = text[:start] + corrupt + text[text.index("<", start):]
    with pytest.raises(MalformedError, match="does not unzip"):
        read_package(bad.encode())


def test_an_oversized_package_is_refused_before_parsing():
    with pytest.raises(TooLargeError):
        read_package(b"<edXML>" + b" " * 2048 + b"</edXML>", max_size=1024)
