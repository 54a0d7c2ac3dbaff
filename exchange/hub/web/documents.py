"""The document page: metadata, the hub's validation in words, each recipient's fate, receipts.

A secret document's content is never put on a page: :meth:`ExchangeService.text_preview`
returns nothing for it, and the template offers neither preview nor download. A clerk sees
only its body's documents; an operator sees metadata but no content.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from exchange.cms import ValidationReport
from exchange.cms.report import Outcome, SubIndication
from exchange.domain.bodies import BodyRegistry
from exchange.domain.documents import Channel, Classification, DeliveryState, ReceiptStatus
from exchange.domain.indication import Indication
from exchange.hub.people import Permission, Viewer
from exchange.hub.service import ExchangeService
from exchange.hub.store.models import (
    BusinessEventPublic,
    DeliveryPublic,
    DocumentPublic,
    EdxmlImportPublic,
    ReceiptPublic,
)
from exchange.tlog import decode_leaf

CHANNEL_WORDS: dict[str, str] = {
    Channel.SIGNED_VALID: "electronic, signed, valid",
    Channel.SIGNED_INVALID: "electronic, signature refused",
    Channel.UNSIGNED: "electronic, unsigned",
    Channel.PAPER: "paper",
}
STATE_WORDS: dict[str, str] = {DeliveryState.DELIVERED: "delivered", DeliveryState.REFUSED: "refused by the hub (not delivered)",
               DeliveryState.PAPER: "sent on paper"}
#: what each numbered validation step checks, in words (the report's check names)
CHECK_WORDS = {
    "format": "The signature is a well-formed CMS signature",
    "signing certificate": "The signer's certificate is in the signature",
    "algorithms": "The algorithms are accepted",
    "message digest": "The document is unchanged since it was signed",
    "signature value": "The signature value matches the signer's key",
    "signing time": "It was signed while the certificate was valid",
    "chain": "The certificate chains to the trusted root CA",
    "validity": "Every certificate in the chain is valid now",
    "constraints": "Each certificate may do what it did",
    "revocation": "Not revoked, per a CRL still current",
    "signature time-stamp": "A trusted time-stamp dates the signature",
    "proof of existence": "It existed while its certificate was valid",
}
OUTCOME_WORDS = {Outcome.PASSED: "passed", Outcome.FAILED: "FAILED", Outcome.SKIPPED: "not applicable"}
INDICATION_WORDS: dict[str, str] = {
    Indication.TOTAL_PASSED: "Signature valid",
    Indication.TOTAL_FAILED: "Signature invalid",
    Indication.INDETERMINATE: "Signature could not be confirmed",
}
#: what the receiver's own validation said (its statement's ``verification``), in words
VERIFICATION_WORDS: dict[str, str] = {
    Indication.TOTAL_PASSED: "the receiver verified the signature itself: valid",
    Indication.TOTAL_FAILED: "the receiver's own verification FAILED",
    Indication.INDETERMINATE: "the receiver's own verification was indeterminate",
    "UNSIGNED": "unsigned: nothing for the receiver to verify",
}
#: the CSS class of a validated signature (anything else: ``indeterminate``)
_VALIDITY: dict[str, str] = {Indication.TOTAL_PASSED: "passed", Indication.TOTAL_FAILED: "failed"}


def channel_words(channel: str) -> str:
    """A channel in words (``signed_valid`` → "electronic, signed, valid")."""
    return CHANNEL_WORDS.get(channel, channel)


def validity_key(doc: DocumentPublic) -> str:
    """A CSS class: ``passed``, ``failed``, ``indeterminate``, ``unsigned`` or ``paper``."""
    if doc.channel == Channel.PAPER:
        return "paper"
    if doc.indication is None:
        return "unsigned"
    return _VALIDITY.get(doc.indication, "indeterminate")


def reason_words(report: ValidationReport) -> str:
    """Why a signature failed, in words: the sub-indication's explanation (``HASH_FAILURE`` →
    "the document was altered after it was signed")."""
    if report.passed:
        return "every check passed"
    if report.sub_indication is not None:
        return report.sub_indication.explanation
    return report.reason


def delivery_status(delivery: DeliveryPublic) -> tuple[str, str]:
    """(CSS class, words) of one recipient's latest state."""
    if delivery.state == DeliveryState.REFUSED:
        return "failed", "refused by the hub"
    if delivery.state == DeliveryState.PAPER:
        return "paper", "on paper"
    if delivery.status_name:
        css = "failed" if delivery.status == ReceiptStatus.REJECTED else "passed"
        return css, f"{delivery.status} {delivery.status_name}"
    return "pending", "awaiting receipt"


