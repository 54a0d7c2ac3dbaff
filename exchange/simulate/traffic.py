"""The traffic a scenario makes, day by day: who sends what to whom, when, and how.

Everything here is a pure function of the scenario and its seed: each day draws from its own
random generator (seeded with the seed and the date), ids are UUIDv5 derived from the seed,
and no wall-clock time is read. The same scenario and seed give the same traffic, whatever
the machine or the number of worker processes.

Working hours are 08:00–17:00 in Hà Nội (01:00–10:00 UTC), Monday to Friday, except the
scenario's holidays. A document that cannot be sent electronically because the hub is down
or its sender offline is sent when the window ends (``fallback = "wait"``) or on paper.
"""

from __future__ import annotations

import heapq
import math
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path

from exchange.domain.bodies import BodyKind
from exchange.domain.documents import DOCUMENT_TYPES
from exchange.simulate.scenario import Fallback, Scenario, Window

#: 08:00 in Hà Nội (UTC+7), and the length of the working day
WORKDAY_START = time(1, 0)
WORKDAY = timedelta(hours=9)

_ABBREVIATIONS = {"cong-van": "CV", "quyet-dinh": "QĐ", "bao-cao": "BC", "thong-bao": "TB",
                  "ke-hoach": "KH", "giay-moi": "GM", "to-trinh": "TTr", "chi-thi": "CT",
                  "nghi-quyet": "NQ"}
_SUBJECTS = {
    "cong-van": "V/v báo cáo kết quả ứng dụng công nghệ thông tin",
    "quyet-dinh": "Quyết định ban hành quy chế sử dụng chữ ký số",
    "bao-cao": "Báo cáo tình hình thực hiện nhiệm vụ 6 tháng",
    "thong-bao": "Thông báo tạm ngừng hệ thống để bảo trì",
    "ke-hoach": "Kế hoạch triển khai chữ ký số trong các cơ quan đảng",
    "giay-moi": "Giấy mời dự hội nghị trực tuyến",
}


class Intent(StrEnum):
    """How the sender means to send a document."""

    SIGNED = "signed"
    UNSIGNED = "unsigned"
    PAPER = "paper"


@dataclass(frozen=True, slots=True)
class Fetch:
    """A recipient fetching (and verifying) a delivered document, and whether it answers
    with a signed receipt, at ``at``."""

    recipient: str
    at: datetime
    acknowledge: bool


@dataclass(frozen=True, slots=True)
class PlannedDocument:
    """One document the simulation will send: who to whom and when, how (signed, unsigned,
    paper), which sample payload, whether it is altered in transit, its register fields and its
    recipients' fetches."""

    document_id: str
    message_id: str
    sender: str
    recipients: tuple[str, ...]
    sent_at: datetime
    intent: Intent
    sample: int  # index into the scenario's documents
    altered: bool  # its bytes are changed in transit, after signing
    number: str  # số ký hiệu
    doc_type: str
    subject: str
    fetches: tuple[Fetch, ...]  # empty for paper


@dataclass(frozen=True, slots=True)
class PlannedIncoming:
    """A document from an outside agency arriving at a body (K3)."""

    entry_id: str
    body: str
    from_agency: str
    received_at: datetime
    scanned: bool
    entered: bool
    sample: int  # the scan's payload, if scanned
    number: str


@dataclass(frozen=True, slots=True)
class Day:
    """One simulated day's plan: its documents by sending time and its incoming documents by
    arrival."""

    day: date
    documents: tuple[PlannedDocument, ...]  # by sent_at
    incoming: tuple[PlannedIncoming, ...]  # by received_at


