"""The evidence log in-process: every event appended, proofs served, bundles verified offline."""

from __future__ import annotations

import base64
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from exchange.audit import verify_file
from exchange.cms import Indication
from exchange.node import acknowledge, fetch, node_verifier
from exchange.tlog import (
    Checkpoint,
    MemoryTree,
    decode_leaf,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

from hub.inprocess import document_bytes, metadata


def _exchange(hub, pki, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    sent = hub.client("ha-noi").send(document_bytes("logged"), metadata=metadata("central-office", "nghe-an"))
    receiver = hub.client("central-office")
    got = fetch(receiver, sent.id, out_dir=tmp_path / "in", verifier=node_verifier(pki.store, receiver),
                at=lambda: datetime.now(UTC))
    acknowledge(receiver, got)
    return sent.id


def _entries(http) -> list[dict]:  # type: ignore[no-untyped-def]
    return [decode_leaf(base64.b64decode(e["leaf"])) | {"index": e["index"]}
            for e in http.get("/api/log/entries", params={"start": 0, "end": 1000}).json()["entries"]]


def test_every_event_of_an_exchange_is_logged_without_content(hub, pki, tmp_path):
    doc = _exchange(hub, pki, tmp_path)
    hub.client("ha-noi").send_paper(metadata=metadata("central-office"))  # a paper document
    entries = _entries(hub.http())
    kinds = [e["kind"] for e in entries]
    assert kinds[:6] == ["accepted", "delivered", "delivered", "downloaded", "receipt", "paper"]
    accepted = entries[0]
    assert accepted["document"] == doc and accepted["indication"] == "TOTAL_PASSED"
    assert accepted["recipients"] == ["central-office", "nghe-an"]
    assert all("subject" not in e for e in entries)  # ids, hashes, times, outcomes only


def test_an_access_refusal_is_logged_with_who_asked_for_what(hub, pki, tmp_path):
    doc = _exchange(hub, pki, tmp_path)
    outsider = hub.http(hub.client("da-nang").authenticate())
    assert outsider.get(f"/api/documents/{doc}").status_code == 403
    refused = [e for e in _entries(hub.http()) if e["kind"] == "access-refused"]
    assert refused[-1]["actor"] == "da-nang" and refused[-1]["path"] == f"/api/documents/{doc}"
    assert refused[-1]["code"] == "not-authorized"


def test_roots_and_proofs_served_agree_with_a_replay_of_the_entries(hub, pki, tmp_path):
    http = hub.http()
    _exchange(hub, pki, tmp_path)
    first = http.get("/api/log/checkpoint").json()
    _exchange(hub, pki, tmp_path)
    hub.service.log.interval = hub.service.log.interval * 0  # publish at once
    second = http.get("/api/log/checkpoint").json()
    assert second["size"] > first["size"]
    leaves = [base64.b64decode(e["leaf"]) for e in http.get("/api/log/entries").json()["entries"]]
    tree = MemoryTree()
    for leaf in leaves[:second["size"]]:
        tree.append(leaf)
    root = base64.b64decode(second["root_hash"])
    assert tree.root() == root
    assert Checkpoint.from_text(second["note"].split("\n\n")[0].encode() + b"\n").root == root
    proof = http.get("/api/log/proof/inclusion", params={"index": 3, "size": second["size"]}).json()["proof"]
    assert verify_inclusion(3, second["size"], leaf_hash(leaves[3]), [base64.b64decode(p) for p in proof], root)
    proof = http.get("/api/log/proof/consistency", params={"first": first["size"], "second": second["size"]}).json()
    assert verify_consistency(first["size"], second["size"], base64.b64decode(first["root_hash"]), root,
                              [base64.b64decode(p) for p in proof["proof"]])


def test_bad_log_requests_are_4xx(hub):
    http = hub.http()
    assert http.get("/api/log/proof/inclusion", params={"index": 5, "size": 2}).status_code == 400
    assert http.get("/api/log/proof/inclusion", params={"index": -1, "size": 2}).status_code == 400
    assert http.get("/api/log/proof/consistency", params={"first": 0, "second": 10**9}).status_code == 400
    assert http.get("/api/log/entries", params={"start": "x"}).status_code == 400
    assert http.get("/api/audit/documents/nope/bundle").status_code == 401  # evidence needs a person
    auditor = hub.person("auditor")
    assert auditor.get("/api/audit/documents/nope/bundle").status_code == 404
    assert auditor.get("/api/audit/archive", params={"period": "20x5"}).status_code == 400
    assert hub.person("operator").get("/api/audit/archive", params={"period": "2015"}).status_code == 403


def test_a_clerk_gets_only_its_own_bodys_bundles(hub, pki, tmp_path):
    doc = _exchange(hub, pki, tmp_path)
    assert hub.person("clerk", body="nghe-an").get(f"/api/audit/documents/{doc}/bundle").status_code == 200
    assert hub.person("clerk", body="da-nang").get(f"/api/audit/documents/{doc}/bundle").status_code == 403


def test_a_bundle_verifies_offline_and_a_changed_byte_fails_the_right_check(hub, pki, tmp_path):
    doc = _exchange(hub, pki, tmp_path)
    response = hub.person("auditor").get(f"/api/audit/documents/{doc}/bundle")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    good = tmp_path / "bundle.zip"
    good.write_bytes(response.content)
    verdicts = list(verify_file(good, pki.store.root_path, workers=1))
    assert [v.indication for v in verdicts] == [Indication.TOTAL_PASSED] * 2, [v.summary() for v in verdicts]

    bad = tmp_path / "altered.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("content.bin"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            out.writestr(item, data)
    checkpoint, verdict = list(verify_file(bad, pki.store.root_path, workers=1))
    assert checkpoint.indication is Indication.TOTAL_PASSED
    failed = {c.name: c.detail for c in verdict.failures()}
    assert set(failed) == {"document bytes", "signature"}
    assert "HASH_FAILURE" in failed["signature"] and "altered" in failed["document bytes"]



def test_an_edxml_package_registered_as_incoming_is_logged_like_any_incoming(hub):
    """Without its entry, `audit log verify` would report the edXML arrival as an added row."""
    sample = Path(__file__).resolve().parents[2] / "samples" / "edxml" / "sdk" / "edoc_new.edxml"
    registered = hub.client("ha-noi").register_edxml(sample.read_bytes())
    incoming = [e for e in _entries(hub.http()) if e["kind"] == "incoming"]
    assert [e["entry"] for e in incoming] == [registered.incoming.id if registered.incoming else None]
    assert incoming[0]["body"] == "ha-noi" and incoming[0]["sha256"] is not None