@dataclass(frozen=True)
class CheckView:
    """One numbered check of a validation report as the document page lists it: what was checked,
    its outcome and detail, in words."""

    number: int
    name: str
    words: str
    outcome: str  # passed | failed | skipped
    outcome_words: str
    detail: str


@dataclass(frozen=True)
class ReceiptView:
    """A signed receipt as the document page shows it: the receiver's own verification and the
    hub's verdict on the receipt's signature."""

    receipt: ReceiptPublic
    verification: str
    verification_words: str
    hub_passed: bool
    hub_summary: str


def receipt_view(receipt: ReceiptPublic) -> ReceiptView:
    """*receipt* for the page (a statement that does not parse shows no verification)."""
    try:
        statement: dict[str, Any] = json.loads(receipt.statement)
    except ValueError:
        statement = {}
    verification = str(statement.get("verification", ""))
    return ReceiptView(receipt, verification, VERIFICATION_WORDS.get(verification, "not reported"),
                       receipt.indication == Indication.TOTAL_PASSED, str(receipt.report.get("summary", "")))


@dataclass(frozen=True)
class LogLine:
    """One entry of the evidence log about a document, for its page."""

    index: int
    kind: str
    who: str
    at: str

    @classmethod
    def of(cls, index: int, entry: dict[str, Any]) -> LogLine:
        """The line of log entry *index* (its kind, who and when) from the entry's JSON."""
        who = entry.get("recipient") or entry.get("sender") or ""
        return cls(index, str(entry.get("kind")), str(who), str(entry.get("at")))


@dataclass(frozen=True)
class Today:
    """The stored signature validated again now: does the hub's verdict still hold?"""

    report: ValidationReport
    state: str  # passed | failed | indeterminate
    headline: str
    reason: str
    proof: str  # what the time-stamp proves, in words ("" without one)


def today_view(report: ValidationReport) -> Today:
    """What validating the document again now says (*report*), in the page's words."""
    state = _VALIDITY.get(report.indication, "indeterminate")
    sub = f" — {report.indication.value} / {report.sub_indication.value}" if report.sub_indication else ""
    headline = INDICATION_WORDS.get(report.indication.value, report.indication.value) + sub
    stamp = report.timestamp
    if stamp is not None and stamp.passed:
        proof = (f"Time-stamped {stamp.time} by {stamp.tsa}: proof that the signature existed then, so what "
                 "happened to the certificate afterwards does not undo it.")
    elif stamp is not None:
        proof = f"Its time-stamp proves nothing: {stamp.detail}."
    else:
        proof = ""
    poe = next((c for c in report.checks if c.name == "proof of existence"), None)
    reason = poe.detail if poe is not None else reason_words(report)
    return Today(report, state, headline, _sentence(reason), proof)


def _sentence(text: str) -> str:
    """*text* with a capital first letter and a full stop (unlike Jinja's ``capitalize``,
    which lowercases the rest: names and times)."""
    return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else text