class Drafter:
    """Draws single documents for a scenario: recipients, channel, payload, receipts.

    Shared by the simulator (real simulated times) and the demo (the scenario's period
    compressed into the run).
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL,
                                    f"https://exchange.invalid/simulate/{scenario.name}/{scenario.seed}")
        bodies = scenario.bodies
        self.by_kind = {kind: [b.id for b in bodies if b.kind is kind] for kind in BodyKind}
        self.kinds = {b.id: b.kind for b in bodies}
        self.doc_types = [_doc_type(p) for p in scenario.documents]
        self.adoption = {b.id: scenario.adoption[b.id].for_body(scenario.seed, b.id) for b in bodies}
        self._numbers: dict[str, int] = {}

    def uuid(self, name: str) -> str:
        """A stable UUID for *name* in this run's namespace (the same seed gives the same ids)."""
        return str(uuid.uuid5(self.namespace, name))

    def recipients(self, rng: random.Random, sender: str) -> tuple[str, ...]:
        """The recipients of a document from *sender*, drawn with *rng* by the scenario's
        recipient shape."""
        shape = self.scenario.recipients
        kind = self.kinds[sender]
        to_central = shape.central_to_central if kind is BodyKind.CENTRAL else shape.provincial_to_central
        first = BodyKind.CENTRAL if rng.random() < to_central else BodyKind.PROVINCIAL
        second = BodyKind.PROVINCIAL if first is BodyKind.CENTRAL else BodyKind.CENTRAL
        pool = [b for b in self.by_kind[first] if b != sender] or [b for b in self.by_kind[second] if b != sender]
        count = rng.choices(shape.counts, weights=shape.weights)[0]
        return tuple(rng.sample(pool, min(count, len(pool))))

    def intent(self, rng: random.Random, sender: str, moment: datetime) -> tuple[Intent, bool]:
        """(how it is sent, whether it is altered in transit) at *moment*."""
        adoption = self.adoption[sender]
        electronic = rng.random() < adoption.electronic.level(moment)
        signed = rng.random() < adoption.signing.level(moment)
        altered = rng.random() < self.scenario.faults.altered
        if not electronic:
            return Intent.PAPER, False
        if not signed:
            return Intent.UNSIGNED, False
        return Intent.SIGNED, altered

    def number(self, sender: str, doc_type: str) -> str:
        """The next số ký hiệu of *sender*: ``12-CV/HA-NOI``."""
        count = self._numbers[sender] = self._numbers.get(sender, 0) + 1
        return f"{count}-{_ABBREVIATIONS.get(doc_type, 'VB')}/{sender.upper()}"

    def payload(self, rng: random.Random) -> tuple[int, str, str]:
        """(sample index, document type, subject)."""
        sample = rng.randrange(len(self.scenario.documents))
        doc_type = self.doc_types[sample]
        return sample, doc_type, _SUBJECTS.get(doc_type, "Văn bản trao đổi giữa các cơ quan đảng")


