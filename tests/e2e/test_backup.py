"""Backups on a real hub, SQLite and PostgreSQL: ``exchange hub backup`` while documents keep
arriving, the hub killed, ``exchange hub restore`` into a fresh database and data folder, and a
new hub on them serves every document acknowledged before the backup, which still verifies."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from datetime import UTC, datetime

import pytest

from exchange.cms import Indication
from exchange.domain.documents import ReceiptStatus
from exchange.errors import ExchangeError
from exchange.hub.blobs import BlobStore

from e2e.harness import fresh_database, start_hub
from hub.inprocess import document_bytes, metadata

RECIPIENTS = ("central-office", "da-nang")


def test_a_backup_taken_while_the_hub_serves_restores_into_a_working_hub(pki, database_kind, tmp_path, workdir):  # type: ignore[no-untyped-def]
    (tmp_path / "live").mkdir()
    (tmp_path / "restored").mkdir()
    with fresh_database(database_kind, tmp_path / "live") as live_url:
        hub = start_hub(keys=pki.dir, data=tmp_path / "live" / "data", db_url=live_url)
        try:
            sent: dict[str, bytes] = {}
            with hub.client("ha-noi") as sender:
                for n in range(12):
                    content = document_bytes(f"before-{n}", size=2048 + 997 * n)
                    sent[sender.send(content, metadata=metadata(*RECIPIENTS)).id] = content
                paper = sender.send_paper(metadata=metadata("nghe-an")).id
            with hub.client("central-office") as receiver:
                acknowledged = next(iter(sent))
                receiver.acknowledge(acknowledged, sha256=hashlib.sha256(sent[acknowledged]).hexdigest(),
                                     status=ReceiptStatus.RECEIVED, verification="TOTAL_PASSED")

            # documents keep arriving while the backup runs
            stop, during, errors = threading.Event(), [], []

            def keep_sending() -> None:
                with hub.client("nghe-an") as other:
                    while not stop.is_set():
                        try:
                            during.append(other.send(document_bytes("during"), metadata=metadata("ha-noi")).id)
                        except ExchangeError as exc:  # pragma: no cover - reported below
                            errors.append(exc)

            writer = threading.Thread(target=keep_sending)
            writer.start()
            try:
                backup_dir = tmp_path / "backup"
                done = hub.cli("hub", "backup", "-o", str(backup_dir), "--db", live_url,
                               "--data", str(hub.data), cwd=workdir)
            finally:
                stop.set()
                writer.join(timeout=60)
            assert not errors and during, (errors, len(during))
            assert "documents" in done.stdout
            assert stat.S_IMODE(os.stat(backup_dir).st_mode) == 0o700
        finally:
            hub.process.kill()  # no graceful shutdown: the backup must not need one
            hub.process.wait(timeout=30)

        restored_data = tmp_path / "restored" / "data"
        with fresh_database(database_kind, tmp_path / "restored") as restored_url:
            again = hub.cli("hub", "restore", str(backup_dir), "--db", restored_url, "--data", str(restored_data),
                            cwd=workdir)
            assert "restored" in again.stdout
            refused = hub.cli("hub", "restore", str(backup_dir), "--db", restored_url, "--data", str(restored_data),
                              cwd=workdir, check=False)
            assert refused.returncode == 2 and "not empty" in refused.stderr  # never over live data

            restored = start_hub(keys=pki.dir, data=restored_data, db_url=restored_url)
            try:
                verifier = pki.verifier()
                with restored.client("central-office") as reader:
                    for document_id, content in sent.items():
                        target = reader.download(document_id, workdir / f"{document_id}.bin")
                        assert target.read_bytes() == content
                        report = verifier.verify(target, reader.signature(document_id), at=datetime.now(UTC))
                        assert report.indication is Indication.TOTAL_PASSED, report.summary()
                    trail = reader.status(acknowledged)
                    assert [r.status_name for r in trail] == ["received"]
                with restored.client("ha-noi") as sender:
                    assert sender.document(paper).channel == "paper"
                    # the restored hub takes new documents
                    new = sender.send(document_bytes("after"), metadata=metadata("da-nang"))
                    assert new.channel == "signed_valid"
            finally:
                restored.stop()


def test_restoring_a_damaged_backup_is_refused(pki, database_kind, tmp_path, workdir):  # type: ignore[no-untyped-def]
    if database_kind != "sqlite":
        pytest.skip("the checks are the same on both databases")
    (tmp_path / "live").mkdir()
    with fresh_database("sqlite", tmp_path / "live") as url:
        hub = start_hub(keys=pki.dir, data=tmp_path / "live" / "data", db_url=url)
        try:
            with hub.client("ha-noi") as sender:
                sender.send(document_bytes("one"), metadata=metadata("da-nang"))
            hub.cli("hub", "backup", "-o", str(tmp_path / "b"), "--db", url, "--data", str(hub.data), cwd=workdir)
        finally:
            hub.stop()
    blob = next(p for p in (tmp_path / "b" / "blobs").rglob("*") if p.is_file())
    blob.write_bytes(blob.read_bytes() + b"!")
    done = hub.cli("hub", "restore", str(tmp_path / "b"), "--db", f"sqlite:///{tmp_path / 'r.db'}",
                   "--data", str(tmp_path / "r"), cwd=workdir, check=False)
    assert done.returncode == 1 and "does not hash to its name" in done.stderr
    assert done.stderr.count("\n") == 1
    (tmp_path / "b" / "manifest.json").unlink()
    incomplete = hub.cli("hub", "restore", str(tmp_path / "b"), "--db", f"sqlite:///{tmp_path / 'r2.db'}",
                         "--data", str(tmp_path / "r2"), cwd=workdir, check=False)
    assert incomplete.returncode == 2 and "not a complete backup" in incomplete.stderr


def test_gc_on_a_serving_hub_removes_only_what_no_row_names(hub, workdir):  # type: ignore[no-untyped-def]
    meta = metadata("da-nang")
    with hub.client("ha-noi") as sender:
        kept = sender.send(document_bytes("kept"), metadata=meta)
        stored = set(hub.blob_files())
        with pytest.raises(ExchangeError, match="message-id-reused"):
            sender.send(document_bytes("orphan"), metadata=meta)
        assert set(hub.blob_files()) == stored  # refused before its bytes were stored
    # what a hub killed between storing a file and committing its row leaves behind
    BlobStore(hub.data / "blobs").put_bytes(document_bytes("orphan"))
    before = set(hub.blob_files())
    done = hub.cli("hub", "gc", "--db", hub.db_url, "--data", str(hub.data), cwd=workdir)
    assert done.stdout.startswith("removed ") and "unreferenced" in done.stdout
    after = set(hub.blob_files())
    assert after < before
    with hub.client("da-nang") as reader:
        assert reader.download(kept.id, workdir / "kept.bin").read_bytes()[:8] == b"%PDF-1.4"