@dataclass(frozen=True)
class DocumentPage:
    """Everything one document's page shows: its record, the hub's validation, receipts, events
    and log entries, and what the viewer may do with it."""

    doc: DocumentPublic
    report: ValidationReport | None
    state: str
    headline: str
    reason: str
    checks: list[CheckView]
    receipts: list[ReceiptView]
    events: list[dict[str, Any]]
    preview: str | None
    secret: bool
    acknowledgeable: list[str]  # recipients with the document delivered (training mode)
    business: list[BusinessEventPublic] = field(default_factory=list)  # edXML recall, update, replace
    edxml_statuses: list[EdxmlImportPublic] = field(default_factory=list)  # outside agencies' statuses
    exportable: bool = False  # "download as edXML": electronic, not secret, and the viewer may read content
    log: list[LogLine] = field(default_factory=list)  # its entries in the evidence log

    today: Today | None = None  # the signature validated again when the page is drawn

    @classmethod
    def build(cls, service: ExchangeService, document_id: str, *, viewer: Viewer,
              at: datetime | None = None) -> DocumentPage:
        """The page of *document_id* as *viewer* may see it: NotAuthorizedError (``other-body``)
        outside a clerk's body; the text preview only for a role that may read content. *at*:
        when to validate the signature again (default now)."""
        doc = service.audit_document(document_id=document_id)
        viewer.require_document(doc.id, sender=doc.sender, recipients=doc.recipients)
        report = ValidationReport.from_dict(doc.report) if doc.report else None
        state = validity_key(doc)
        if report is not None:
            sub = f" — {report.indication.value} / {report.sub_indication.value}" if report.sub_indication else ""
            headline = INDICATION_WORDS.get(report.indication.value, report.indication.value) + sub
            reason = reason_words(report)
        elif state == "paper":
            headline, reason = "Sent on paper", "no electronic file: nothing for the hub to validate"
        else:
            headline, reason = "Not signed", "sent electronically without a digital signature"
        checks = [CheckView(i, c.name, CHECK_WORDS.get(c.name, c.name), c.outcome.value,
                            OUTCOME_WORDS[c.outcome], c.detail)
                  for i, c in enumerate(report.checks if report else (), 1)]
        secret = doc.classification != Classification.NORMAL
        return cls(
            doc=doc, report=report, state=state, headline=headline, reason=reason, checks=checks,
            receipts=[receipt_view(r) for r in service.audit_receipts(document_id=doc.id)],
            events=service.audit_events(document_id=doc.id),
            preview=None if secret or not viewer.can(Permission.CONTENT)
            else _nfc(service.text_preview(document_id=doc.id)),
            secret=secret,
            acknowledgeable=[d.recipient for d in doc.deliveries if d.state == DeliveryState.DELIVERED],
            business=service.business_events(body=None, document_id=doc.id),
            edxml_statuses=service.edxml_imports(document_id=doc.id),
            exportable=not secret and doc.sha256 is not None and viewer.can(Permission.CONTENT),
            log=[LogLine.of(e.index, decode_leaf(e.leaf)) for e in service.log.document_entries(doc.id)],
            today=_today(service, doc, at),
        )


def _today(service: ExchangeService, doc: DocumentPublic, at: datetime | None) -> Today | None:
    if doc.channel != Channel.SIGNED_VALID:  # only an accepted signature has a verdict to keep
        return None
    report = service.reverify(document_id=doc.id, at=at or datetime.now(UTC))  # the hub's clock from the routes
    return today_view(report) if report is not None else None


def _nfc(text: str | None) -> str | None:
    # Composed characters: some fonts draw decomposed Vietnamese marks apart from their letter.
    return unicodedata.normalize("NFC", text) if text is not None else None


def body_name(bodies: BodyRegistry, body_id: str | None) -> str:
    """A body's Vietnamese name, or its id if it is not configured."""
    if body_id is None:
        return "–"
    return bodies.get(body_id).name_vi if body_id in bodies else body_id


def explanation(sub_indication: str | None) -> str:
    """The sentence explaining *sub_indication* (empty for none or one unknown)."""
    if not sub_indication:
        return ""
    try:
        return SubIndication(sub_indication).explanation
    except ValueError:
        return ""


def first_time(values: list[datetime | None]) -> datetime | None:
    """The earliest of *values* that is not None, or None."""
    present = [v for v in values if v is not None]
    return min(present) if present else None
