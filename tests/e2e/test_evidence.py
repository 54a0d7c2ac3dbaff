"""The "done when" of the evidence log, on a real hub process, as an auditor would do it:
bundle → stop the hub → verify offline; one byte changed in the document, a register row or
a receipt → the right check fails and says why; an independent RFC 6962 root over
``/api/log/entries`` equals the signed checkpoint's (which ``openssl cms -verify`` accepts);
``audit watch`` reports a hub whose history was rewritten."""

from __future__ import annotations

import base64
import fnmatch
import shutil
import subprocess
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from exchange.domain.documents import DocumentMetadata
from exchange.node import acknowledge, fetch, node_verifier
from exchange.tlog import MemoryTree, canonical_json, decode_leaf

from e2e.harness import RunningHub, fresh_database, start_hub
from tlog.test_tree import mth  # RFC 6962 §2.1 written from the RFC's text

_EVERY_EVENT = ("--checkpoint-interval", "0")  # a new checkpoint whenever the log grew


@pytest.fixture
def own_hub(pki, database_kind: str, tmp_path: Path) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    """A hub of the test's own that the test may stop, tamper with and start again."""
    with fresh_database(database_kind, tmp_path) as url:
        state = {"keys": pki.dir, "data": tmp_path / "data", "db": url}
        state["hub"] = start_hub(keys=pki.dir, data=state["data"], db_url=url, args=_EVERY_EVENT)
        try:
            yield state
        finally:
            state["hub"].stop()


def _restart(state: dict) -> RunningHub:  # type: ignore[type-arg]
    state["hub"].stop()
    state["hub"] = start_hub(keys=state["keys"], data=state["data"], db_url=state["db"], args=_EVERY_EVENT)
    return state["hub"]


def _exchange(hub: RunningHub, pki, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    metadata = DocumentMetadata.from_dict({"recipients": ["central-office", "nghe-an"], "subject": "Báo cáo",
                                           "message_id": str(uuid.uuid4())})
    with hub.client("ha-noi") as sender:
        sent = sender.send(f"Báo cáo {uuid.uuid4()}\n".encode() * 50, metadata=metadata, filename="bc.txt")
    with hub.client("central-office") as receiver:
        got = fetch(receiver, sent.id, out_dir=tmp_path / "in", verifier=node_verifier(pki.store, receiver),
                    at=lambda: datetime.now(UTC))
        acknowledge(receiver, got)
    return sent.id


def _auditor(hub: RunningHub) -> str:
    """A bearer token of an auditor (exchange users token NAME): evidence files need a person."""
    return hub.person_token(hub.ensure_person("auditor"))


def _sql(hub: RunningHub, statement: str, **params: object) -> None:
    engine = create_engine(hub.db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement), params)
    finally:
        engine.dispose()


