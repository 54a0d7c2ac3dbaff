"""The hub's evidence exports: signed checkpoints, one document's bundle, a period's archive.

Everything is read from the register, the blob store and the log as they are, and written
with :class:`exchange.audit.BundleWriter` (documents streamed one at a time, so an archive of a
whole year does not sit in memory). The entries of a bundle are those the checkpoint covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import IO

from sqlmodel import Session

from exchange.audit import BundleWriter, LoggedEntry, ReceiptFiles
from exchange.errors import NotFoundError
from exchange.hub.service import ExchangeService
from exchange.hub.store import repository as repo
from exchange.metrics.periods import Period
from exchange.pki.certificates import Credential, certificate_pem
from exchange.pki.revocation import crl_pem
from exchange.tlog import SignedCheckpoint, decode_leaf
from exchange.tlog.entries import entry_time


class Evidence:
    """Checkpoints and bundles of *service*'s log, signed with the hub's key."""

    def __init__(self, service: ExchangeService) -> None:
        self.service = service

    @cached_property
    def credential(self) -> Credential:
        """The hub's signing credential (loaded once), which signs checkpoints."""
        return self.service.trust.store.hub_credential()

    def checkpoint(self, *, at: datetime, force: bool = False) -> SignedCheckpoint:
        """The current signed checkpoint (a new one at most every interval while events arrive)."""
        return self.service.log.checkpoint(credential=self.credential, at=at, force=force)

    def document_ids(self, period: Period) -> Iterator[str]:
        """The ids of the documents registered in *period*, oldest first, streamed."""
        with Session(self.service.engine) as session:
            yield from repo.document_ids(session, start=period.start, end=period.end)

    def write(self, document_ids: Iterable[str], target: str | Path | IO[bytes], *, at: datetime) -> int:
        """Write the evidence of *document_ids* to *target*; returns how many documents.

        A secret document's file is its envelope (the hub never holds its plaintext): the
        bundle carries that ciphertext and the outer signature over it.
        NotFoundError for an unknown id (before anything is written for it)."""
        signed = self.checkpoint(at=at, force=True)  # covers every entry so far
        size = signed.checkpoint.size
        store = self.service.trust.store
        chain = b"".join(certificate_pem(c) for c in (*self.credential.chain, self.credential.certificate,
                                                       store.root()))
        writer = BundleWriter(target, origin=signed.checkpoint.origin, created_at=entry_time(at))
        count = 0
        try:
            root_crl = self.service.trust.root_crl()
            writer.add_checkpoint(signed, crl_pem=crl_pem(self.service.trust.crl()), chain_pem=chain,
                                  root_crl_pem=crl_pem(root_crl) if root_crl is not None else None)
            for document_id in document_ids:
                self._add(writer, document_id, size)
                count += 1
        finally:
            writer.close()
        return count

    def _add(self, writer: BundleWriter, document_id: str, size: int) -> None:
        service = self.service
        public = service.audit_document(document_id=document_id)
        with Session(service.engine) as session:
            doc = repo.find_document(session, document_id=document_id)
            if doc is None:  # pragma: no cover - audit_document raised already
                raise NotFoundError(f"no document {document_id}")
            stored = repo.receipts_of(session, document_id=document_id)
        entries = [LoggedEntry(e.index, e.leaf, tuple(service.log.inclusion(e.index, size)))
                   for e in service.log.document_entries(document_id) if e.index < size]
        # only the receipts the checkpoint covers (one may arrive while the file is written)
        logged = {decode_leaf(e.leaf).get("receipt") for e in entries}
        receipts = [ReceiptFiles(f"{r.id:06d}-{r.recipient}-{r.status}", r.statement, r.signature)
                    for r in stored if r.id in logged]
        writer.add_document(
            document_id, record=public.model_dump(mode="json"),
            content=service.blobs.path(doc.sha256) if doc.sha256 else None,
            signature=service.blobs.read(doc.signature_sha256) if doc.signature_sha256 else None,
            receipts=receipts, entries=entries)
