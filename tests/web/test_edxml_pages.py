"""edXML on the pages, in Chromium against a real hub: the trainer imports a sample package
from an outside agency and sees its header fields (and K3 moves); a document downloads as an
edXML package that the independent parser reads; a recall and a replacement show on the
document page, the register and the workflow."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime

import pytest
from edxml.sdk_parser import parse as sdk_parse

from exchange.domain.business import BusinessAction, BusinessStatement
from exchange.domain.documents import DocumentMetadata
from exchange.wire import DocumentPublic

pytestmark = pytest.mark.browser
PERIOD = str(datetime.now(UTC).year)


def _k3(hub) -> dict:  # type: ignore[no-untyped-def]
    with hub.auditor() as http:
        return http.get("/api/measures", params={"period": PERIOD}).json()["k3"]


def _send(hub, sender: str, to: tuple[str, ...], content: bytes, number: str) -> DocumentPublic:  # type: ignore[no-untyped-def]
    with hub.client(sender) as client:
        return client.send(content, filename=f"{number.replace('/', '-')}.pdf", metadata=DocumentMetadata(
            recipients=to, subject="Báo cáo kết quả ứng dụng CNTT", message_id=str(uuid.uuid4()), number=number))


def _statement(action: BusinessAction, doc_id: str, sender: str, **extra: str) -> BusinessStatement:
    return BusinessStatement(action=action, document_id=doc_id, sender=sender,
                             time=datetime.now(UTC).replace(microsecond=0), reason="Gửi nhầm phụ lục", **extra)


def test_the_trainer_imports_an_outside_agencys_package_and_sees_its_header(page, web_hub, screenshot):  # type: ignore[no-untyped-def]
    before = _k3(web_hub)
    page.goto("/#training")
    form = page.locator("form#import-edxml")
    form.locator("select[name=package]").select_option("edoc_new.edxml")
    form.locator("select[name=body]").select_option("ha-noi")
    form.locator("button").click()
    page.wait_for_url(re.compile(r"/incoming/edxml/"))
    header = page.locator("#edxml-header").inner_text()
    for shown in ("000.00.00.G12", "Bộ Tài chính", "000.00.00.A41", "7816/BTC-THTK",
                  "000.00.00.G12,2015/09/30,7816/BTC-THTK", "Công văn", "sdk-placeholder"):
        assert shown in header, shown
    assert "born digital" in page.locator(".lead").inner_text()
    assert page.locator("table.checks tbody tr").count() == 2  # the PDF and the unzipped appendix
    screenshot(page, "20-edxml-imported")
    page.goto("/bodies/ha-noi")
    assert "7816/BTC-THTK" in page.locator("#edxml-received").inner_text()
    after = _k3(web_hub)
    assert (after["numerator"], after["denominator"]) == (before["numerator"] + 1, before["denominator"] + 1)


def test_a_document_downloads_as_edxml_and_shows_its_recall_and_replacement(page, web_hub, screenshot):  # type: ignore[no-untyped-def]
    content = b"%PDF-1.4\n% bao cao\n%%EOF\n"
    doc = _send(web_hub, "nghe-an", ("central-office", "ha-noi"), content, "318-BC/TU")
    page.goto(f"/documents/{doc.id}")
    with page.expect_download() as info:
        page.locator("#download-edxml").click()
    got = sdk_parse(open(info.value.path(), "rb").read())
    assert got["from"] == "000.00.00.A41" and got["to"] == ["000.00.01.A00", "000.00.00.A24"]
    assert (got["code_number"], got["code_notation"]) == ("318", "BC/TU")
    assert got["attachments"]["318-BC-TU.pdf"] == hashlib.sha256(content).hexdigest()

    with web_hub.client("nghe-an") as client:
        client.business(_statement(BusinessAction.RECALL, doc.id, "nghe-an"))
        new = _send(web_hub, "nghe-an", ("central-office", "ha-noi"), content + b"v2", "319-BC/TU")
        client.business(_statement(BusinessAction.REPLACE, doc.id, "nghe-an", replacement=new.id))
    page.goto(f"/documents/{doc.id}")
    business = page.locator("#business").inner_text()
    assert "Recall requested" in business and "Replaced by" in business and "Gửi nhầm phụ lục" in business
    screenshot(page, "21-document-recalled-replaced")
    page.goto(f"/documents/{new.id}")
    assert "Replaces" in page.locator("#business").inner_text()
    page.goto("/documents")
    row = page.locator("tbody tr", has_text="318-BC/TU").first
    assert "recalled" in row.inner_text() and "replaced by" in row.inner_text()
    page.goto(f"/documents/{doc.id}/workflow")
    flow = page.locator("#business-flow").inner_text()
    assert "Sender recalls (status 13)" in flow and "awaiting its answer" in flow
    screenshot(page, "22-workflow-recall")
