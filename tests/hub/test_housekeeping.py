"""Housekeeping: owner-only files, partial uploads swept at start, and garbage collection that
never races an upload in flight."""

from __future__ import annotations

import io
import os
import stat
import threading
import time
from datetime import timedelta

import pytest

from exchange.errors import ConflictError
from exchange.hub import HubSettings, Upload, build_service
from exchange.hub.housekeeping import collect_garbage

from hub.inprocess import document_bytes, metadata, running


def _mode(path) -> int:  # type: ignore[no-untyped-def]
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_database_blobs_and_secret_are_owner_only(hub_settings: HubSettings, pki, credentials) -> None:  # type: ignore[no-untyped-def]
    for hub in running(hub_settings, pki.store, credentials=credentials):
        with hub.client("ha-noi") as client:
            client.send(document_bytes("private"), metadata=metadata("da-nang"))
    data = hub_settings.data_dir
    assert _mode(data) == 0o700
    for name in ("hub.db", "hub-secret"):
        assert _mode(data / name) == 0o600, name
    blobs = [p for p in (data / "blobs").rglob("*")]
    assert blobs and all(_mode(p) == (0o700 if p.is_dir() else 0o600) for p in blobs), \
        {str(p): oct(_mode(p)) for p in blobs}


def test_partial_uploads_left_by_a_crash_are_swept_at_start(hub_settings: HubSettings, pki, credentials) -> None:  # type: ignore[no-untyped-def]
    tmp = hub_settings.data_dir / "blobs" / "tmp"
    tmp.mkdir(parents=True)
    (tmp / "tmpab12cd").write_bytes(b"half an upload")
    for _ in running(hub_settings, pki.store, credentials=credentials):
        assert list(tmp.iterdir()) == []


def test_gc_removes_only_unreferenced_blobs(hub_settings: HubSettings, pki) -> None:  # type: ignore[no-untyped-def]
    service = build_service(hub_settings)
    try:
        at = pki.created + timedelta(minutes=5)
        meta = metadata("nghe-an")
        kept = service.submit(sender="ha-noi", metadata=meta, upload=Upload(io.BytesIO(document_bytes("kept"))),
                              signature=None, at=at)
        orphan = document_bytes("orphan")
        with pytest.raises(ConflictError):  # refused before its bytes were stored: nothing to collect
            service.submit(sender="ha-noi", metadata=meta, upload=Upload(io.BytesIO(orphan)), signature=None, at=at)
        assert {sha for sha, _ in service.blobs.stored()} == {kept.sha256}
        service.blobs.put_bytes(orphan)  # as a hub killed between storing a file and committing its row leaves it
        (service.blobs.root / "tmp" / "leftover").write_bytes(b"x")
        files = {sha for sha, _ in service.blobs.stored()}
        assert len(files) == 2 and kept.sha256 in files

        dry = collect_garbage(service.engine, service.blobs, dry_run=True)
        assert (dry.removed, dry.kept, dry.partial_uploads) == (1, 1, 1)
        assert len(list(service.blobs.stored())) == 2
        done = collect_garbage(service.engine, service.blobs)
        assert (done.removed, done.freed_bytes, done.kept) == (1, len(orphan), 1)
        assert [sha for sha, _ in service.blobs.stored()] == [kept.sha256]
        assert list((service.blobs.root / "tmp").iterdir()) == []
        assert service.blobs.read(kept.sha256)
    finally:
        service.engine.dispose()


def test_gc_waits_for_an_upload_between_its_blob_and_its_row(hub_settings: HubSettings) -> None:
    # An upload holds the store's shared lock from storing its blob until its row commits; a
    # collector running meanwhile would see that blob as unreferenced. It must wait.
    service = build_service(hub_settings)
    try:
        finished = threading.Event()
        with service.blobs.writing():
            sha = service.blobs.put_bytes(b"an upload in flight")
            collector = threading.Thread(target=lambda: (collect_garbage(service.engine, service.blobs),
                                                         finished.set()))
            collector.start()
            time.sleep(0.5)
            assert not finished.is_set()  # blocked behind the upload
            assert service.blobs.exists(sha)
        collector.join(timeout=30)
        assert finished.is_set()
    finally:
        service.engine.dispose()
