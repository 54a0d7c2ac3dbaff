"""One pass over the register: plain integer counters, no report objects.

Kept apart from :mod:`exchange.metrics.measures` so the counting (the hot loop over hundreds
of thousands of entries) is small enough to read line by line against ``docs/measures.md``.
Every counter is a list ``[entries, k1, k1_verified, signed_valid, signed_invalid,
unsigned, paper]``; a dict lookup and a few integer additions per entry, nothing quadratic.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from exchange.domain.bodies import BodyKind
from exchange.domain.documents import Channel
from exchange.domain.register import IncomingEntry, RegisterEntry
from exchange.errors import InputError
from exchange.metrics.periods import Period, as_utc

ENTRIES, K1, K1_VERIFIED = 0, 1, 2
CHANNEL_SLOT = {Channel.SIGNED_VALID: 3, Channel.SIGNED_INVALID: 4, Channel.UNSIGNED: 5,
                Channel.PAPER: 6}
_SIGNED_VALID = CHANNEL_SLOT[Channel.SIGNED_VALID]

Counter = list[int]
Week = tuple[int, int]  # (ISO year, ISO week)
Month = tuple[int, int]  # (year, month)


def new_counter() -> Counter:
    """A zeroed counter: entries, K1's numerator and verified numerator, then one slot per channel."""
    return [0] * 7


def _utc(moment: datetime) -> datetime:
    # Fast path: entries from the hub are already aware UTC datetimes.
    return moment if moment.tzinfo is UTC else as_utc(moment)


