"""The receiving node: it downloads, verifies with its own trust (never the hub's verdict), and
answers with a signed receipt over exactly the bytes it received."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from exchange.cms import SubIndication, sign_detached
from exchange.domain.documents import ReceiptStatus
from exchange.hub import HubSettings
from exchange.node import HubClient, acknowledge, fetch, node_verifier
from exchange.pki import KeyStore, build_crl, revoke
from exchange.pki.revocation import crl_pem

from hub.inprocess import InProcessHub, document_bytes, metadata, running
from node.answers import document_answer, receipt_answer


@pytest.fixture
def hub(pki, tmp_path) -> Iterator[InProcessHub]:  # type: ignore[no-untyped-def]
    settings = HubSettings(keys_dir=pki.dir, data_dir=tmp_path / "hub", bodies_file=pki.bodies_file)
    yield from running(settings, pki.store)


def now() -> datetime:
    return datetime.now(UTC)


def test_a_fetched_document_is_verified_locally_and_acknowledged_over_its_digest(hub, pki, tmp_path):
    content = document_bytes("fetched")
    sent = hub.client("ha-noi").send(content, metadata=metadata("nghe-an"), filename="ke-hoach.pdf")
    receiver = hub.client("nghe-an")

    got = fetch(receiver, sent.id, out_dir=tmp_path / "in", verifier=node_verifier(pki.store, receiver), at=now)
    assert got.path.parent == tmp_path / "in" and got.path.read_bytes() == content
    assert got.signature_path is not None and got.signature_path.name == got.path.name + ".p7s"
    assert got.report is not None and got.report.passed and got.report.signer.body_id == "ha-noi"
    assert got.sha256 == hashlib.sha256(content).hexdigest()

    answer = acknowledge(receiver, got)
    statement = json.loads(answer.statement)
    assert (answer.status_name, statement["sha256"], statement["verification"]) == (
        "received", got.sha256, "TOTAL_PASSED")


def test_an_unsigned_document_has_no_report_and_is_acknowledged_as_unsigned(hub, pki, tmp_path):
    sent = hub.client("ha-noi").send(b"plain text", metadata=metadata("nghe-an"), sign=False)
    receiver = hub.client("nghe-an")
    got = fetch(receiver, sent.id, out_dir=tmp_path, verifier=node_verifier(pki.store, receiver), at=now)
    assert got.report is None and got.signature_path is None
    assert json.loads(acknowledge(receiver, got).statement)["verification"] == "UNSIGNED"


def test_a_revocation_the_hub_knows_of_reaches_a_node_with_an_old_crl(pki, pki_copy, tmp_path):
    """The node enforces its local CRL and the hub's (believed only because the CA signed it)."""
    settings = HubSettings(keys_dir=pki_copy.directory, data_dir=tmp_path / "hub", bodies_file=pki.bodies_file,
                           crl_reload_interval=0.0)
    with InProcessHub(settings, pki_copy) as hub:
        sender = hub.client("da-nang")
        sent = sender.send(document_bytes(), metadata=metadata("nghe-an"))
        revoke(pki_copy, "da-nang", at=now() - timedelta(days=1))  # compromised before it signed
        receiver = hub.client("nghe-an")
        local = KeyStore(pki.dir)  # the node's own copy of the PKI: the CRL from before
        got = fetch(receiver, sent.id, out_dir=tmp_path, verifier=node_verifier(local, receiver), at=now)
        assert got.report is not None and got.report.sub_indication is SubIndication.REVOKED
        assert node_verifier(local).verify(got.path, got.signature_path.read_bytes(), at=now()).passed


# -- a hub that lies -----------------------------------------------------------------------------


