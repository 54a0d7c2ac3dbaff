"""The hub's database and blob store as an auditor replays them (``exchange audit log verify
--db``): read-only views in the shape of :class:`exchange.audit.replay.Snapshot`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.engine import Engine

from exchange.audit.replay import Snapshot
from exchange.domain.documents import DeliveryState
from exchange.hub.blobs import BlobStore
from exchange.hub.evidence_log import EvidenceLog
from exchange.hub.store.models import Delivery, Document, Incoming, LogCheckpoint, Receipt
from exchange.tlog import SignedCheckpoint


def entries(engine: Engine) -> Iterator[tuple[int, bytes]]:
    """Every stored log entry in order (read in batches)."""
    for entry in EvidenceLog(engine, create=False).iter_entries():
        yield entry.index, entry.leaf


def checkpoints(engine: Engine) -> list[SignedCheckpoint]:
    """Every signed checkpoint the hub stored, smallest tree first (what a replay checks the log
    against)."""
    with engine.connect() as connection:
        rows = connection.execute(select(LogCheckpoint.note, LogCheckpoint.cms)  # type: ignore[call-overload]
                                  .order_by(LogCheckpoint.size)).all()
    return [SignedCheckpoint.from_note(bytes(note), bytes(cms)) for note, cms in rows]


def snapshot(engine: Engine) -> Snapshot:
    """Documents with their recipient rows, receipts and incoming records, as stored now."""
    state = Snapshot()
    with engine.connect() as connection:
        for doc in connection.execute(select(Document.__table__)):  # type: ignore[attr-defined]
            state.documents[doc.id] = {
                "sender": doc.sender, "channel": _text(doc.channel), "sha256": doc.sha256,
                "signature_sha256": doc.signature_sha256, "indication": _text(doc.indication),
                "sub_indication": doc.sub_indication, "classification": _text(doc.classification),
                "deliveries": {}}
        for row in connection.execute(select(Delivery.__table__)):  # type: ignore[attr-defined]
            stored = state.documents.get(row.document_id)
            if stored is not None:
                stored["deliveries"][row.recipient] = {"delivered": row.state is DeliveryState.DELIVERED,
                                                    "state": _text(row.state),
                                                    "fetched": row.fetched_at is not None,
                                                    "status": _text(row.status)}
        for row in connection.execute(select(Receipt.__table__)):  # type: ignore[attr-defined]
            state.receipts[int(row.id)] = {
                "document": row.document_id, "recipient": row.recipient, "status": _text(row.status),
                "statement_sha256": hashlib.sha256(row.statement).hexdigest(),
                "signature_sha256": hashlib.sha256(row.signature).hexdigest()}
        for row in connection.execute(select(Incoming.__table__)):  # type: ignore[attr-defined]
            state.incoming[row.id] = {"body": row.body, "from_agency": row.from_agency, "scanned": row.scanned,
                                      "entered": row.entered, "sha256": row.sha256}
    return state


def _text(value: StrEnum | None) -> str | None:
    """A stored enum as the plain string the log records (the snapshot is plain data)."""
    return None if value is None else value.value


def blob_checker(blobs: BlobStore) -> Callable[[str], str | None]:
    """A function saying what is wrong with the blob named by a digest (None when intact)."""

    def problem(digest: str) -> str | None:
        path = blobs.path(digest)
        if not path.is_file():
            return "missing from the blob store"
        sha = hashlib.sha256()
        with path.open("rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                sha.update(chunk)
        actual = sha.hexdigest()
        return None if actual == digest else f"its bytes now hash to {actual[:16]}…: altered"

    return problem
