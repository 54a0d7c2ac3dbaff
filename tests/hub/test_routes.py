"""The JSON API in-process: HubClient and plain httpx against ``create_app(settings)``."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from exchange.cms import sign_detached
from exchange.domain.documents import ReceiptStatus
from exchange.errors import NotAuthorizedError, NotFoundError, RejectedError
from exchange.hub.measures import measures_for
from exchange.node import acknowledge, fetch, node_verifier
from exchange.pki.certificates import load_certificates
from exchange.pki.revocation import load_crl

from hub.inprocess import document_bytes, metadata
from hub.test_auth import assert_error


def test_a_signed_document_travels_to_two_bodies_and_comes_back_with_signed_receipts(hub, pki, tmp_path):
    sender = hub.client("ha-noi")
    content = document_bytes("to two bodies")
    sent = sender.send(content, metadata=metadata("central-office", "organization-commission"),
                       filename="12-BC-TU.pdf")
    assert sent.channel == "signed_valid" and sent.sha256 == hashlib.sha256(content).hexdigest()

    for recipient in ("central-office", "organization-commission"):
        client = hub.client(recipient)
        assert sent.id in [d.id for d in client.inbox()]
        got = fetch(client, sent.id, out_dir=tmp_path / recipient, verifier=node_verifier(pki.store, client),
                    at=lambda: datetime.now(UTC))
        assert got.report is not None and got.report.passed
        assert got.path.read_bytes() == content and got.path.name.endswith("12-BC-TU.pdf")
        acknowledge(client, got)
        assert sent.id not in [d.id for d in client.inbox()]
        assert sent.id in [d.id for d in client.inbox(include_all=True)]

    trail = sender.status(sent.id)
    assert sorted((r.recipient, r.status_name) for r in trail) == [
        ("central-office", "received"), ("organization-commission", "received")]
    for step in trail:
        statement = json.loads(step.statement)
        assert statement["sha256"] == sent.sha256 and statement["receiver"] == step.recipient
    document = sender.document(sent.id)
    assert {d.recipient: d.verified for d in document.deliveries} == {
        "central-office": True, "organization-commission": True}


def test_the_download_carries_the_digest_and_a_safe_file_name(hub):
    sent = hub.client("ha-noi").send(b"%PDF tiny", metadata=metadata("nghe-an"), filename="../../secret/q\u0111.pdf")
    receiver = hub.client("nghe-an")
    response = hub.http(receiver.authenticate()).get(f"/api/documents/{sent.id}/file")
    assert response.status_code == 200
    assert response.content == b"%PDF tiny"
    assert response.headers["X-Content-SHA256"] == hashlib.sha256(b"%PDF tiny").hexdigest()
    assert "secret" not in response.headers["content-disposition"]
    assert sent.filename == "q\u0111.pdf"


def test_a_tampered_upload_is_refused_with_the_report(hub, pki):
    sender = hub.client("ha-noi")
    signature = sign_detached(b"the signed text", hub.credential("ha-noi"), at=pki.created)
    with pytest.raises(RejectedError) as refused:
        sender.send(b"another text", metadata=metadata("nghe-an"), signature=signature)
    assert refused.value.code == "invalid-signature"
    assert refused.value.detail["report"]["sub_indication"] == "HASH_FAILURE"
    document_id = refused.value.detail["document_id"]
    with pytest.raises(NotAuthorizedError):
        hub.client("nghe-an").document(document_id)
    register = hub.person("auditor").get("/api/register").json()["entries"]
    assert [(e["channel"], e["delivered"]) for e in register if e["document_id"] == document_id] == [
        ("signed_invalid", False)]


def test_bodies_read_only_what_was_sent_by_or_to_them(hub):
    sent = hub.client("ha-noi").send(document_bytes(), metadata=metadata("central-office"))
    outsider = hub.client("da-nang")
    token = outsider.authenticate()
    for path in ("", "/file", "/signature", "/status"):
        assert_error(hub.http(token).get(f"/api/documents/{sent.id}{path}"), 403, "not-authorized")
    assert sent.id not in [d.id for d in outsider.inbox(include_all=True)]
    # The inbox is always the caller's own: a body named in the query is ignored.
    snooping = hub.http(token).get("/api/inbox", params={"all": "true", "body": "central-office"})
    assert sent.id not in [d["id"] for d in snooping.json()]
    with pytest.raises(NotAuthorizedError):
        outsider.acknowledge(sent.id, sha256=sent.sha256, status=ReceiptStatus.RECEIVED)


def test_an_unknown_document_is_404(hub):
    client = hub.client("ha-noi")
    with pytest.raises(NotFoundError):
        client.document("00000000-0000-0000-0000-000000000000")
    token = client.authenticate()
    for path in ("", "/file", "/signature", "/status"):
        assert_error(hub.http(token).get(f"/api/documents/no-such-id{path}"), 404, "not-found")
    assert_error(hub.http(token).get("/api/no-such-route"), 404, "not-found")
    refused = hub.http(token).delete("/api/inbox")
    assert_error(refused, 405, "method-not-allowed")
    assert refused.headers["allow"] == "GET"  # RFC 9110: a 405 says which methods the path takes


def test_paper_and_incoming_documents_are_registered(hub):
    client = hub.client("nghe-an")
    paper = client.send_paper(metadata=metadata("central-office"))
    incoming = client.register_incoming(from_agency="Bộ Tài chính", subject="Công văn 12")
    assert paper.channel == "paper"
    register = hub.person("auditor").get("/api/register").json()
    assert {(e["document_id"], e["channel"]) for e in register["entries"]} == {(paper.id, "paper")}
    assert [(i["entry_id"], i["scanned"]) for i in register["incoming"]] == [(incoming.id, False)]


def test_auditors_get_the_trust_anchor_the_crl_and_the_bodies(hub, pki):
    http = hub.http()
    assert load_certificates(http.get("/api/pki/root").content)[0] == pki.root
    crl = load_crl(http.get("/api/pki/crl").content, source="hub")
    assert crl.get_revoked_certificate_by_serial_number(pki.revoked.certificate.serial_number) is not None
    assert {b["id"] for b in hub.person("auditor").get("/api/bodies").json()} == set(pki.bodies.ids())
    assert http.get("/api/health").json()["status"] == "ok"
    assert "/api/documents" in http.get("/openapi.json").json()["paths"]
    assert http.get("/docs").status_code == 200


def test_the_measures_recount_a_small_register(hub, pki, tmp_path):
    """One signed and one paper document to one recipient each, two incoming, one scanned:
    K1 = 1/2, K3 = 1/2, K2 over every body of the registry."""
    client = hub.client("nghe-an")
    client.send(document_bytes("signed"), metadata=metadata("central-office"), filename="a.pdf")
    client.send_paper(metadata=metadata("central-office"))
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 scanned")
    client.register_incoming(from_agency="Bộ Tài chính", scan=scan)
    client.register_incoming(from_agency="Bộ Nội vụ")
    year = str(datetime.now(UTC).year)

    got = hub.person("auditor").get("/api/measures", params={"period": year}).json()
    assert (got["k1"]["numerator"], got["k1"]["denominator"], got["k1"]["value"]) == (1, 2, 0.5)
    assert (got["k3"]["numerator"], got["k3"]["denominator"]) == (1, 2)
    assert got["k2"]["denominator"] == len(pki.bodies.ids()) and got["k1"]["target"] == 0.6 and got["k1"]["met"] is False
    assert got["channels"] == {"signed_valid": 1, "signed_invalid": 0, "unsigned": 0, "paper": 1}

    by_direction = hub.person("auditor").get("/api/measures", params={"period": year, "by": "direction"}).json()
    assert by_direction["by"] == "direction" and by_direction["breakdown"]


@pytest.mark.parametrize("by", [None, "body", "direction", "month"])
def test_the_measures_answer_is_the_report_as_the_schema_states_it(hub, by):
    # The typed answer leaves the report's JSON as it was (no key added, none dropped, "no
    # data" still null) and the OpenAPI schema states it.
    client = hub.client("nghe-an")
    client.send(document_bytes(f"schema-{by}"), metadata=metadata("central-office"))
    client.register_incoming(from_agency="Bộ Tài chính")
    year = str(datetime.now(UTC).year)
    params = {"period": year, **({"by": by} if by else {})}
    got = hub.person("auditor").get("/api/measures", params=params).json()
    expected = measures_for(hub.service, year, by, at=datetime.now(UTC))
    assert got == json.loads(json.dumps(expected))
    assert ("breakdown" in got) == (by is not None) and "k2_reach" in got
    schema = hub.http().get("/openapi.json").json()
    answer = schema["paths"]["/api/measures"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/MeasuresPublic"}
    assert hub.http().get("/api/health").json().keys() == {"status", "time"}


def test_a_period_without_documents_is_no_data_and_bad_queries_are_400(hub):
    empty = hub.person("auditor").get("/api/measures", params={"period": "2001"}).json()
    assert empty["k1"]["value"] is None and empty["k1"]["denominator"] == 0
    assert_error(hub.person("auditor").get("/api/measures", params={"period": "2015-13"}), 400, "invalid-input")
    assert_error(hub.person("auditor").get("/api/measures", params={"by": "planet"}), 400, "invalid-input")
    assert_error(hub.person("auditor").get("/api/measures", params={"profile": "1999"}), 400, "invalid-input")
