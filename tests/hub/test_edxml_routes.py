"""The edXML routes answer bad input with a 4xx JSON body that says what is wrong, never a
5xx, and store nothing when they refuse; the business rules of recall, update and replace."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchange.cms import sign_detached
from exchange.domain.business import BusinessAction, BusinessStatement
from exchange.domain.documents import ReceiptStatus
from exchange.edxml import document_package_xml, read_package, sign_package
from exchange.errors import (
    ConflictError,
    InputError,
    NotAuthorizedError,
    NotFoundError,
    RejectedError,
)

from hub.inprocess import document_bytes, metadata

SDK = Path(__file__).resolve().parents[2] / "samples" / "edxml" / "sdk"


def _statement(action: BusinessAction, doc_id: str, sender: str, reason: str = "lý do",
               **extra: object) -> BusinessStatement:
    return BusinessStatement(action=action, document_id=doc_id, sender=sender,
                             time=datetime.now(UTC).replace(microsecond=0), reason=reason, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(("data", "status", "code"), [
    (b"not xml at all", 400, "invalid-edxml"),
    (b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY a "b">]><edXML>&a;</edXML>', 400, "xml-attack"),
    (b"<edXML><edXMLEnvelope/></edXML>", 400, "invalid-edxml"),
    (b"", 400, None),
])
def test_bad_packages_are_4xx_json_and_store_nothing(hub, data, status, code):
    http = hub.http(hub.client("ha-noi").authenticate())
    response = http.post("/api/incoming/edxml", files={"package": ("p.edxml", data, "application/xml")})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    if code:
        assert response.json()["code"] == code
    assert list(hub.service.reader.incoming_entries()) == []
    assert hub.service.edxml_imports() == []


def test_the_routes_need_a_token_and_a_multipart_body(hub):
    anonymous = hub.http()
    assert anonymous.post("/api/incoming/edxml", files={"package": ("p", b"x")}).status_code == 401
    http = hub.http(hub.client("ha-noi").authenticate())
    assert http.post("/api/incoming/edxml", content=b"<edXML/>",
                     headers={"content-type": "application/xml"}).status_code == 400
    assert http.post("/api/documents/nope/business", files={"statement": ("s", b"{}"),
                                                           "signature": ("g", b"x")}).status_code == 400


def test_an_altered_package_with_a_real_signature_is_refused(hub, pki):
    package = read_package((SDK / "edoc_new.edxml").read_bytes())
    signed = sign_package(document_package_xml(package), pki.signer)
    altered = signed.replace("lập dự toán".encode(), "lập kế hoạch".encode())
    with pytest.raises(RejectedError, match="does not match"):
        hub.client("ha-noi").register_edxml(altered)
    assert hub.service.edxml_imports() == []
    assert hub.client("ha-noi").register_edxml(signed).xml_signature["status"] == "valid"


def test_recall_update_and_replace_follow_the_rules(hub):
    sender, other = hub.client("ha-noi"), hub.client("nghe-an")
    doc = sender.send(document_bytes("a"), metadata=metadata("central-office", "nghe-an"))
    with pytest.raises(NotAuthorizedError):  # a statement naming someone else
        other.business(_statement(BusinessAction.RECALL, doc.id, "ha-noi"))
    with pytest.raises(NotAuthorizedError, match="only the sender"):
        other.business(_statement(BusinessAction.RECALL, doc.id, "nghe-an"))
    with pytest.raises(ConflictError, match="awaits an answer"):  # 15 with nothing to answer
        other.acknowledge(doc.id, sha256=doc.sha256, status=ReceiptStatus.CHANGE_ACCEPTED)
    sender.business(_statement(BusinessAction.RECALL, doc.id, "ha-noi"))
    with pytest.raises(ConflictError, match="already recalled"):  # another recall (the same one is a retry)
        sender.business(_statement(BusinessAction.RECALL, doc.id, "ha-noi", reason="lần hai"))
    assert other.acknowledge(doc.id, sha256=doc.sha256, status=ReceiptStatus.CHANGE_REJECTED).status == "16"
    with pytest.raises(InputError, match="changes nothing"):
        sender.business(_statement(BusinessAction.UPDATE, doc.id, "ha-noi", changes={"number": "12-BC/TU"}))
    with pytest.raises(InputError, match="cannot change"):
        sender.business(_statement(BusinessAction.UPDATE, doc.id, "ha-noi", changes={"sender": "x"}))
    with pytest.raises(NotFoundError):
        sender.business(_statement(BusinessAction.REPLACE, doc.id, "ha-noi", replacement="no-such-doc"))
    unsigned = sender.send(document_bytes("u"), metadata=metadata("central-office"), sign=False)
    with pytest.raises(InputError, match="must be a signed document"):
        sender.business(_statement(BusinessAction.REPLACE, doc.id, "ha-noi", replacement=unsigned.id))
    new = sender.send(document_bytes("b"), metadata=metadata("central-office", "nghe-an"))
    sender.business(_statement(BusinessAction.REPLACE, doc.id, "ha-noi", replacement=new.id))
    with pytest.raises(ConflictError, match="already replaced"):
        sender.business(_statement(BusinessAction.UPDATE, doc.id, "ha-noi", changes={"subject": "x"}))
    assert [e.action for e in other.business_events(new.id)] == ["replace"]


def test_a_statement_signed_by_another_key_is_refused(hub):
    sender = hub.client("ha-noi")
    doc = sender.send(document_bytes("c"), metadata=metadata("central-office"))
    data = _statement(BusinessAction.RECALL, doc.id, "ha-noi").to_bytes()
    forged = sign_detached(data, hub.credential("nghe-an"), at=datetime.now(UTC))
    http = hub.http(sender.authenticate())
    response = http.post(f"/api/documents/{doc.id}/business",
                         files={"statement": ("s.json", data), "signature": ("s.p7s", forged)})
    assert response.status_code == 422 and "signed by nghe-an" in response.json()["message"]
    garbage = http.post(f"/api/documents/{doc.id}/business",
                        files={"statement": ("s.json", json.dumps({"type": "edxml-business"}).encode()),
                               "signature": ("s.p7s", forged)})
    assert garbage.status_code == 400 and garbage.json()["code"] == "invalid-statement"


@pytest.mark.parametrize("action", [BusinessAction.RECALL, BusinessAction.UPDATE, BusinessAction.REPLACE])
def test_a_statement_posted_again_gets_its_first_answer_and_is_recorded_once(hub, action):
    # HubClient retries (and fails over to another hub) when an answer is lost: the repeat of a
    # signed recall, update or replacement must not be refused as a conflict nor applied twice.
    sender = hub.client("ha-noi")
    doc = sender.send(document_bytes(f"again-{action.value}"), metadata=metadata("central-office", "nghe-an"))
    extra: dict[str, object] = {}
    if action is BusinessAction.UPDATE:
        extra = {"changes": {"subject": "Trích yếu đã sửa"}}
    elif action is BusinessAction.REPLACE:
        new = sender.send(document_bytes(f"again-new-{action.value}"), metadata=metadata("central-office", "nghe-an"))
        extra = {"replacement": new.id}
    data = _statement(action, doc.id, "ha-noi", **extra).to_bytes()
    http = hub.http(sender.authenticate())
    answers = []
    for at in (datetime.now(UTC), datetime.now(UTC)):  # signed twice: the statement is what counts
        signature = sign_detached(data, hub.credential("ha-noi"), at=at)
        answers.append(http.post(f"/api/documents/{doc.id}/business",
                                 files={"statement": ("s.json", data), "signature": ("s.p7s", signature)}))
    first, again = answers
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert [e.action for e in sender.business_events(doc.id)] == [action.value]
    # A different statement of the same kind is still judged on its own merits.
    other = _statement(action, doc.id, "ha-noi", reason="lần khác", **extra).to_bytes()
    response = http.post(f"/api/documents/{doc.id}/business", files={
        "statement": ("s.json", other), "signature": ("s.p7s", sign_detached(other, hub.credential("ha-noi"),
                                                                              at=datetime.now(UTC)))})
    assert response.status_code in (400, 409), response.text


def test_a_package_registered_again_is_the_same_registration(hub):
    # A retry after a lost answer (perhaps at another hub process) must not count the outside
    # agency's document twice for K3.
    data = (SDK / "edoc_new.edxml").read_bytes()
    with hub.client("ha-noi") as client:
        first, again = client.register_edxml(data), client.register_edxml(data)
    assert again.id == first.id and again.incoming == first.incoming
    assert len(hub.service.edxml_imports(body="ha-noi")) == 1
    assert len(list(hub.service.reader.incoming_entries())) == 1
    with hub.client("nghe-an") as other:  # at another body it is that body's own registration
        assert other.register_edxml(data).id != first.id
