"""One exchange drawn as its steps, each with its time and outcome; a failure stops the flow
where it happened.

    signed by sender → received by hub → validated → (per recipient) delivered →
    verified by receiver → signed receipt → status changes
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from exchange.domain.bodies import BodyRegistry
from exchange.domain.documents import Channel, DeliveryState
from exchange.hub.store.models import DeliveryPublic
from exchange.hub.web.documents import DocumentPage, ReceiptView, body_name
from exchange.hub.web.templating import short_hash, size

#: a step's state, also its CSS class
OK, FAILED, WARN, SKIPPED, PENDING, UNREACHED = "ok", "failed", "warn", "skipped", "pending", "unreached"


@dataclass(frozen=True)
class Step:
    """One step of a document's workflow: its number, title, state (ok, failed, warn, skipped,
    pending, unreached), outcome, time and details."""

    number: int
    title: str
    state: str
    outcome: str
    time: datetime | str | None = None
    detail: str = ""
    items: list[tuple[str, str, datetime | None]] = field(default_factory=list)  # (css, text, time)


@dataclass(frozen=True)
class Lane:
    """Steps 4–7 for one recipient."""

    recipient: str
    name: str
    steps: list[Step]
    can_acknowledge: bool


@dataclass(frozen=True)
class WorkflowPage:
    """A document's workflow: the steps every recipient shares, then one lane per recipient."""

    page: DocumentPage
    common: list[Step]
    lanes: list[Lane]
    stopped: Step | None

    @classmethod
    def build(cls, page: DocumentPage, bodies: BodyRegistry) -> WorkflowPage:
        """The workflow of the document on *page*: after a failed step, the later ones are
        unreached."""
        common = _common_steps(page, bodies)
        stopped = next((s for s in common if s.state == FAILED), None)
        lanes = []
        for delivery in page.doc.deliveries:
            receipts = [r for r in page.receipts if r.receipt.recipient == delivery.recipient]
            lanes.append(Lane(delivery.recipient, body_name(bodies, delivery.recipient),
                              _lane_steps(page, delivery, receipts, stopped),
                              delivery.state == DeliveryState.DELIVERED))
        return cls(page, common, lanes, stopped)


def _common_steps(page: DocumentPage, bodies: BodyRegistry) -> list[Step]:
    doc, report = page.doc, page.report
    sender = body_name(bodies, doc.sender)
    if doc.channel == Channel.PAPER:
        return [
            Step(1, "Signed by the sender", SKIPPED, "sent on paper: no electronic file, no digital signature",
                 doc.created_at, f"{sender} sent it by post or courier"),
            Step(2, "Registered at the hub", WARN, "registered by the sending clerk (number, date, subject)",
                 doc.created_at, "it counts in the register, against K1"),
            Step(3, "Validated by the hub", SKIPPED, "nothing to validate on paper"),
        ]
    if report is None:
        signed = Step(1, "Signed by the sender", WARN, "not signed: sent without a digital signature",
                      None, f"{sender} sent the file as it is; it counts against K1")
    else:
        who = report.signer.name if report.signer else "an unknown signer"
        serial = f"certificate serial {report.signer.certificate.serial}" if report.signer else ""
        signed = Step(1, "Signed by the sender", OK, f"signed by {who}", report.signing_time, serial)
    received = Step(2, "Received by the hub", OK, f"{size(doc.size)} received over the network",
                    doc.created_at, f"SHA-256 {short_hash(doc.sha256, 16)}")
    if report is None:
        validated = Step(3, "Validated by the hub", SKIPPED, "no signature to validate")
    elif doc.channel == Channel.SIGNED_INVALID:
        if report.passed:  # a valid signature, but not the sender's own
            signer = report.signer.body_id if report.signer else "?"
            why = f"signed by {body_name(bodies, signer)}, not by the sender {sender}"
            validated = Step(3, "Validated by the hub", FAILED, "REFUSED: the signer is not the sender",
                             report.validation_time, why)
        else:
            failed = next((c for c in page.checks if c.outcome == "failed"), None)
            detail = f"check {failed.number} ({failed.name}) failed: {failed.detail}" if failed else ""
            validated = Step(3, "Validated by the hub", FAILED, f"REFUSED — {page.headline}: {page.reason}",
                             report.validation_time, detail)
    else:
        validated = Step(3, "Validated by the hub", OK, f"{page.headline}: every check passed",
                         report.validation_time, f"{len(page.checks)} checks, see the document page")
    return [signed, received, validated]


