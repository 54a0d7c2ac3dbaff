"""Message ids: one per sender, across every channel.

A sender picks a message id so that a retried send is the same document: the hub answers a
repeat with the stored document (``duplicate: true``) and stores nothing new. A message id
used again for anything else — other bytes, other recipients, a paper document where an
electronic one was sent (or the reverse), signed where it was unsigned — is a conflict (409
``message-id-reused``): answering it as a duplicate would silently drop the new document.
"""

from __future__ import annotations

from exchange.domain.documents import Channel, DocumentMetadata
from exchange.errors import ConflictError
from exchange.hub.store.models import Delivery, Document

#: how a document was sent, as far as a repeat must match
PAPER, UNSIGNED, SIGNED = "on paper", "electronically without a signature", "electronically, signed"


def sent_as(channel: Channel) -> str:
    """The kind of sending a stored channel records (a refused signature was still signed)."""
    if channel is Channel.PAPER:
        return PAPER
    return UNSIGNED if channel is Channel.UNSIGNED else SIGNED


def check_repeat(existing: Document, deliveries: list[Delivery], *, metadata: DocumentMetadata, kind: str,
                 sha256: str | None = None) -> None:
    """Raise ConflictError(``message-id-reused``) unless this send repeats *existing* exactly:
    the same kind of sending, the same file, the same recipients (and, on paper, where the
    metadata is the whole document, the same metadata)."""
    differences = []
    if sent_as(existing.channel) != kind:
        differences.append(f"it was sent {sent_as(existing.channel)}, this is sent {kind}")
    elif existing.sha256 != sha256:
        differences.append("the file differs")
    if sorted(d.recipient for d in deliveries) != sorted(metadata.recipients):
        differences.append("the recipients differ")
    if kind == PAPER and sent_as(existing.channel) == PAPER:
        for name in ("subject", "number", "doc_type", "doc_date"):
            if getattr(existing, name) != getattr(metadata, name):
                differences.append(f"the {name} differs")
        if existing.classification != metadata.classification.value:
            differences.append("the classification differs")
    if differences:
        raise ConflictError(f"message id {existing.message_id!r} was already used for document {existing.id}: "
                            f"{'; '.join(differences)}; choose a new message id for a new document",
                            code="message-id-reused", detail={"document_id": existing.id})
