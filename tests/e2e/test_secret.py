"""Secret (Mật) documents on a real hub: encrypted end to end, the hub holding no plaintext.

Sent with ``exchange node send --secret`` from Nghệ An to the Central Office; the recipient
fetches, decrypts and verifies; a marker inside the document is then searched for in every
file under the hub's data folder and in every row of its database (SQLite and PostgreSQL).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select

from exchange.cms import attach, sign_detached
from exchange.cms.envelope import encrypt
from exchange.domain.documents import DocumentMetadata
from exchange.errors import RejectedError
from exchange.node import acknowledge, fetch, node_verifier
from exchange.pki import KeyStore

from e2e.harness import RunningHub, assert_error


def _secret_document(workdir: Path) -> tuple[Path, str]:
    marker = f"MARKER-{uuid.uuid4().hex}"
    path = workdir / "ke-hoach-mat.txt"
    path.write_text(f"MẬT — Kế hoạch bảo vệ hội nghị. {marker}\n" * 40, encoding="utf-8")
    return path, marker


def _found_in_data(hub: RunningHub, marker: str) -> list[Path]:
    needle = marker.encode()
    return [p for p in hub.data.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _found_in_database(hub: RunningHub, marker: str) -> list[str]:
    """Every value of every row of every table, bytes and text, searched for *marker*."""
    engine = create_engine(hub.db_url)
    found = []
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                for row in conn.execute(select(table)):
                    for value in row:
                        text = value.decode("utf-8", "replace") if isinstance(value, bytes | memoryview) else str(value)
                        if marker in text:
                            found.append(table.name)
    finally:
        engine.dispose()
    sqlite = hub.db_url.removeprefix("sqlite:///")
    if hub.db_url.startswith("sqlite:///"):
        for path in Path(sqlite).parent.glob(Path(sqlite).name + "*"):  # the file, its WAL and SHM
            if marker.encode() in path.read_bytes():
                found.append(path.name)
    return found


def test_secret_document_travels_encrypted_and_only_its_recipient_reads_it(hub, pki, workdir):
    document, marker = _secret_document(workdir)
    sent = hub.cli_json("node", "send", str(document), "--as", "nghe-an", "--to", "central-office", "--secret",
                        "--subject", "Kế hoạch bảo vệ", "--number", "05-KH/TU", cwd=workdir)
    assert sent["classification"] == "secret"
    assert (sent["channel"], sent["indication"]) == ("signed_valid", "TOTAL_PASSED")  # the outer signature
    assert sent["filename"] == "ke-hoach-mat.txt.p7m"

    fetched = hub.cli_json("node", "fetch", sent["id"], "--as", "central-office", "--out", "in", cwd=workdir)
    assert fetched["outer"]["indication"] == "TOTAL_PASSED"
    assert (fetched["inner"]["indication"], fetched["inner"]["signer"]["body_id"]) == ("TOTAL_PASSED", "nghe-an")
    assert (workdir / fetched["plaintext"]).read_bytes() == document.read_bytes()
    text = hub.cli("node", "fetch", sent["id"], "--as", "central-office", "--out", "in2", cwd=workdir).stdout
    assert "inner signature" in text and "decrypted" in text

    hub.cli("node", "ack", sent["id"], "--as", "central-office", "--status", "received", cwd=workdir)
    trail = hub.cli_json("node", "status", sent["id"], "--as", "nghe-an", cwd=workdir)
    assert [(s["recipient"], s["status"]) for s in trail] == [("central-office", "01")]
    with hub.client("nghe-an") as client:
        delivery = client.document(sent["id"]).deliveries[0]
    assert delivery.verified is True  # the recipient's verification of the inner signature

    # The hub holds no plaintext: not in a blob, a log, the database or its WAL.
    assert _found_in_data(hub, marker) == []
    assert _found_in_database(hub, marker) == []

    # A third body with a valid token is refused the file, its signature and its metadata.
    token = hub.token("ha-noi")
    with hub.http(token) as http:
        for path in ("", "/file", "/signature"):
            assert_error(http.get(f"/api/documents/{sent['id']}{path}"), 403, "not-authorized")
    third = hub.cli("node", "fetch", sent["id"], "--as", "ha-noi", "--out", "x", cwd=workdir, check=False)
    assert third.returncode == 1 and "403" in third.stderr


def test_the_hub_publishes_encryption_certificates(hub, pki):
    with hub.http() as http:
        found = http.get("/api/bodies/central-office/certificates")
        assert found.status_code == 200
        body = found.json()
        assert body["encryption"]["status"] == "valid" and body["signing"]["status"] == "valid"
        cert = KeyStore(pki.dir).encryption_certificate("central-office")
        assert body["encryption"]["serial"] == f"{cert.serial_number:x}"
        assert_error(http.get("/api/bodies/no-such-body/certificates"), 404, "unknown-body")


def test_plaintext_sent_as_secret_is_refused_and_not_kept(hub, workdir):
    marker = f"MARKER-{uuid.uuid4().hex}"
    metadata = DocumentMetadata.from_dict({"recipients": ["central-office"], "subject": "Mật",
                                           "classification": "secret", "message_id": str(uuid.uuid4())})
    with hub.client("nghe-an") as client, pytest.raises(RejectedError) as refused:
        client.send(f"plaintext {marker}".encode() * 10, metadata=metadata)
    assert refused.value.code == "not-encrypted"
    assert _found_in_data(hub, marker) == []


def test_envelope_not_addressed_to_a_recipient_is_refused(hub, pki):
    store = KeyStore(pki.dir)
    envelope = encrypt(b"for ha-noi only", [store.encryption_certificate("ha-noi")])
    metadata = DocumentMetadata.from_dict({"recipients": ["central-office"], "subject": "Mật",
                                           "classification": "secret", "message_id": str(uuid.uuid4())})
    with hub.client("nghe-an") as client, pytest.raises(RejectedError) as refused:
        client.send(envelope, metadata=metadata)
    assert refused.value.code == "not-encrypted-to-recipient"


def test_k1_counts_the_outer_signature_and_k1_verified_the_recipients_inner_check(hub, pki, workdir):
    """An envelope whose outer signature is the sender's and valid, but whose inner signature was
    made with an expired certificate: the hub accepts it (K1), the recipient's own check of the
    inner signature fails, its receipt says so, and the row is not verified (K1 verified)."""
    store = KeyStore(pki.dir)
    content = "MẬT — nội dung ký bằng chứng thư hết hạn\n".encode() * 20
    signed_at = pki.expired.certificate.not_valid_before_utc + timedelta(days=10)  # inside its validity
    inner = attach(sign_detached(content, pki.expired, at=signed_at), content)
    envelope = encrypt(inner, [store.encryption_certificate("central-office"), store.encryption_certificate("nghe-an")],
                       content_type="signed_data")
    metadata = DocumentMetadata.from_dict({"recipients": ["central-office"], "subject": "Mật",
                                           "classification": "secret", "message_id": str(uuid.uuid4())})
    with hub.client("nghe-an") as sender:
        sent = sender.send(envelope, metadata=metadata, filename="het-han.txt.p7m")  # outer: nghe-an's own
    assert (sent.channel, sent.indication) == ("signed_valid", "TOTAL_PASSED")

    with hub.client("central-office") as client:
        got = fetch(client, sent.id, out_dir=workdir / "co", verifier=node_verifier(store, client),
                    at=lambda: datetime.now(UTC), decrypt_with=store.encryption_credentials("central-office"))
        assert got.report is not None and got.report.passed  # the outer signature
        assert got.secret is not None and got.secret.report is not None and not got.secret.report.passed
        receipt = acknowledge(client, got)
    assert receipt.status == "02"  # rejected, with why
    assert "inner signature" in receipt.reason
    (row,) = [e for e in hub.register() if e["document_id"] == sent.id]
    assert (row["channel"], row["delivered"], row["verified_by_recipient"]) == ("signed_valid", True, False)