class Traffic:
    """The scenario's traffic as a stream of days (iterate once, in order)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.drafter = Drafter(scenario)
        self._carried: list[tuple[datetime, str, PlannedDocument | PlannedIncoming]] = []

    def days(self) -> Iterator[Day]:
        """Every day of the period, then any day after it that postponed documents fall on."""
        for day in self.scenario.days():
            yield self._day(day)
        while self._carried:
            yield self._day(self._carried[0][0].date(), fresh=False)

    def _day(self, day: date, *, fresh: bool = True) -> Day:
        documents: list[PlannedDocument] = []
        incoming: list[PlannedIncoming] = []
        if fresh and self.scenario.is_working_day(day):
            rng = random.Random(f"{self.scenario.seed}/{day.isoformat()}")
            self._draw_documents(rng, day, documents)
            self._draw_incoming(rng, day, incoming)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
        while self._carried and self._carried[0][0] < end:
            _, _, item = heapq.heappop(self._carried)
            (documents if isinstance(item, PlannedDocument) else incoming).append(item)  # type: ignore[arg-type]
        documents.sort(key=lambda d: (d.sent_at, d.document_id))
        incoming.sort(key=lambda i: (i.received_at, i.entry_id))
        return Day(day, tuple(documents), tuple(incoming))

    def _draw_documents(self, rng: random.Random, day: date, out: list[PlannedDocument]) -> None:
        scenario, drafter = self.scenario, self.drafter
        index = 0
        for body in scenario.bodies:
            for _ in range(_poisson(rng, scenario.volume.rate(body))):
                index += 1
                key = f"{day.isoformat()}/{index}"
                planned = _working_moment(rng, day)
                sample, doc_type, subject = drafter.payload(rng)
                recipients = drafter.recipients(rng, body.id)
                intent, altered = drafter.intent(rng, body.id, planned)
                sent_at = planned
                if intent is not Intent.PAPER:
                    sent_at, fallback = self._when_possible(rng, planned, body.id)
                    if fallback is Fallback.PAPER:
                        intent, altered, sent_at = Intent.PAPER, False, planned
                fetches = () if intent is Intent.PAPER else self._fetches(rng, sent_at, recipients)
                doc = PlannedDocument(
                    document_id=drafter.uuid(f"document/{key}"), message_id=f"sim-{key}",
                    sender=body.id, recipients=recipients, sent_at=sent_at, intent=intent, sample=sample,
                    altered=altered, number=drafter.number(body.id, doc_type), doc_type=doc_type,
                    subject=subject, fetches=fetches)
                self._place(doc, sent_at, day, out)

    def _draw_incoming(self, rng: random.Random, day: date, out: list[PlannedIncoming]) -> None:
        scenario, drafter = self.scenario, self.drafter
        index = 0
        for body in scenario.bodies:
            for _ in range(_poisson(rng, scenario.incoming.per_day)):
                index += 1
                planned = _working_moment(rng, day)
                scanned = rng.random() < drafter.adoption[body.id].scanning.level(planned)
                entered = rng.random() < scenario.incoming.entered
                agency = rng.choice(scenario.incoming.agencies)
                sample = rng.randrange(len(scenario.documents))
                # The clerk records it in the hub's system once it can.
                received_at, _ = self._when_possible(rng, planned, body.id)
                item = PlannedIncoming(
                    entry_id=drafter.uuid(f"incoming/{day.isoformat()}/{index}"), body=body.id,
                    from_agency=agency, received_at=received_at, scanned=scanned, entered=entered,
                    sample=sample, number=f"{index}/{day.strftime('%Y%m%d')}")
                self._place(item, received_at, day, out)

    def _place(self, item: PlannedDocument | PlannedIncoming, moment: datetime, day: date, out: list) -> None:  # type: ignore[type-arg]
        if moment.date() == day:
            out.append(item)
        else:
            key = item.document_id if isinstance(item, PlannedDocument) else item.entry_id
            heapq.heappush(self._carried, (moment, key, item))

    def _fetches(self, rng: random.Random, sent_at: datetime, recipients: Sequence[str]) -> tuple[Fetch, ...]:
        receipts = self.scenario.receipts
        span = (receipts.max_delay - receipts.min_delay).total_seconds()
        fetches = []
        for recipient in recipients:
            acknowledge = rng.random() < receipts.share
            delay = receipts.min_delay + timedelta(seconds=round(rng.random() * span))
            at, _ = self._when_possible(rng, sent_at + delay, recipient)
            fetches.append(Fetch(recipient, at, acknowledge))
        return tuple(fetches)

    def _when_possible(self, rng: random.Random, moment: datetime, body: str) -> tuple[datetime, Fallback | None]:
        """The first moment from *moment* at which *body* can reach the hub, and the fallback
        of the window that held it up (None if none did)."""
        held: Fallback | None = None
        for _ in range(16):  # windows may follow one another; they cannot go on for ever
            window = _blocking(self.scenario.faults.hub_outages, self.scenario.faults.offline, moment, body)
            if window is None:
                return moment, held
            held = held or window.fallback
            if window.fallback is Fallback.PAPER:
                return moment, held
            moment = window.end + timedelta(seconds=rng.randrange(60, 3600))
        return moment, held


def _blocking(outages: Sequence[Window], offline: Sequence[Window], moment: datetime, body: str) -> Window | None:
    for window in outages:
        if window.covers(moment):
            return window
    for window in offline:
        if window.body == body and window.covers(moment):
            return window
    return None


def _working_moment(rng: random.Random, day: date) -> datetime:
    start = datetime.combine(day, WORKDAY_START, tzinfo=UTC)
    return start + timedelta(seconds=rng.randrange(int(WORKDAY.total_seconds())))


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; the means here are small)."""
    if mean <= 0:
        return 0
    if mean > 30:  # normal approximation, never negative
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _doc_type(path: Path) -> str:
    """``02-quyet-dinh-quy-che.txt`` → ``quyet-dinh``."""
    stem = path.stem.split("-", 1)[-1] if path.stem[:2].isdigit() else path.stem
    return next((t for t in DOCUMENT_TYPES if stem.startswith(t)), "khac")

