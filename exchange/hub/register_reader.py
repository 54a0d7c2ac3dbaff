"""The register, read-only: what the hub's pages, its measures, the register API and
``exchange report --db`` read, without the service's write machinery (no blobs, no trust, no
evidence log).

The reads skip the per-body access rule of the API: the pages show the register as the
Central Party Office's operators see it, and whoever shows a row to a clerk filters it first
(``exchange.hub.gate``). Nothing here returns a document's bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from exchange.domain.bodies import BodyRegistry
from exchange.domain.documents import Channel
from exchange.domain.indication import Indication
from exchange.domain.register import IncomingEntry, RegisterEntry
from exchange.errors import InputError, NotFoundError
from exchange.hub import roster
from exchange.hub.store import repository as repo
from exchange.hub.store.models import Document
from exchange.hub.store.public import document_public, receipt_public
from exchange.metrics import Period
from exchange.wire import DocumentPublic, ReceiptPublic

__all__ = ["MAX_OFFSET", "MAX_PAGE", "STATUS_FILTERS", "VALIDITY_FILTERS", "RegisterReader", "Refused"]

#: the furthest a register search may page, and its largest page
MAX_OFFSET = 10_000_000
MAX_PAGE = 500
#: the values :meth:`RegisterReader.find_documents` takes for ``validity`` and ``status``
VALIDITY_FILTERS = repo.VALIDITY_FILTERS
STATUS_FILTERS = repo.STATUS_FILTERS


class RegisterReader:
    """Reads the register kept in *engine*'s database; *bodies* are the hub's own, the answer
    of :meth:`served_bodies` when the database keeps no list of the bodies it served."""

    def __init__(self, *, engine: Engine, bodies: BodyRegistry) -> None:
        self.engine = engine
        self.bodies = bodies

    def register_entries(self, *, start: datetime | None = None, end: datetime | None = None
                         ) -> Iterator[RegisterEntry]:
        """The register's rows (one per document and recipient) sent in [start, end)."""
        with self._session() as session:
            yield from repo.register_entries(session, start=start, end=end)

    def incoming_entries(self, *, start: datetime | None = None, end: datetime | None = None
                         ) -> Iterator[IncomingEntry]:
        """The documents received from outside agencies in [start, end) (K3)."""
        with self._session() as session:
            yield from repo.incoming_entries(session, start=start, end=end)

    def served_bodies(self, period: Period | None = None) -> BodyRegistry:
        """The bodies the register was kept for in *period* (K2's denominator, the per-body
        tables): as recorded in the database (``exchange.hub.roster``), else the hub's own."""
        return self.recorded_bodies(period) or self.bodies

    def recorded_bodies(self, period: Period | None = None) -> BodyRegistry | None:
        """The bodies the register records it served in *period* (all it ever served without
        one); None if the database keeps no such list (made before it did)."""
        return roster.served_in(self.engine, period)

    def register_span(self) -> tuple[datetime, datetime] | None:
        """The first and last moments in the register (sends and incoming); None if empty."""
        with self._session() as session:
            return repo.register_span(session)

    def find_documents(self, *, start: datetime | None = None, end: datetime | None = None,
                       channel: str | None = None, sender: str | None = None, recipient: str | None = None,
                       body: str | None = None, validity: str | None = None, status: str | None = None,
                       offset: int = 0, limit: int = 50) -> tuple[list[DocumentPublic], int]:
        """One page of the register's documents (newest first) and the number matching.

        Raises InputError for a filter value outside :data:`VALIDITY_FILTERS` /
        :data:`STATUS_FILTERS` or an unknown channel.
        """
        if validity and validity not in VALIDITY_FILTERS:
            raise InputError(f"validity must be one of {', '.join(VALIDITY_FILTERS)}")
        if status and status not in STATUS_FILTERS:
            raise InputError(f"status must be one of {', '.join(STATUS_FILTERS)}")
        if channel and channel not in {c.value for c in Channel}:
            raise InputError(f"channel must be one of {', '.join(c.value for c in Channel)}")
        if not 0 <= offset <= MAX_OFFSET or not 1 <= limit <= MAX_PAGE:
            # Past these the databases overflow their integers (a 500) long before a user
            # could page that far through a register.
            raise InputError(f"page out of range: offset 0 to {MAX_OFFSET}, at most {MAX_PAGE} a page",
                             code="invalid-page")
        with self._session() as session:
            rows, total = repo.search_documents(
                session, start=start, end=end, channel=channel, sender=sender, recipient=recipient, body=body,
                validity=validity, status=status, offset=offset, limit=limit)
            return [self._public(session, doc) for doc in rows], total

    def audit_document(self, *, document_id: str) -> DocumentPublic:
        """Any document's metadata and the hub's validation report; NotFoundError if unknown."""
        with self._session() as session:
            doc = repo.find_document(session, document_id=document_id)
            if doc is None:
                raise NotFoundError(f"no document {document_id}")
            return self._public(session, doc, with_report=True)

    def audit_receipts(self, *, document_id: str) -> list[ReceiptPublic]:
        """Every recipient's signed statuses for a document, oldest first."""
        with self._session() as session:
            return [receipt_public(r) for r in repo.receipts_of(session, document_id=document_id)]

    def audit_events(self, *, document_id: str) -> list[dict[str, object]]:
        """The hub's audit trail of one document: ``at``, ``actor``, ``action``, ``detail``."""
        with self._session() as session:
            return [{"at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail}
                    for e in repo.events_of(session, document_id=document_id)]

    def activity(self, *, since: datetime) -> dict[str, object]:
        """Live counts since *since* and the last event id (see ``repository.activity``)."""
        with self._session() as session:
            return repo.activity(session, since=since)

    def receipt_tallies(self, *, start: datetime | None = None, end: datetime | None = None
                        ) -> dict[str, tuple[int, int]]:
        """Per recipient: (documents delivered to it in [start, end), how many it acknowledged)."""
        with self._session() as session:
            return repo.receipt_tallies(session, start=start, end=end)

    def refused(self, *, sender: str, start: datetime, end: datetime) -> Iterator[Refused]:
        """The documents *sender* sent in [start, end) that the hub refused, oldest page last
        (newest first), each with the hub's reason: the ETSI sub-indication, else
        ``signer-mismatch`` for a valid signature of another body, else the indication."""
        offset = 0
        while True:
            with self._session() as session:
                page, total = repo.search_documents(session, start=start, end=end, sender=sender,
                                                    channel=Channel.SIGNED_INVALID, offset=offset,
                                                    limit=MAX_PAGE)
            for doc in page:
                # A valid signature refused for its signer was refused as signer-mismatch.
                reason = doc.sub_indication or ("signer-mismatch" if doc.indication is Indication.TOTAL_PASSED
                                                else doc.indication or "refused")
                yield Refused(doc, reason)
            offset += len(page)
            if not page or offset >= total:
                return

    def close(self) -> None:
        """Close the database connections (for a reader that opened its own engine)."""
        self.engine.dispose()

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def _public(self, session: Session, doc: Document, *, with_report: bool = False) -> DocumentPublic:
        return document_public(doc, repo.deliveries_of(session, document_id=doc.id), with_report=with_report)


@dataclass(frozen=True)
class Refused:
    """A document the hub refused: the stored row and the reason in one word."""

    document: Document
    reason: str
