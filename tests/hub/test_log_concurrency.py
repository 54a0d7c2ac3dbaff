"""Concurrent writers never fork the log: appends take turns on the head row, on SQLite and
PostgreSQL, from threads sharing one service and from two services (as two worker processes
would, each with its own guess of the head), and the stored levels equal a replay."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchange.domain.documents import DocumentMetadata
from exchange.hub import HubSettings
from exchange.hub.app import build_service
from exchange.tlog import MemoryTree

from e2e.harness import fresh_database


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_concurrent_appends_keep_one_tree(pki, tmp_path: Path, kind: str) -> None:
    with fresh_database(kind, tmp_path) as url:
        settings = HubSettings(keys_dir=pki.dir, data_dir=tmp_path / "data", db_url=url,
                               bodies_file=pki.bodies_file)
        service, other = build_service(settings), build_service(settings)
        try:
            errors: list[BaseException] = []
            start = threading.Barrier(8)

            def write(sender: str, writer) -> None:  # type: ignore[no-untyped-def]
                try:
                    start.wait()
                    for _ in range(12):
                        metadata = DocumentMetadata.from_dict({"recipients": ["central-office"],
                                                               "message_id": str(uuid.uuid4())})
                        writer.register_paper(sender=sender, metadata=metadata, at=datetime.now(UTC))
                except BaseException as exc:  # reported below, with the thread's own error
                    errors.append(exc)

            senders = ["ha-noi", "nghe-an", "da-nang", "organization-commission"] * 2
            threads = [threading.Thread(target=write, args=(s, (service, other)[i % 2]))
                       for i, s in enumerate(senders)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert not errors, errors

            stored = list(service.log.iter_entries(batch=17))
            assert [e.index for e in stored] == list(range(96))  # no gap, no duplicate
            replayed = MemoryTree()
            for entry in stored:
                replayed.append(entry.leaf)
            head = service.log.head()
            assert head.size == 96 and head.root() == replayed.root()
            assert service.log.read_nodes(replayed.nodes.keys()) == replayed.nodes  # every stored level
        finally:
            service.engine.dispose()
            other.engine.dispose()
