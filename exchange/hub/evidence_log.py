"""The hub's tamper-evident log in its database: entries, stored tree levels, checkpoints.

Entries are appended in the caller's transaction, beside the rows they describe, so the log
and the register commit or roll back together. Every append first updates the one head row:
on PostgreSQL that row lock, on SQLite the database's write lock, makes concurrent appenders
(threads or worker processes) take turns, so two writers can never fork the tree.
Checkpoints are signed with the hub's key at most every ``interval`` while the log grows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, and_, bindparam, or_, select, update
from sqlalchemy import insert as _insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from exchange.errors import NotFoundError
from exchange.hub.batch import DEFERRED_LOG
from exchange.hub.store.models import LogCheckpoint, LogEntry, LogHead, LogNode, as_stored
from exchange.pki.certificates import Credential
from exchange.tlog import (
    Checkpoint,
    EntryKind,
    Frontier,
    NodeKey,
    ProofRangeError,
    SignedCheckpoint,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
)

_ENTRY: Table = LogEntry.__table__  # type: ignore[attr-defined]
_NODE: Table = LogNode.__table__  # type: ignore[attr-defined]
_HEAD: Table = LogHead.__table__  # type: ignore[attr-defined]
_CHECKPOINT: Table = LogCheckpoint.__table__  # type: ignore[attr-defined]

# Taking the head row's lock is a write that changes nothing, and it reads the head in the same
# statement: the read happens under the lock (PostgreSQL's row lock, SQLite's write lock).
_LOCK_HEAD = (update(_HEAD).where(_HEAD.c.id == 1).values(size=_HEAD.c.size)
              .returning(_HEAD.c.size, _HEAD.c.frontier))
_READ_HEAD = select(_HEAD.c.size, _HEAD.c.frontier).where(_HEAD.c.id == 1)
_WRITE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(size=bindparam("new_size"),
                                                          frontier=bindparam("new_frontier"))
# The same, only if the head is still the one this process last wrote: then that one statement
# both takes the lock and moves the head (the tree's state is its size and right border).
_ADVANCE_HEAD = update(_HEAD).where(_HEAD.c.id == 1, _HEAD.c.size == bindparam("old_size"),
                                    _HEAD.c.frontier == bindparam("old_frontier")).values(
    size=bindparam("new_size"), frontier=bindparam("new_frontier"))
_INSERT_ENTRY, _INSERT_NODE = _insert(_ENTRY), _insert(_NODE)
DEFAULT_ORIGIN = "hub.exchange.example/log"
#: the most entries one page of ``entries`` returns
MAX_PAGE = 1000


@dataclass(frozen=True)
class Append:
    """One entry to append: its kind, time, the document it concerns (if any), its leaf bytes."""

    kind: EntryKind
    at: datetime
    leaf: bytes
    document_id: str | None = None


@dataclass(frozen=True)
class StoredEntry:
    """A log entry as stored: its index in the log and its exact leaf bytes."""

    index: int
    leaf: bytes


class EvidenceLog:
    """Append, read and prove the log kept in *engine*'s tables."""

    def __init__(self, engine: Engine, *, origin: str = DEFAULT_ORIGIN,
                 interval: timedelta = timedelta(seconds=2), create: bool = True) -> None:
        """*create*: make the head row if missing (False for read-only auditing)."""
        self.engine = engine
        self.origin = origin
        self.interval = interval
        self._last: Frontier | None = None  # the head as this process last wrote it (a guess)
        # Whether the guess held last time we could tell: hub processes sharing one database
        # append in turns, and a guess that misses costs a statement more than none at all.
        self._guess_holds = True
        if not create:
            return
        with engine.connect() as connection:
            exists = connection.execute(_READ_HEAD).first() is not None
        if not exists:
            try:
                with engine.begin() as connection:
                    connection.execute(_insert(_HEAD).values(id=1, size=0, frontier=b""))
            except IntegrityError:  # another worker process made it first
                pass

    # -- writing ------------------------------------------------------------------------
    def append(self, session: Session, entries: Sequence[Append]) -> int:
        """Append *entries* in *session*'s transaction (the caller commits); returns the first
        one's index (-1 in a batch's session, which appends them at its end: ``hub.batch``)."""
        if not entries:
            return -1
        deferred = session.info.get(DEFERRED_LOG)
        if deferred is not None:  # inside ExchangeService.batch: appended with the others at its end
            session.defer(self, entries)  # type: ignore[attr-defined]
            return -1
        connection = session.connection()
        hashes = [leaf_hash(e.leaf) for e in entries]
        last = self._last
        advanced = None
        if last is not None and self._guess_holds:  # nobody else appended since: 1 statement, not 2
            frontier, nodes = last.append(hashes)
            advanced = connection.execute(_ADVANCE_HEAD, {
                "old_size": last.size, "old_frontier": last.to_bytes(),
                "new_size": frontier.size, "new_frontier": frontier.to_bytes()}).rowcount == 1
            self._guess_holds = advanced
        if not advanced:
            size, border = connection.execute(_LOCK_HEAD).one()
            if last is not None and not self._guess_holds:  # would the guess have held? try it again if so
                self._guess_holds = size == last.size and bytes(border) == last.to_bytes()
            frontier, nodes = Frontier.from_bytes(size, border).append(hashes)
            connection.execute(_WRITE_HEAD, {"new_size": frontier.size, "new_frontier": frontier.to_bytes()})
        start = frontier.size - len(entries)
        connection.execute(_INSERT_ENTRY, [
            {"index": start + i, "kind": e.kind.value, "at": as_stored(e.at), "document_id": e.document_id,
             "leaf": e.leaf} for i, e in enumerate(entries)])
        connection.execute(_INSERT_NODE, [{"level": level, "index": index, "hash": value}
                                          for level, index, value in nodes])
        # If the transaction rolls back, the guess is ahead of the database: the next append's
        # conditional update then matches nothing and reads the head again.
        self._last = frontier
        return start

    # -- reading ------------------------------------------------------------------------
    def head(self) -> Frontier:
        """The log's current frontier: its size and the hashes that make its root."""
        with self.engine.connect() as connection:
            size, border = connection.execute(_READ_HEAD).one()
        return Frontier.from_bytes(size, border)

    def entries(self, start: int, end: int) -> list[StoredEntry]:
        """Entries ``[start, end)`` (at most MAX_PAGE); ProofRangeError outside the log."""
        size = self.head().size
        if start < 0 or end < start or start > size:
            raise ProofRangeError(f"entries [{start}, {end}) are not in a log of {size} entries")
        end = min(end, size, start + MAX_PAGE)
        with self.engine.connect() as connection:
            rows = connection.execute(select(_ENTRY.c.index, _ENTRY.c.leaf).where(
                _ENTRY.c.index >= start, _ENTRY.c.index < end).order_by(_ENTRY.c.index))
            return [StoredEntry(int(i), bytes(leaf)) for i, leaf in rows]

    def iter_entries(self, *, batch: int = 5000) -> Iterator[StoredEntry]:
        """Every entry in order, read in batches (for replays of the whole log)."""
        start = 0
        while True:
            with self.engine.connect() as connection:
                rows = connection.execute(select(_ENTRY.c.index, _ENTRY.c.leaf).where(
                    _ENTRY.c.index >= start).order_by(_ENTRY.c.index).limit(batch)).all()
            if not rows:
                return
            for i, leaf in rows:
                yield StoredEntry(int(i), bytes(leaf))
            start = int(rows[-1][0]) + 1

    def document_entries(self, document_id: str) -> list[StoredEntry]:
        """The entries about one document, in log order."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(_ENTRY.c.index, _ENTRY.c.leaf).where(
                _ENTRY.c.document_id == document_id).order_by(_ENTRY.c.index))
            return [StoredEntry(int(i), bytes(leaf)) for i, leaf in rows]

    def indexes_of(self, document_ids: Collection[str]) -> dict[str, list[int]]:
        """Per document id, the indexes of its entries."""
        found: dict[str, list[int]] = {d: [] for d in document_ids}
        if document_ids:
            with self.engine.connect() as connection:
                for doc, index in connection.execute(select(_ENTRY.c.document_id, _ENTRY.c.index).where(
                        _ENTRY.c.document_id.in_(list(document_ids))).order_by(_ENTRY.c.index)):
                    found[doc].append(int(index))
        return found

    def read_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        """Stored subtree hashes, in one query (per level an ``index IN (…)``, so both databases
        look each one up by the primary key rather than scanning the table)."""
        by_level: dict[int, list[int]] = {}
        for level, index in keys:
            by_level.setdefault(level, []).append(index)
        found: dict[NodeKey, bytes] = {}
        if by_level:
            where = or_(*(and_(_NODE.c.level == level, _NODE.c.index.in_(indexes))
                          for level, indexes in by_level.items()))
            with self.engine.connect() as connection:
                for level, index, value in connection.execute(
                        select(_NODE.c.level, _NODE.c.index, _NODE.c.hash).where(where)):
                    found[(int(level), int(index))] = bytes(value)
        missing = [k for k in keys if k not in found]
        if missing:
            raise NotFoundError(f"the log's stored tree lacks subtree {missing[0]}: the log is damaged",
                                code="log-damaged")
        return found

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """The inclusion proof of entry *index* in the tree of *size* entries; raises
        ProofRangeError when *size* is beyond the log."""
        self._check_size(size)
        return inclusion_proof(index, size, self.read_nodes)

    def consistency(self, first: int, second: int) -> list[bytes]:
        """The consistency proof from the tree of *first* entries to that of *second*; raises
        ProofRangeError when *second* is beyond the log."""
        self._check_size(second)
        return consistency_proof(first, second, self.read_nodes)

    def _check_size(self, size: int) -> None:
        current = self.head().size
        if size > current:
            raise ProofRangeError(f"the log has {current} entries, not {size}")

    # -- checkpoints --------------------------------------------------------------------
    def latest_checkpoint(self) -> SignedCheckpoint | None:
        """The largest signed checkpoint stored, or None before the first."""
        with self.engine.connect() as connection:
            row = connection.execute(select(_CHECKPOINT.c.note, _CHECKPOINT.c.cms)
                                     .order_by(_CHECKPOINT.c.size.desc()).limit(1)).first()
        return SignedCheckpoint.from_note(bytes(row[0]), bytes(row[1])) if row else None

    def checkpoint(self, *, credential: Credential, at: datetime, force: bool = False) -> SignedCheckpoint:
        """The current signed checkpoint: a new one when the log grew and the last is older than
        ``interval`` (or *force*), else the last one."""
        with self.engine.connect() as connection:
            last = connection.execute(select(_CHECKPOINT.c.size, _CHECKPOINT.c.at, _CHECKPOINT.c.note,
                                             _CHECKPOINT.c.cms).order_by(_CHECKPOINT.c.size.desc()).limit(1)).first()
        head = self.head()
        if last is not None:
            fresh = as_stored(at) - as_stored(last[1]) < self.interval
            if last[0] == head.size or (fresh and not force):
                return SignedCheckpoint.from_note(bytes(last[2]), bytes(last[3]))
        signed = SignedCheckpoint.sign(Checkpoint(self.origin, head.size, head.root()), credential, at=at)
        try:
            with self.engine.begin() as connection:
                connection.execute(_insert(_CHECKPOINT).values(
                    size=head.size, root=signed.checkpoint.root, note=signed.note, cms=signed.cms, at=as_stored(at)))
        except IntegrityError:  # another worker signed this size meanwhile: same root, keep theirs
            pass
        return signed
