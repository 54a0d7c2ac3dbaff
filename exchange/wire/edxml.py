"""edXML operations as the hub's API shows them: a sender's signed recall, update or
replacement, and what registering a package from an outside agency did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from exchange.wire.documents import IncomingPublic

__all__ = ["BusinessEventPublic", "EdxmlImportPublic"]


class BusinessEventPublic(BaseModel):
    """A recall, update or replacement as the API shows it, with the sender's signed statement."""

    id: int
    document_id: str
    related_id: str | None
    action: str  # recall | update | replace
    sender: str
    reason: str
    changes: dict[str, Any]
    stated_at: datetime
    created_at: datetime
    indication: str
    statement: str
    signature_b64: str


class EdxmlImportPublic(BaseModel):
    """What registering an edXML package did: an incoming document, or a status on our document."""

    id: str
    kind: str  # document | status
    body: str
    business_type: str
    status_code: str
    from_organ: str
    from_name: str
    edxml_document_id: str
    header: dict[str, Any]
    xml_signature: dict[str, Any]
    sha256: str
    incoming: IncomingPublic | None = None
    document_id: str | None = None
    received_at: datetime
