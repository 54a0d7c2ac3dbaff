"""Recall, metadata update and replacement of a sent document (edXML business types 1–3).

The sender signs a :class:`~exchange.domain.business.BusinessStatement`; the hub validates the
signature like any document's, checks the operation against what is stored, records it as a
signed :class:`BusinessEvent` and writes an audit event on *both* documents of a replacement.
A recall sets status 13 on every recipient's row of the register until the recipient answers
with a signed receipt: 15 (agrees) or 16 (refuses).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from exchange.domain.business import BusinessAction, BusinessStatement
from exchange.domain.documents import Channel, DeliveryState, ReceiptStatus
from exchange.errors import (
    ConflictError,
    InputError,
    NotAuthorizedError,
    NotFoundError,
    RejectedError,
)
from exchange.hub.store import repository as repo
from exchange.hub.store.models import BusinessEvent, Document, as_stored
from exchange.hub.store.writes import BusinessEventCreate
from exchange.wire import BusinessEventPublic

if TYPE_CHECKING:
    from exchange.hub.service import ExchangeService

MAX_STATEMENT = 64 * 1024


def record(service: ExchangeService, *, body: str, document_id: str, statement: bytes, signature: bytes,
           at: datetime) -> BusinessEventPublic:
    """Validate and record *body*'s signed recall, update or replacement of *document_id*; the
    same signed statement posted again is answered with the event it recorded the first time."""
    if len(statement) > MAX_STATEMENT or len(signature) > 1024 * 1024:
        raise InputError("the statement is too large", code="invalid-statement")
    parsed = BusinessStatement.from_bytes(statement)
    if parsed.document_id != document_id:
        raise InputError(f"the statement is about document {parsed.document_id}, not {document_id}",
                         code="invalid-statement")
    if parsed.sender != body:
        raise NotAuthorizedError(f"the statement names sender {parsed.sender}, but you are {body}")
    report = service.trust.verifier().verify(statement, signature, at=at)
    signer = report.signer.body_id if report.signer else None
    if not report.passed or signer != body:
        why = report.summary() if not report.passed else f"signed by {signer}, not {body}"
        raise RejectedError(f"statement signature refused: {why}", code="invalid-signature",
                            detail={"report": report.to_dict()})
    with Session(service.engine, expire_on_commit=False) as session:
        doc = repo.find_document(session, document_id=document_id)
        if doc is None:
            raise NotFoundError(f"no document {document_id}")
        if doc.sender != body:
            raise NotAuthorizedError(f"only the sender ({doc.sender}) can {parsed.action.value} document {document_id}")
        # Two copies of one statement (a retry after a lost answer, perhaps at another hub
        # process) take turns here; the second finds the first's event.
        repo.lock_name(session, f"business {document_id}")
        history = repo.business_events_of(session, document_id=document_id)
        for event in history:
            if event.sender == body and event.statement == statement:
                return _public(event.id or 0, event)  # the same request: its first answer
        if any(e.action is BusinessAction.REPLACE and e.document_id == document_id for e in history):
            raise ConflictError(f"document {document_id} was already replaced", code="already-replaced")
        changes: dict[str, Any] = {}
        if parsed.action is BusinessAction.RECALL:
            _recall(session, doc.channel, document_id, history, at)
        elif parsed.action is BusinessAction.UPDATE:
            changes = _update(session, doc, parsed.changes)
        else:
            _replace(session, body, document_id, parsed.replacement)
        row = BusinessEventCreate(
            document_id=document_id, related_id=parsed.replacement or None, action=parsed.action, sender=body,
            reason=parsed.reason, changes_json=json.dumps(changes, ensure_ascii=False), statement=statement,
            signature=signature, indication=report.indication, report_json=report.to_json(),
            stated_at=as_stored(parsed.time), created_at=as_stored(at))
        event_id = repo.add_business_event(session, row=row)
        detail = parsed.reason
        if parsed.action is BusinessAction.REPLACE:
            repo.add_event(session, at=at, actor=body, action="replaced", document_id=document_id,
                           detail=f"replaced by {parsed.replacement}: {detail}")
            repo.add_event(session, at=at, actor=body, action="replaces", document_id=parsed.replacement,
                           detail=f"replaces {document_id}: {detail}")
        else:
            repo.add_event(session, at=at, actor=body, action=f"{parsed.action.value}-signed",
                           document_id=document_id, detail=detail)
        session.commit()
    return _public(event_id, row)


def _recall(session: Session, channel: Channel, document_id: str, history: list[BusinessEvent], at: datetime) -> None:
    if channel is Channel.PAPER:
        raise InputError(f"document {document_id} was sent on paper: recall it on paper", code="not-electronic")
    if any(e.action is BusinessAction.RECALL for e in history):
        raise ConflictError(f"document {document_id} is already recalled", code="already-recalled")
    delivered = [d for d in repo.deliveries_of(session, document_id=document_id) if d.state is DeliveryState.DELIVERED]
    if not delivered:
        raise ConflictError(f"document {document_id} was never delivered: there is nothing to recall",
                            code="not-delivered")
    for delivery in delivered:
        if delivery.id is not None:
            repo.record_status(session, delivery_id=delivery.id, status=ReceiptStatus.RECALL, at=at)


def _update(session: Session, doc: Document, changes: dict[str, str]) -> dict[str, Any]:
    from datetime import date

    applied: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for name, new in changes.items():
        old = getattr(doc, name)
        old_text = old.isoformat() if isinstance(old, date) else (old or "")
        if old_text != new:
            applied[name] = [old_text, new]
            values[name] = date.fromisoformat(new) if name == "doc_date" else new
    if not values:
        raise InputError("the update changes nothing: every value is already the document's",
                         code="invalid-statement")
    repo.update_document(session, document_id=doc.id, **values)
    return applied


def _replace(session: Session, body: str, document_id: str, replacement: str) -> None:
    if replacement == document_id:
        raise InputError("a document cannot replace itself", code="invalid-statement")
    new = repo.find_document(session, document_id=replacement)
    if new is None:
        raise NotFoundError(f"no document {replacement} (the replacement must be sent first)")
    if new.sender != body:
        raise NotAuthorizedError(f"the replacement {replacement} was sent by {new.sender}, not {body}")
    if new.channel is not Channel.SIGNED_VALID:
        raise InputError(f"the replacement {replacement} must be a signed document the hub accepted "
                         f"(it is {new.channel})", code="replacement-not-signed")
    if any(e.action is BusinessAction.REPLACE and e.related_id == replacement
           for e in repo.business_events_of(session, document_id=replacement)):
        raise ConflictError(f"document {replacement} already replaces another document", code="already-replaces")


def require_pending_change(session: Session, *, document_id: str) -> None:
    """Raise ConflictError unless a recall or update of the document awaits its recipients' answer."""
    if not any(e.action in (BusinessAction.RECALL, BusinessAction.UPDATE) and e.document_id == document_id
               for e in repo.business_events_of(session, document_id=document_id)):
        raise ConflictError(f"no recall or update of document {document_id} awaits an answer (15/16 answer one)",
                            code="nothing-to-answer")