def _lane_steps(page: DocumentPage, delivery: DeliveryPublic, receipts: list[ReceiptView],
                stopped: Step | None) -> list[Step]:
    if delivery.state == DeliveryState.REFUSED or stopped is not None:
        why = "not reached: the hub refused the document at step 3"
        return [Step(n, title, UNREACHED, why) for n, title in
                ((4, "Delivered"), (5, "Verified by the receiver"), (6, "Signed receipt"), (7, "Status changes"))]
    if delivery.state == DeliveryState.PAPER:
        return [Step(4, "Delivered", WARN, "on paper, outside the network", delivery.sent_at)] + [
            Step(n, title, SKIPPED, "not applicable on paper") for n, title in
            ((5, "Verified by the receiver"), (6, "Signed receipt"), (7, "Status changes"))]
    delivered = Step(4, "Delivered", OK, "put in the receiver's inbox", delivery.sent_at)
    return [delivered, _verified(page, delivery, receipts), _receipt(receipts), _statuses(receipts)]


def _verified(page: DocumentPage, delivery: DeliveryPublic, receipts: list[ReceiptView]) -> Step:
    title = "Verified by the receiver"
    fetched = f"downloaded {delivery.fetched_at:%Y-%m-%d %H:%M} UTC" if delivery.fetched_at else ""
    if page.report is None:
        if delivery.fetched_at or receipts:
            return Step(5, title, SKIPPED, "unsigned: nothing for the receiver to verify", delivery.fetched_at)
        return Step(5, title, PENDING, "not downloaded yet")
    if delivery.verified is True:
        return Step(5, title, OK, "the receiver checked the signature itself: valid", delivery.fetched_at,
                    "it does not rely on the hub's verdict")
    if delivery.verified is False:
        reported = next((r for r in receipts if r.verification), None)
        return Step(5, title, FAILED, "the receiver's own verification FAILED", delivery.fetched_at,
                    reported.verification_words if reported else "")
    if delivery.fetched_at:
        return Step(5, title, PENDING, "downloaded; no verification reported yet", delivery.fetched_at, fetched)
    return Step(5, title, PENDING, "not downloaded yet")


def _receipt(receipts: list[ReceiptView]) -> Step:
    title = "Signed receipt"
    if not receipts:
        return Step(6, title, PENDING, "no receipt yet")
    first = receipts[0]
    state = OK if first.hub_passed else FAILED
    words = "its signature is valid" if first.hub_passed else "its signature did NOT validate"
    return Step(6, title, state, f"{first.receipt.status} {first.receipt.status_name}: {words}",
                first.receipt.stated_at, f"repeats the document's SHA-256; {first.verification_words}")


def _statuses(receipts: list[ReceiptView]) -> Step:
    title = "Status changes"
    if not receipts:
        return Step(7, title, PENDING, "none yet")
    items: list[tuple[str, str, datetime | None]] = []
    for r in receipts:
        css = FAILED if r.receipt.status == "02" else OK
        text = f"{r.receipt.status} {r.receipt.status_name}" + (f": {r.receipt.reason}" if r.receipt.reason else "")
        items.append((css, text, r.receipt.stated_at))
    last = receipts[-1].receipt
    state = FAILED if last.status == "02" else OK
    return Step(7, title, state, f"now {last.status} {last.status_name}", last.stated_at, items=items)