def _rewrite(path: Path, target: Path, change: str) -> None:
    """A copy of the zip at *path* with one byte flipped in the member(s) matching glob *change*."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if fnmatch.fnmatch(item.filename, change):
                data = data[:10] + bytes([data[10] ^ 0x01]) + data[11:]
            out.writestr(item, data)


def test_a_bundle_verifies_offline_and_one_changed_byte_fails_the_right_check(own_hub, pki, tmp_path):
    hub = own_hub["hub"]
    doc = _exchange(hub, pki, tmp_path)
    hub.cli("audit", "bundle", doc, "-o", "bundle.zip", "--token", _auditor(hub), cwd=tmp_path)
    hub.stop()  # from here on, offline

    good = hub.cli("audit", "verify", "bundle.zip", "--ca", str(pki.store.root_path), "-v", cwd=tmp_path,
                   check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "checkpoint signature: ok" in good.stdout and "receipts: ok — 1 signed receipts" in good.stdout
    assert "TOTAL_PASSED: 1 documents" in good.stdout

    _rewrite(tmp_path / "bundle.zip", tmp_path / "doc.zip", "*/content.bin")
    bad = hub.cli("audit", "verify", "doc.zip", "--ca", str(pki.store.root_path), cwd=tmp_path, check=False)
    assert bad.returncode == 1
    assert "document bytes: FAILED" in bad.stdout and "altered" in bad.stdout
    assert "signature: FAILED" in bad.stdout and "HASH_FAILURE" in bad.stdout
    assert "receipts: FAILED" not in bad.stdout

    _rewrite(tmp_path / "bundle.zip", tmp_path / "receipt.zip", "*/receipts/*.json")
    bad = hub.cli("audit", "verify", "receipt.zip", "--ca", str(pki.store.root_path), cwd=tmp_path, check=False)
    assert bad.returncode == 1
    assert "receipts: FAILED" in bad.stdout and "missing or altered" in bad.stdout
    assert "document bytes: FAILED" not in bad.stdout

    _rewrite(tmp_path / "bundle.zip", tmp_path / "note.zip", "checkpoint.note")
    bad = hub.cli("audit", "verify", "note.zip", "--ca", str(pki.store.root_path), cwd=tmp_path, check=False)
    assert bad.returncode == 1 and "checkpoint" in bad.stdout and "FAILED" in bad.stdout


def test_a_register_row_or_blob_changed_in_storage_is_found(own_hub, pki, tmp_path):
    hub = own_hub["hub"]
    doc = _exchange(hub, pki, tmp_path)
    other = _exchange(hub, pki, tmp_path)
    clean = hub.cli("audit", "log", "verify", "--db", hub.db_url, "--data", str(hub.data), "--ca",
                    str(pki.store.root_path), cwd=tmp_path, check=False)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    hub.stop()
    # an operator edits the register behind the hub's back: one row, one receipt, one blob
    _sql(hub, "UPDATE delivery SET state = 'refused' WHERE document_id = :d AND recipient = 'nghe-an'", d=doc)
    _sql(hub, "DELETE FROM receipt WHERE document_id = :d", d=other)
    sha = create_engine(hub.db_url).connect().execute(text("SELECT sha256 FROM document WHERE id = :d"),
                                                      {"d": other}).scalar_one()
    blob = hub.data / "blobs" / sha[:2] / sha[2:]
    blob.write_bytes(blob.read_bytes()[:-1] + b"?")

    found = hub.cli("audit", "log", "verify", "--db", hub.db_url, "--data", str(hub.data), "--ca",
                    str(pki.store.root_path), cwd=tmp_path, check=False)
    assert found.returncode == 1
    assert f"edited: recipient row {doc}→nghe-an: state is 'refused', the log says 'delivered'" in found.stdout
    assert "deleted: receipt" in found.stdout
    assert f"of document {other}: its bytes now hash to" in found.stdout

    hub = _restart(own_hub)
    hub.cli("audit", "bundle", doc, "-o", "bundle.zip", "--token", _auditor(hub), cwd=tmp_path)
    bad = hub.cli("audit", "verify", "bundle.zip", "--ca", str(pki.store.root_path), cwd=tmp_path, check=False)
    assert bad.returncode == 1
    assert "register record: FAILED" in bad.stdout and "nghe-an: state 'refused' in the register" in bad.stdout
    via_api = hub.cli("audit", "log", "verify", "--hub", hub.url, "--ca", str(pki.store.root_path),
                      "--token", _auditor(hub), cwd=tmp_path, check=False)
    assert via_api.returncode == 1 and f"recipient row {doc}→nghe-an" in via_api.stdout


def test_an_independent_rfc6962_root_over_the_entries_equals_the_signed_checkpoint(own_hub, pki, tmp_path):
    hub = own_hub["hub"]
    for _ in range(3):
        _exchange(hub, pki, tmp_path)
    shown = hub.cli("audit", "checkpoint", "-o", "checkpoint.note", "--ca", str(pki.store.root_path), cwd=tmp_path)
    assert "checkpoint note: ok" in shown.stdout
    note = (tmp_path / "checkpoint.note").read_bytes()
    body = note.split(b"\n\n")[0] + b"\n"
    origin, size, root = body.decode().splitlines()
    with hub.http() as http:  # no login: the log is public
        entries = http.get("/api/log/entries", params={"start": 0, "end": int(size)}).json()["entries"]
    leaves = [base64.b64decode(e["leaf"]) for e in entries]
    assert len(leaves) == int(size) and mth(leaves) == base64.b64decode(root)
    assert all(canonical_json(decode_leaf(leaf)) == leaf for leaf in leaves)
    # the detached CMS over the checkpoint's text, checked by openssl
    (tmp_path / "checkpoint.txt").write_bytes(body)
    done = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "checkpoint.note.p7s",
                           "-content", "checkpoint.txt", "-CAfile", str(pki.store.root_path), "-purpose", "any",
                           "-out", "/dev/null"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and "Verification successful" in done.stderr, done.stderr


def test_watch_reports_a_hub_whose_history_was_rewritten(own_hub, pki, tmp_path):
    hub = own_hub["hub"]
    _exchange(hub, pki, tmp_path)
    first = hub.cli("audit", "watch", "--state", "seen.json", "--once", cwd=tmp_path)
    assert "first checkpoint" in first.stdout
    _exchange(hub, pki, tmp_path)
    grown = hub.cli("audit", "watch", "--state", "seen.json", "--once", cwd=tmp_path)
    assert "consistent" in grown.stdout
    hub.stop()

    # The operator rewrites entry 0 (who sent the first document) and rebuilds the whole tree
    # and its head from the altered entries, dropping the old checkpoints: locally consistent.
    engine = create_engine(hub.db_url)
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT \"index\", leaf FROM log_entry ORDER BY \"index\"")).all()
        entry = decode_leaf(bytes(rows[0][1]))
        entry["sender"] = "da-nang"
        forged = canonical_json(entry)
        connection.execute(text("UPDATE log_entry SET leaf = :l WHERE \"index\" = 0"), {"l": forged})
        tree = MemoryTree()
        for index, leaf in rows:
            tree.append(forged if index == 0 else bytes(leaf))
        connection.execute(text("DELETE FROM log_node"))
        connection.execute(text("INSERT INTO log_node (level, \"index\", hash) VALUES (:a, :b, :h)"),
                           [{"a": k[0], "b": k[1], "h": v} for k, v in tree.nodes.items()])
        connection.execute(text("UPDATE log_head SET size = :s, frontier = :f"),
                           {"s": tree.size, "f": tree.frontier.to_bytes()})
        connection.execute(text("DELETE FROM log_checkpoint"))
    engine.dispose()
    hub = _restart(own_hub)
    _exchange(hub, pki, tmp_path)
    caught = hub.cli("audit", "watch", "--state", "seen.json", "--once", cwd=tmp_path, check=False)
    assert caught.returncode == 1 and "history was rewritten" in caught.stdout, caught.stdout + caught.stderr


def test_a_secret_documents_bundle_holds_its_ciphertext_over_https(pki, database_kind, tmp_path):
    with fresh_database(database_kind, tmp_path) as url:
        # serving TLS adds a TLS CA and certificates to its key folder: a copy, not the session's PKI
        keys = shutil.copytree(pki.dir, tmp_path / "keys")
        hub = start_hub(keys=keys, data=tmp_path / "data", db_url=url, args=("--tls", *_EVERY_EVENT))
        try:
            marker = f"MARKER-{uuid.uuid4().hex}"
            (tmp_path / "mat.txt").write_text(f"MẬT — {marker}\n" * 30, encoding="utf-8")
            sent = hub.cli_json("node", "send", "mat.txt", "--as", "nghe-an", "--to", "central-office", "--secret",
                                "--subject", "Kế hoạch", cwd=tmp_path)
            hub.cli("node", "fetch", sent["id"], "--as", "central-office", "--out", "in", cwd=tmp_path)
            hub.cli("node", "ack", sent["id"], "--as", "central-office", "--status", "received", cwd=tmp_path)
            hub.cli("audit", "bundle", sent["id"], "-o", "secret.zip", "--token", _auditor(hub), cwd=tmp_path)  # https, the demo root
        finally:
            hub.stop()
    with zipfile.ZipFile(tmp_path / "secret.zip") as bundle:
        assert all(marker.encode() not in bundle.read(name) for name in bundle.namelist())
        assert any(name.endswith("content.bin") for name in bundle.namelist())  # the envelope
    checked = hub.cli("audit", "verify", "secret.zip", "--ca", str(pki.store.root_path), "-v", cwd=tmp_path,
                      check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "receipts: ok — 1 signed receipts" in checked.stdout