class Tally:
    """Counters for K1 (overall, per sender, per recipient, per kind pair, per month), the
    weekly signing activity behind K2, and K3 (overall, per body, per month)."""

    def __init__(self, period: Period, kinds: dict[str, BodyKind] | None, *,
                 min_weekly_documents: int = 1, count_receipts: bool = False,
                 by_document: bool = False) -> None:
        self.period = period
        # K1 per document (``--unit document``): document id -> (sender, month, slot) and
        # [every row passed, every row verified]; a document's rows may come in any order.
        self.documents: dict[str, tuple[str, Month, int, list[bool]]] | None = {} if by_document else None
        self.kinds = kinds  # None: accept any sender/recipient ids (no direction breakdown)
        self.cap = min_weekly_documents
        self.count_receipts = count_receipts
        self.total = new_counter()
        self.sent: dict[str, Counter] = {}
        self.received: dict[str, Counter] = {}
        self.pairs: dict[tuple[BodyKind, BodyKind], Counter] = {}
        self.months: dict[Month, Counter] = {}
        self.excluded = 0
        # body -> (week, month) -> distinct signed documents, capped at min_weekly_documents:
        # a capped count still tells whether the threshold was reached, in bounded memory.
        # The month is kept so a week straddling two months counts in each only for the
        # documents sent in that month.
        self.activity: dict[str, dict[tuple[Week, Month], set[object]]] = {}
        self.signed_documents: dict[str, set[str]] = {}
        self.receipts: dict[str, int] = {}
        self.incoming = [0, 0]  # [received, scanned and entered]
        self.incoming_by_body: dict[str, list[int]] = {}
        self.incoming_by_month: dict[Month, list[int]] = {}
        self.excluded_incoming = 0
        self.first_sent: datetime | None = None  # the span of the rows counted (K2's reach)
        self.last_sent: datetime | None = None

    def _mark_active(self, body: str, moment: datetime, token: object) -> None:
        iso = moment.isocalendar()
        key = ((iso[0], iso[1]), (moment.year, moment.month))
        of_body = self.activity.get(body)
        if of_body is None:
            of_body = self.activity[body] = {}
        tokens = of_body.get(key)
        if tokens is None:
            of_body[key] = {token}
        elif len(tokens) < self.cap:
            tokens.add(token)

    def add_entries(self, entries: Iterable[RegisterEntry]) -> None:
        """Count register *entries* sent within the period (and between the kinds asked for) into
        every K1 and K2 counter, in one pass."""
        start, end, kinds = self.period.start, self.period.end, self.kinds
        total, sent_by, received_by = self.total, self.sent, self.received
        pairs, months = self.pairs, self.months
        first, last = self.first_sent, self.last_sent
        for entry in entries:
            sender, recipient = entry.sender, entry.recipient
            if self.count_receipts and entry.receipt_status is not None and entry.receipt_at:
                receipt_at = _utc(entry.receipt_at)
                if start <= receipt_at < end and (kinds is None or recipient in kinds):
                    self.receipts[recipient] = self.receipts.get(recipient, 0) + 1
                    self._mark_active(recipient, receipt_at, ("receipt", entry.document_id))
            sent_at = _utc(entry.sent_at)
            if not start <= sent_at < end:
                continue
            if entry.superseded:
                # A replaced document and its replacement are one official document: only
                # the replacement (its own row) counts, so the exchange is never counted twice.
                continue
            # K1 counts exchanges *between two* of the configured bodies only.
            if sender == recipient or (kinds is not None and (
                    sender not in kinds or recipient not in kinds)):
                self.excluded += 1
                continue
            slot = CHANNEL_SLOT.get(entry.channel)
            if slot is None:
                raise InputError(f"register entry {entry.document_id!r}: "
                                 f"unknown channel {entry.channel!r}")
            if first is None or sent_at < first:
                first = sent_at
            if last is None or sent_at > last:
                last = sent_at
            passed = slot == _SIGNED_VALID and entry.delivered
            verified = passed and entry.verified_by_recipient is True
            month = (sent_at.year, sent_at.month)
            if self.documents is not None:
                doc = self.documents.get(entry.document_id)
                if doc is None:
                    self.documents[entry.document_id] = (sender, month, slot, [passed, verified])
                else:
                    doc[3][0] = doc[3][0] and passed
                    doc[3][1] = doc[3][1] and verified
            counters = [total]
            for table, key in ((sent_by, sender), (received_by, recipient)):
                counter = table.get(key)
                if counter is None:
                    counter = table[key] = new_counter()
                counters.append(counter)
            counter = months.get(month)
            if counter is None:
                counter = months[month] = new_counter()
            counters.append(counter)
            if kinds is not None:
                pair = (kinds[sender], kinds[recipient])
                counter = pairs.get(pair)
                if counter is None:
                    counter = pairs[pair] = new_counter()
                counters.append(counter)
            for counter in counters:
                counter[ENTRIES] += 1
                counter[K1] += passed
                counter[K1_VERIFIED] += verified
                counter[slot] += 1
            if slot == _SIGNED_VALID:
                # K2 looks at signing, not delivery: a valid signature was used.
                docs = self.signed_documents.get(sender)
                if docs is None:
                    docs = self.signed_documents[sender] = set()
                docs.add(entry.document_id)
                self._mark_active(sender, sent_at, entry.document_id)
        self.first_sent, self.last_sent = first, last

    def document_counters(self) -> tuple[Counter, dict[str, Counter], dict[Month, Counter]]:
        """K1 counted once per document (overall, per sender, per month), in the same counter
        layout as the rows': a document is in the numerator only if every one of its rows is."""
        total = new_counter()
        sent: dict[str, Counter] = {}
        months: dict[Month, Counter] = {}
        for sender, month, slot, (passed, verified) in (self.documents or {}).values():
            for counter in (total, sent.setdefault(sender, new_counter()), months.setdefault(month, new_counter())):
                counter[ENTRIES] += 1
                counter[K1] += passed
                counter[K1_VERIFIED] += verified
                counter[slot] += 1
        return total, sent, months

    def add_incoming(self, incoming: Iterable[IncomingEntry]) -> None:
        """Count incoming packages received within the period into K3's counters; a package later
        replaced counts once, through its replacement."""
        start, end, kinds = self.period.start, self.period.end, self.kinds
        for item in incoming:
            received_at = _utc(item.received_at)
            if not start <= received_at < end or item.superseded:
                continue  # a replaced package counts once, through its replacement
            if kinds is not None and item.body not in kinds:
                self.excluded_incoming += 1
                continue
            # Stored electronically: scanned from paper, or born digital (an edXML package).
            done = bool((item.scanned or item.electronic) and item.entered)
            month = (received_at.year, received_at.month)
            by_body = self.incoming_by_body.setdefault(item.body, [0, 0])
            by_month = self.incoming_by_month.setdefault(month, [0, 0])
            for counter in (self.incoming, by_body, by_month):
                counter[0] += 1
                counter[1] += done

    def active_weeks(self, body: str, weeks: set[Week], month: Month | None = None) -> int:
        """How many of *weeks* meet the weekly threshold for *body* (within *month* if given)."""
        per_week: dict[Week, int] = {}
        for (week, in_month), tokens in self.activity.get(body, {}).items():
            if week in weeks and (month is None or in_month == month):
                per_week[week] = per_week.get(week, 0) + len(tokens)
        return sum(1 for count in per_week.values() if count >= self.cap)
