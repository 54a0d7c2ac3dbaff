"""The workflow on a real hub: send (signed or not, to one body or many), fetch and verify,
acknowledge with signed receipts, and read the signed status trail; driven by the CLI as a
user would, and by HubClient."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchange.cms import Verifier
from exchange.domain.documents import DocumentMetadata
from exchange.errors import ConflictError
from exchange.node import acknowledge, fetch, node_verifier
from exchange.pki import KeyStore

CENTRAL = ("central-office", "organization-commission")


def write_document(directory: Path, name: str) -> Path:
    path = directory / name
    path.write_text(f"Báo cáo kết quả ứng dụng CNTT — {uuid.uuid4()}\n" * 200, encoding="utf-8")
    return path


def test_a_signed_document_to_two_bodies_is_verified_acknowledged_and_traced(hub, pki, workdir):
    document = write_document(workdir, "bao-cao-6-thang.txt")
    sent = hub.cli_json("node", "send", str(document), "--as", "ha-noi", "--to", CENTRAL[0], "--to", CENTRAL[1],
                        "--subject", "Báo cáo 6 tháng", "--number", "12-BC/TU", "--type", "bao-cao", cwd=workdir)
    assert sent["channel"] == "signed_valid" and sent["indication"] == "TOTAL_PASSED"
    assert sorted(sent["recipients"]) == sorted(CENTRAL)
    assert sent["sha256"] == hashlib.sha256(document.read_bytes()).hexdigest()

    inbox = hub.cli_json("node", "inbox", "--as", CENTRAL[0], cwd=workdir)
    assert sent["id"] in [d["id"] for d in inbox]
    with hub.client(CENTRAL[1]) as client:
        assert sent["id"] in [d.id for d in client.inbox()]

    # Each recipient downloads and verifies it itself: exit 0 and the report (as text, as JSON).
    shown = hub.cli("node", "fetch", sent["id"], "--as", CENTRAL[0], "--out", "in-co", cwd=workdir)
    assert "TOTAL_PASSED" in shown.stdout and "ha-noi" in shown.stdout and "message digest" in shown.stdout
    report = hub.cli_json("node", "fetch", sent["id"], "--as", CENTRAL[1], "--out", "in-oc", cwd=workdir)
    assert (report["indication"], report["signer"]["body_id"]) == ("TOTAL_PASSED", "ha-noi")
    assert report["document_sha256"] == sent["sha256"]
    for folder in ("in-co", "in-oc"):
        got = sorted((workdir / folder).iterdir())
        assert [p.suffix for p in got] == [".txt", ".p7s"]
        assert got[0].read_bytes() == document.read_bytes()

    received = hub.cli("node", "ack", sent["id"], "--as", CENTRAL[0], "--status", "received", cwd=workdir)
    assert "received (01)" in received.stdout
    with hub.client(CENTRAL[1]) as client:
        got = fetch(client, sent["id"], out_dir=workdir / "agent", at=lambda: datetime.now(UTC),
                    verifier=node_verifier(KeyStore(pki.dir), client))
        acknowledge(client, got)  # received: its own validation passed
    hub.cli("node", "ack", sent["id"], "--as", CENTRAL[0], "--status", "accepted", cwd=workdir)

    trail = hub.cli_json("node", "status", sent["id"], "--as", "ha-noi", cwd=workdir)
    assert [(s["recipient"], s["status"], s["status_name"]) for s in trail] == [
        (CENTRAL[0], "01", "received"), (CENTRAL[1], "01", "received"), (CENTRAL[0], "03", "accepted")]
    assert {s["indication"] for s in trail} == {"TOTAL_PASSED"}

    # An auditor checks one step with nothing but the CA's certificate and CRLs.
    step = trail[1]
    verifier = Verifier.from_ca_file(KeyStore(pki.dir).root_path, crl_files=KeyStore(pki.dir).crl_paths,
                                     require_revocation=True)
    receipt = verifier.verify(step["statement"].encode(), base64.b64decode(step["signature_b64"]),
                              at=datetime.now(UTC))
    assert receipt.passed, receipt.summary()
    assert receipt.signer is not None and receipt.signer.body_id == CENTRAL[1]
    statement = json.loads(step["statement"])
    assert (statement["document_id"], statement["sha256"], statement["receiver"], statement["verification"]) == (
        sent["id"], sent["sha256"], CENTRAL[1], "TOTAL_PASSED")

    text = hub.cli("node", "status", sent["id"], "--as", "ha-noi", cwd=workdir).stdout
    assert "accepted" in text and CENTRAL[1] in text and "12-BC/TU" in text
    mine = hub.client(CENTRAL[1]).status(sent["id"])  # a recipient sees only its own steps
    assert {s.recipient for s in mine} == {CENTRAL[1]}
    assert sent["id"] not in [d.id for d in hub.client(CENTRAL[0]).inbox()]  # acknowledged: not new


def test_an_unsigned_document_is_delivered_and_recorded_as_unsigned(hub, workdir):
    document = write_document(workdir, "thong-bao.txt")
    sent = hub.cli_json("node", "send", str(document), "--as", "nghe-an", "--to", "central-office", "--unsigned",
                        cwd=workdir)
    assert sent["channel"] == "unsigned" and sent["indication"] is None

    fetched = hub.cli("node", "fetch", sent["id"], "--as", "central-office", "--out", "in", cwd=workdir,
                      check=False)
    assert fetched.returncode == 3, fetched.stderr  # as `exchange verify` for INDETERMINATE
    assert "unsigned" in fetched.stdout
    assert (workdir / "in").is_dir() and len(list((workdir / "in").iterdir())) == 1
    entries = [e for e in hub.register() if e["document_id"] == sent["id"]]
    assert [(e["recipient"], e["channel"], e["delivered"]) for e in entries] == [
        ("central-office", "unsigned", True)]


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize("recipients", [("da-nang",), ("central-office", "propaganda-commission", "da-nang")],
                         ids=["one", "many"])
def test_hubclient_sends_to_one_or_many_and_each_recipient_gets_the_bytes(hub, pki, tmp_path, signed, recipients):
    content = f"Kế hoạch {uuid.uuid4()}".encode() * 500
    metadata = DocumentMetadata.from_dict({"recipients": list(recipients), "subject": "Kế hoạch",
                                           "message_id": str(uuid.uuid4())})
    with hub.client("nghe-an") as sender:
        sent = sender.send(content, metadata=metadata, sign=signed, filename="ke-hoach.pdf")
    assert sent.channel == ("signed_valid" if signed else "unsigned")
    for recipient in recipients:
        with hub.client(recipient) as client:
            got = fetch(client, sent.id, out_dir=tmp_path / recipient,
                        verifier=node_verifier(KeyStore(pki.dir), client), at=lambda: datetime.now(UTC))
        assert got.path.read_bytes() == content
        assert (got.report.passed if got.report else None) is (True if signed else None)
    register = [(e["recipient"], e["delivered"]) for e in hub.register() if e["document_id"] == sent.id]
    assert sorted(register) == sorted((r, True) for r in recipients)


def test_a_repeated_send_with_the_same_message_id_makes_no_duplicate(hub, workdir):
    document = write_document(workdir, "cong-van.txt")
    message_id = f"retry-{uuid.uuid4()}"
    send = ("node", "send", str(document), "--as", "da-nang", "--to", "ha-noi", "--to", "nghe-an",
            "--message-id", message_id)
    first = hub.cli_json(*send, cwd=workdir)
    again = hub.cli(*send, cwd=workdir).stdout
    assert again.startswith(first["id"]) and "already sent" in again
    rows_before = hub.document_rows()

    with hub.client("da-nang") as client:
        metadata = DocumentMetadata.from_dict({"recipients": ["ha-noi", "nghe-an"], "message_id": message_id,
                                               "subject": "cong-van"})
        third = client.send(document, metadata=metadata)
        assert (third.id, third.duplicate) == (first["id"], True)
        with pytest.raises(ConflictError) as reused:  # the same id for other bytes is a conflict
            client.send(b"other bytes", metadata=metadata)
    assert reused.value.code == "message-id-reused"
    assert hub.document_rows() == rows_before
    entries = [e for e in hub.register() if e["document_id"] == first["id"]]
    assert sorted(e["recipient"] for e in entries) == ["ha-noi", "nghe-an"]
