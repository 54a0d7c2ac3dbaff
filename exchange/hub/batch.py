"""Several hub operations in one database transaction: :meth:`ExchangeService.batch`.

Inside ``with service.batch():`` every operation the service runs on this thread does what it
does alone (the same checks, reads and writes) in one shared :class:`BatchSession`: an
operation's commit only ends its part, the history events and the evidence log's entries of
all of them are inserted together at the end, in the order they were made, and the whole
commits once. Being the only writer, an operation inside skips the re-checks that guard
against a concurrent one (a receipt's second look under its delivery's row lock). An error that
escapes the block rolls everything back. An operation cannot roll back alone inside a batch
(its rollback raises :class:`BatchRollbackError`, and the batch is lost), so batches are for a
caller that is the database's only writer, as the simulator's hub is; the HTTP hub never
opens one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from exchange.errors import ExchangeError
from exchange.hub.store import repository as repo

if TYPE_CHECKING:
    from exchange.hub.evidence_log import Append, EvidenceLog

#: the key of :attr:`Session.info` under which a batch keeps the log entries it defers
DEFERRED_LOG = "exchange.deferred_log"


class BatchRollbackError(ExchangeError):
    """Raised when an operation inside a batch has to roll back (a unique key clash, a receipt
    stored meanwhile): it cannot be undone alone, so the whole batch is given up."""

    code = "batch-rolled-back"


class BatchSession(Session):
    """The session every operation of a batch shares (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.info[DEFERRED_LOG] = []
        self.info[repo.DEFERRED_EVENTS] = []

    def defer(self, log: EvidenceLog, entries: Sequence[Append]) -> None:
        """Keep *entries* for *log* until the batch ends."""
        self.info[DEFERRED_LOG].append((log, entries))

    def commit(self) -> None:
        """An operation's commit: its writes are sent, the transaction stays open."""
        self.flush()

    def rollback(self) -> None:
        """Refused: one operation cannot be undone alone (BatchRollbackError)."""
        raise BatchRollbackError("an operation inside a batch had to roll back; the batch is given up")

    def close(self) -> None:
        """An operation's end: the batch closes the session itself."""

    def finish(self) -> None:
        """Insert the deferred events and log entries, in order, and commit the whole batch."""
        repo.add_deferred_events(self)
        deferred = self.info.pop(DEFERRED_LOG)
        merged: list[tuple[EvidenceLog, list[Append]]] = []
        for log, entries in deferred:
            if merged and merged[-1][0] is log:
                merged[-1][1].extend(entries)
            else:
                merged.append((log, list(entries)))
        for log, entries in merged:
            log.append(self, entries)
        super().commit()

    def discard(self) -> None:
        """Roll the whole batch back and close the session."""
        super().rollback()
        super().close()

    def end(self) -> None:
        """Close the session once the batch has finished."""
        super().close()
