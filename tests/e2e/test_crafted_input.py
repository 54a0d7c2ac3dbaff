"""Crafted input on a real hub, SQLite and PostgreSQL: every class answers a 4xx JSON body with
a code that says what is wrong, never a 500, and nothing is stored.

The classes: a CMS whose embedded certificate is corrupted (at login, on a document, on a
receipt), dates at the edge of the calendar, lone surrogates and NUL in text, JSON nested
thousands deep, and page numbers past any register.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from exchange.cms import sign_detached
from exchange.domain.documents import ReceiptStatus
from exchange.domain.receipts import ReceiptStatement

from e2e.harness import RunningHub, assert_error

DEEP = "[" * 5000 + "]" * 5000


def meta(**fields: Any) -> dict[str, Any]:
    return {"recipients": ["nghe-an"], "subject": "Công văn", "message_id": str(uuid.uuid4()), **fields}


def corrupt_certificate(signature: bytes, hub: RunningHub, body: str) -> bytes:
    """*signature* with its embedded certificate's key algorithm OID made unknown: the CMS
    parses and the certificate loads; only reading its public key fails."""
    certificate = hub.credential(body).certificate.public_bytes(Encoding.DER)
    rsa = bytes.fromhex("2a864886f70d010101")
    bad = certificate.replace(rsa, rsa[:-1] + b"\x21")
    assert bad != certificate and certificate in signature
    return signature.replace(certificate, bad)


@pytest.fixture(scope="module")
def ha_noi(hub: RunningHub) -> str:
    return hub.token("ha-noi")


def test_a_corrupted_certificate_at_login_is_401_format_failure(hub):
    with hub.http() as http:
        challenge = http.post("/api/auth/challenge", json={"body": "ha-noi"}).json()["challenge"]
        signature = corrupt_certificate(sign_detached(challenge.encode(), hub.credential("ha-noi"),
                                                      at=datetime.now(UTC)), hub, "ha-noi")
        response = http.post("/api/auth/token", json={"challenge": challenge,
                                                      "signature": base64.b64encode(signature).decode()})
    body = assert_error(response, 401, "invalid-signature")
    assert body["detail"]["report"]["sub_indication"] == "FORMAT_FAILURE"


def test_a_corrupted_certificate_on_a_document_is_refused_as_format_failure(hub, ha_noi):
    content = f"Công văn {uuid.uuid4()}".encode()
    signature = corrupt_certificate(sign_detached(content, hub.credential("ha-noi"), at=datetime.now(UTC)),
                                    hub, "ha-noi")
    with hub.http(ha_noi) as http:
        response = http.post("/api/documents", data={"metadata": json.dumps(meta())},
                             files={"file": ("cv.pdf", content), "signature": ("cv.p7s", signature)})
    body = assert_error(response, 422, "invalid-signature")
    assert body["detail"]["report"]["sub_indication"] == "FORMAT_FAILURE"


def test_a_corrupted_certificate_on_a_receipt_is_refused(hub):
    content = f"Báo cáo {uuid.uuid4()}".encode()
    with hub.client("ha-noi") as sender:
        document_id = sender.send(content, metadata=_metadata()).id
    statement = ReceiptStatement(document_id=document_id, sha256=hashlib.sha256(content).hexdigest(),
                                 status=ReceiptStatus.RECEIVED, time=datetime.now(UTC).replace(microsecond=0),
                                 receiver="nghe-an").to_bytes()
    signature = corrupt_certificate(sign_detached(statement, hub.credential("nghe-an"), at=datetime.now(UTC)),
                                    hub, "nghe-an")
    with hub.http(hub.token("nghe-an")) as http:
        response = http.post(f"/api/documents/{document_id}/receipts",
                             files={"statement": ("r.json", statement), "signature": ("r.p7s", signature)})
        body = assert_error(response, 422, "invalid-signature")
        assert body["detail"]["report"]["sub_indication"] == "FORMAT_FAILURE"
        assert http.get(f"/api/documents/{document_id}/status").json() == []


@pytest.mark.parametrize(("path", "code", "words"), [
    ("/api/measures?period=9999-12-31", "invalid-input", "outside the years 1900 to 8999"),
    ("/api/measures?period=0001-01-01", "invalid-input", "within the years 1900 to 8999"),
    ("/api/measures?period=9999", "invalid-input", "outside the years 1900 to 8999"),
    ("/api/register?start=0001-01-01T00:00:00%2B14:00", "invalid-time", "outside the years 1900 to 8999"),
    ("/api/register?end=9999-12-31T23:59:59-14:00", "invalid-time", "outside the years 1900 to 8999"),
    ("/api/register?start=1900-01-01T00:00:00%2B14:00", "invalid-time", "outside the years 1900 to 8999"),
])
def test_dates_at_the_edge_of_the_calendar_are_400(hub, path, code, words):
    with hub.auditor() as http:  # the register and the measures are for people
        body = assert_error(http.get(path), 400, code)
    assert words in body["message"]


def test_a_receipt_dated_at_the_edge_of_the_calendar_is_400(hub):
    content = f"Thông báo {uuid.uuid4()}".encode()
    with hub.client("ha-noi") as sender:
        document_id = sender.send(content, metadata=_metadata()).id
    raw = {"type": "edxml-status", "document_id": document_id, "sha256": hashlib.sha256(content).hexdigest(),
           "status": "01", "time": "0001-01-01T00:00:00+14:00", "receiver": "nghe-an"}
    statement = json.dumps(raw).encode()
    signature = sign_detached(statement, hub.credential("nghe-an"), at=datetime.now(UTC))
    with hub.http(hub.token("nghe-an")) as http:
        response = http.post(f"/api/documents/{document_id}/receipts",
                             files={"statement": ("r.json", statement), "signature": ("r.p7s", signature)})
    body = assert_error(response, 400, "invalid-receipt")
    assert "outside the years" in body["message"]


@pytest.mark.parametrize("text", ["\ud800", "a\x00b"], ids=["lone-surrogate", "nul"])
def test_text_that_no_database_stores_is_400_naming_the_field(hub, ha_noi, text):
    before = hub.document_rows()
    with hub.http(ha_noi) as http:
        # json.dumps escapes both: the hub's JSON parser is what turns them back into text
        sent = http.post("/api/documents", data={"metadata": json.dumps(meta(subject=f"Công văn {text}"))},
                         files={"file": ("cv.pdf", b"%PDF-1.4 text")})
        body = assert_error(sent, 400, "invalid-text")
        assert "metadata.subject" in body["message"]
        paper = http.post("/api/documents/paper", content=json.dumps(meta(subject=f"Giấy mời {text}")),
                          headers={"content-type": "application/json"})
        assert_error(paper, 400, "invalid-text")
        incoming = http.post("/api/incoming", files={"metadata": (None, json.dumps({"from_agency": f"Bộ {text}"}))})
        assert_error(incoming, 400, "invalid-text")
        # text that reaches a query by another path (here a document id in the URL)
        assert http.get(f"/api/documents/a{text.encode('utf-8', 'surrogatepass').hex()}x").status_code == 404
        assert http.get("/api/documents/a%00b").status_code in (400, 404)
    assert hub.document_rows() == before


def test_json_nested_thousands_deep_is_400(hub, ha_noi):
    with hub.http(ha_noi) as http:
        sent = http.post("/api/documents", data={"metadata": DEEP}, files={"file": ("cv.pdf", b"%PDF-1.4 deep")})
        assert_error(sent, 400, "invalid-json")
        paper = http.post("/api/documents/paper", content=DEEP, headers={"content-type": "application/json"})
        assert_error(paper, 400, "invalid-json")
        login = http.post("/api/auth/challenge", content='{"body": ' + DEEP + "}",
                          headers={"content-type": "application/json"})
        assert_error(login, 400, "invalid-json")
        huge = http.post("/api/documents/paper", content=json.dumps(meta(subject="x" * 100_000)),
                         headers={"content-type": "application/json"})
        assert_error(huge, 413, "too-large")


def test_a_receipt_nested_thousands_deep_is_400(hub):
    with hub.client("ha-noi") as sender:
        document_id = sender.send(f"Kế hoạch {uuid.uuid4()}".encode(), metadata=_metadata()).id
    statement = DEEP.encode()
    signature = sign_detached(statement, hub.credential("nghe-an"), at=datetime.now(UTC))
    with hub.http(hub.token("nghe-an")) as http:
        response = http.post(f"/api/documents/{document_id}/receipts",
                             files={"statement": ("r.json", statement), "signature": ("r.p7s", signature)})
    assert_error(response, 400, "invalid-json")


def test_page_numbers_past_any_register_are_400(hub):
    with hub.auditor() as http:
        assert http.get("/documents?page=2").status_code == 200
        for page in ("99999999999999999999999", "-1", str(2**63)):
            response = http.get(f"/documents?page={page}")
            assert response.status_code == 400, (page, response.status_code)
            assert "page" in response.text


def _metadata():  # type: ignore[no-untyped-def]
    from exchange.domain.documents import DocumentMetadata

    return DocumentMetadata.from_dict(meta())


def test_a_message_id_shared_by_paper_and_electronic_documents_is_409(hub, ha_noi):
    shared = meta()
    with hub.http(ha_noi) as http:
        paper = http.post("/api/documents/paper", json=shared)
        assert paper.status_code == 201, paper.text
        electronic = http.post("/api/documents", data={"metadata": json.dumps(shared)},
                               files={"file": ("cv.pdf", f"%PDF-1.4 {uuid.uuid4()}".encode())})
        body = assert_error(electronic, 409, "message-id-reused")
        assert body["detail"]["document_id"] == paper.json()["id"]
        assert http.post("/api/documents/paper", json=shared).json()["duplicate"] is True