def events(service: ExchangeService, *, document_id: str) -> list[BusinessEventPublic]:
    """Every signed business event naming the document (as the one acted on or the new version)."""
    with Session(service.engine) as session:
        return [public(e) for e in repo.business_events_of(session, document_id=document_id)]


def relations(service: ExchangeService, *, document_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Per document: (relation, other document id) for the register's badges."""
    out: dict[str, list[tuple[str, str]]] = {}
    with Session(service.engine) as session:
        for doc_id, found in repo.business_relations(session, document_ids=document_ids).items():
            for e in found:
                if e.action is BusinessAction.REPLACE:
                    pair = ("replaced by", e.related_id or "") if e.document_id == doc_id else ("replaces", e.document_id)
                else:
                    pair = ({BusinessAction.RECALL: "recalled", BusinessAction.UPDATE: "updated"}[e.action], "")
                out.setdefault(doc_id, []).append(pair)
    return out


def public(event: BusinessEvent) -> BusinessEventPublic:
    """The API's view of a stored business *event*: its statement as text and its signature in
    base64."""
    return _public(event.id or 0, event)


def _public(event_id: int, event: BusinessEvent | BusinessEventCreate) -> BusinessEventPublic:
    """:func:`public` of a business event's columns (stored, or just written as *event_id*)."""
    return BusinessEventPublic(
        id=event_id, document_id=event.document_id, related_id=event.related_id, action=event.action,
        sender=event.sender, reason=event.reason, changes=json.loads(event.changes_json or "{}"),
        stated_at=event.stated_at, created_at=event.created_at, indication=event.indication,
        statement=event.statement.decode("utf-8"), signature_b64=base64.b64encode(event.signature).decode())
