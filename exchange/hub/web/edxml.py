"""The pages' edXML: a document as a package signed by the hub, and imported packages' headers.

"Download as edXML" is built by the hub, which holds no body's private key: the envelope's
XML signature is the hub's own (the exchange axis, like the national axis adding its trace),
while the sender's signature travels inside as the attached ``.p7s`` over the exact bytes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from exchange.domain.documents import Classification
from exchange.edxml import document_package_xml, sign_package
from exchange.edxml.compose import document_package
from exchange.errors import NotFoundError
from exchange.hub.people.roles import Permission, Viewer
from exchange.hub.service import ExchangeService


def document_as_edxml(service: ExchangeService, *, document_id: str, viewer: Viewer,
                      at: datetime) -> tuple[str, bytes]:
    """(file name, package bytes) of a stored electronic, non-secret document, for a viewer who
    may read its content (NotAuthorizedError otherwise: it carries the document's bytes)."""
    viewer.require(Permission.CONTENT)
    doc = service.audit_document(document_id=document_id)
    viewer.require_document(doc.id, sender=doc.sender, recipients=doc.recipients)
    if doc.sha256 is None:
        raise NotFoundError(f"document {document_id} was sent on paper: there is no file", code="no-file")
    if doc.classification != Classification.NORMAL:
        raise NotFoundError(f"document {document_id} is secret: its content is never given out by the pages",
                            code="secret")
    content = service.blobs.path(doc.sha256).read_bytes()
    try:
        signature: bytes | None = service.signature(body=doc.sender, document_id=document_id)
    except NotFoundError:
        signature = None
    events = [e.model_dump(mode="json") for e in service.business_events(body=None, document_id=document_id)]
    replaced = [service.audit_document(document_id=e["document_id"]).model_dump(mode="json") for e in events
                if e["action"] == "replace" and e.get("related_id") == document_id]
    package = document_package(doc.model_dump(mode="json"), bodies=service.bodies, content=content,
                               signature=signature, at=at, business=events, replaced_docs=replaced)
    xml = sign_package(document_package_xml(package), service.trust.store.hub_credential())
    return f"{Path(doc.number.replace('/', '-') or doc.id).name}.edxml", xml