class LyingHub:
    """A hub that says TOTAL_PASSED and serves whatever bytes and names it likes."""

    def __init__(self, *, content: bytes, signature: bytes, filename: str, crl: bytes) -> None:
        self.document = document_answer(filename=filename, sha256=hashlib.sha256(content).hexdigest(),
                                        recipients=["nghe-an"])
        self.files = {"/api/documents/doc-1/file": content, "/api/documents/doc-1/signature": signature,
                      "/api/pki/crl": crl}
        self.receipts: list[dict[str, bytes]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/auth/challenge":
            return httpx.Response(200, json={"body": "nghe-an", "challenge": "c"})
        if path == "/api/auth/token":
            return httpx.Response(200, json={"token": "t", "body": "nghe-an",
                                             "expires": (now() + timedelta(hours=1)).isoformat()})
        if path == "/api/documents/doc-1":
            return httpx.Response(200, json=self.document)
        if path in self.files:
            return httpx.Response(200, content=self.files[path])
        if path == "/api/documents/doc-1/receipts":
            self.receipts.append({"body": request.read()})
            return httpx.Response(201, json=receipt_answer())
        return httpx.Response(404, json={"code": "not-found", "message": path})


def lying_client(pki, **kwargs: Any) -> tuple[HubClient, LyingHub]:  # type: ignore[no-untyped-def]
    hub = LyingHub(**kwargs)
    client = HubClient("http://liar.test", credential=pki.store.credential("nghe-an"),
                       transport=httpx.MockTransport(hub))
    return client, hub


def test_the_node_does_not_trust_the_hubs_verdict(pki, tmp_path):
    signed = b"the document as signed"
    signature = sign_detached(signed, pki.store.credential("ha-noi"), at=now())
    client, hub = lying_client(pki, content=b"the document as altered", signature=signature,
                               filename="x.pdf", crl=crl_pem(pki.store.crl()))

    got = fetch(client, "doc-1", out_dir=tmp_path, verifier=node_verifier(pki.store, client), at=now)
    assert got.report is not None and got.report.sub_indication is SubIndication.HASH_FAILURE

    acknowledge(client, got)  # no status given: the node's own verdict decides
    sent = hub.receipts[0]["body"]
    assert b'"status":"02"' in sent and b"HASH_FAILURE" in sent


@pytest.mark.parametrize("filename", ["../../outside.pdf", "/etc/cron.d/x", "..\\..\\win.ini", "..", ""])
def test_a_file_name_from_the_hub_never_leaves_the_output_directory(pki, tmp_path, filename):
    content = b"%PDF"
    signature = sign_detached(content, pki.store.credential("ha-noi"), at=now())
    client, _ = lying_client(pki, content=content, signature=signature, filename=filename,
                             crl=crl_pem(pki.store.crl()))
    out = tmp_path / "out"
    got = fetch(client, "doc-1", out_dir=out, verifier=node_verifier(pki.store), at=now)
    assert got.path.parent == out and got.path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        [got.path.name, got.path.name + ".p7s"])


def test_a_crl_from_the_hub_that_the_ca_did_not_sign_is_not_believed(pki, tmp_path):
    forged = build_crl(pki.foreign_issuing, [], at=now())  # empty: would "unrevoke" everything
    content = b"signed by a revoked body"
    revoked_at_signing = pki.revoked_at + timedelta(minutes=1)
    signature = sign_detached(content, pki.revoked, at=revoked_at_signing)
    client, _ = lying_client(pki, content=content, signature=signature, filename="x", crl=crl_pem(forged))
    verifier = node_verifier(pki.store, client)
    report = verifier.verify(content, signature, at=revoked_at_signing)
    assert report.sub_indication is SubIndication.REVOKED


def test_a_status_can_be_chosen_and_a_rejection_needs_no_verification(hub, pki, tmp_path):
    sent = hub.client("ha-noi").send(document_bytes(), metadata=metadata("nghe-an"))
    receiver = hub.client("nghe-an")
    got = fetch(receiver, sent.id, out_dir=tmp_path, verifier=node_verifier(pki.store, receiver), at=now)
    answer = acknowledge(receiver, got, status=ReceiptStatus.REJECTED, reason="sent to the wrong body")
    assert (answer.status, answer.reason) == ("02", "sent to the wrong body")
    assert Path(got.path).is_file()
