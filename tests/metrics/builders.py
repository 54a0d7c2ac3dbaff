"""Small hand-made registers for the measures tests: bodies, register rows, incoming rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from exchange.domain.bodies import Body, BodyKind, BodyRegistry
from exchange.domain.documents import Channel, ReceiptStatus
from exchange.domain.register import IncomingEntry, RegisterEntry

SV, SI, UN, PA = Channel.SIGNED_VALID, Channel.SIGNED_INVALID, Channel.UNSIGNED, Channel.PAPER

_KINDS = {"central-office": BodyKind.CENTRAL, "organization-commission": BodyKind.CENTRAL,
          "inspection-commission": BodyKind.CENTRAL, "ha-noi": BodyKind.PROVINCIAL,
          "nghe-an": BodyKind.PROVINCIAL, "da-nang": BodyKind.PROVINCIAL}


def registry(*ids: str) -> BodyRegistry:
    """Bodies by id (kinds as in samples/bodies.toml); the worked example's five by default."""
    ids = ids or ("central-office", "organization-commission", "inspection-commission",
                  "ha-noi", "nghe-an")
    return BodyRegistry([Body(i, _KINDS[i], f"Tên {i}", f"Name {i}") for i in ids])


def at(day: str, hour: int = 9, minute: int = 0) -> datetime:
    """An aware UTC datetime on ISO *day*."""
    d = date.fromisoformat(day)
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=UTC)


_DEFAULT: Any = object()


def sent(doc: str, sender: str, recipient: str, channel: Channel, day: str, *,
         hour: int = 9, delivered: bool | None = None, verified: bool | None = _DEFAULT,
         receipt_day: str | None = None) -> RegisterEntry:
    """One register row. By default, signed_valid and unsigned rows are delivered and a
    signed_valid row is verified by its recipient; refused and paper rows are not delivered."""
    if delivered is None:
        delivered = channel in (SV, UN)
    if verified is _DEFAULT:
        verified = True if channel is SV else None
    return RegisterEntry(
        document_id=doc, sender=sender, recipient=recipient, channel=channel,
        sent_at=at(day, hour), delivered=delivered, verified_by_recipient=verified,
        receipt_status=ReceiptStatus.RECEIVED if receipt_day else None,
        receipt_at=at(receipt_day) if receipt_day else None,
    )


def incoming(entry_id: str, body: str, day: str, *, scanned: bool, entered: bool,
             agency: str = "Bộ Tài chính") -> IncomingEntry:
    return IncomingEntry(entry_id=entry_id, body=body, from_agency=agency,
                         received_at=at(day), scanned=scanned, entered=entered)
