"""Run a scenario through the hub's own service on a simulated clock, on every core.

The main process plays the hub: it calls the same :class:`~exchange.hub.ExchangeService` the
HTTP hub uses (``build_service``: SQLite, blob store, trust), with every operation's ``at``
taken from the simulated clock. Worker processes play the bodies (:mod:`exchange.simulate.nodes`):
they sign ahead of the clock, and fetch, verify and sign receipts behind it; and, as a hub with
several processes would, they run the hub's validation and time-stamping of each signature they
make (:func:`exchange.hub.verdicts.judge`, with the hub's trust), so the main process only
records verdicts the service checks are about what it records. Results are consumed in a fixed
order, so the register does not depend on which worker finished first.

Certificate faults happen at their simulated dates: an expiring certificate is issued with
that end date; a revocation re-signs the CRL and the hub applies it at once
(``Trust.reload``, in every process); a renewal gives the body a new key. Before each such
event every task in flight is finished, and no task is started across it, so each signature
uses the key and each verification (the hub's and the recipients') the CRL of its own moment.

Memory stays flat however long the period: days are generated one at a time, at most
``LOOKAHEAD`` days are signed ahead, pending receipts are those within the receipt delay, and
the register is read back from the database as a stream.
"""

from __future__ import annotations

import heapq
import io
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from exchange.cms import SubIndication
from exchange.domain.documents import DocumentMetadata, ReceiptStatus
from exchange.errors import RejectedError
from exchange.hub import ExchangeService, Upload, build_service
from exchange.metrics import MeasuresReport, compute
from exchange.pki import KeyStore, Validity, init_pki, renew, revoke
from exchange.pki.ca import issue_body
from exchange.simulate import outputs
from exchange.simulate.nodes import (
    Nodes,
    NodeSetup,
    Receipt,
    ReceiveTask,
    Signed,
    SignTask,
    in_transit,
    receive_in_worker,
    sign_in_worker,
    start_worker,
)
from exchange.simulate.scenario import Scenario, midnight
from exchange.simulate.traffic import Day, Fetch, Intent, PlannedDocument, PlannedIncoming, Traffic

#: days signed ahead of the clock, and tasks per worker call
LOOKAHEAD = 3
CHUNK = 48
#: Hà Nội is UTC+7: a document's date is the local one
LOCAL_OFFSET = timedelta(hours=7)
_MEDIA = {".txt": "text/plain; charset=utf-8", ".pdf": "application/pdf"}

T = TypeVar("T")


@dataclass
class Counts:
    """What happened, counted as it happened (deterministic: no times, no keys)."""

    documents: int = 0
    paper: int = 0
    unsigned: int = 0
    signed: int = 0
    delivered: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # by sub-indication (or code)
    fetches: int = 0
    receipts: int = 0
    receipts_rejecting: int = 0  # receipts whose own verification failed (status rejected)
    receipts_refused: dict[str, int] = field(default_factory=dict)
    incoming: int = 0
    scanned: int = 0
    signatures: int = 0  # documents and receipts signed
    verifications: int = 0  # by the hub (documents, receipts) and by the recipients
    verifications_stamped: int = 0  # of those, the recipients': signatures carrying the hub's token
    timestamps: int = 0  # the hub's time-stamp tokens (one per accepted signature)
    revocations: int = 0
    renewals: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-able data, refusals by code in sorted order (``measures.json``'s
        ``simulation``)."""
        data = dict(self.__dict__)
        data["refused"] = dict(sorted(self.refused.items()))
        data["receipts_refused"] = dict(sorted(self.receipts_refused.items()))
        return data


@dataclass(frozen=True)
class DayDone:
    """Progress after each simulated day."""

    day: date
    index: int  # days of the period done
    total: int  # days in the period
    counts: Counts


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation produced: its measures, when each target was first met, what happened
    (counts), the files written, and how long it took on how many workers."""

    scenario: Scenario
    output: Path
    report: MeasuresReport
    first_met: dict[str, Any]  # measure -> MonthMeasures | None
    counts: Counts
    files: outputs.Written
    elapsed: float  # wall-clock seconds (shown, never written into the results)
    workers: int


def simulate(scenario: Scenario, output: Path, *, workers: int | None = None,
             progress: Callable[[DayDone], None] | None = None) -> SimulationResult:
    """Run *scenario* into the folder *output* (replaced if a previous run wrote it).

    *workers*: processes for the nodes' work (default: one per core; 0 runs it inline).
    Raises InputError for an unusable output folder.
    """
    started = time.perf_counter()
    if workers is None:
        workers = os.cpu_count() or 1
    outputs.prepare(output)
    # The bodies that take part, as a file beside the results: the hub's service (in every
    # process) serves exactly these, so its database records them as K2's denominator.
    bodies_file = output / "bodies.toml"
    with outputs.atomic(bodies_file) as out:
        out.write(scenario.registry.to_toml(comment=f"The bodies of scenario {scenario.name} "
                                                     "(written by `exchange simulate`)."))
    setup = NodeSetup(keys_dir=output / "keys", data_dir=output / "hub", bodies_file=bodies_file,
                      documents=scenario.documents)
    store = make_pki(scenario, setup.keys_dir)
    service = build_service(setup.hub_settings())
    pool = _Pool(setup, workers)
    try:
        with outputs.atomic(output / "refusals.csv") as refusals:
            run = _Run(scenario, service, store, pool, outputs.RefusalLog(refusals), progress)
            run.run()
        pool.close()
        report, written = _finish(scenario, service, output, run.counts)
    finally:
        pool.close(cancel=True)
        service.engine.dispose()
    return SimulationResult(scenario=scenario, output=output, report=report,
                            first_met=outputs.first_met(report), counts=run.counts, files=written,
                            elapsed=time.perf_counter() - started, workers=workers)


def make_pki(scenario: Scenario, keys_dir: Path) -> KeyStore:
    """A fresh demo PKI for the run, created at the period's start, valid over all of it;
    bodies with an ``expired`` fault get a certificate ending on that date.

    Its CRLs stay current over the whole period (and each revocation's re-signed CRL too): on
    a simulated clock nobody runs ``exchange keys crl`` each week, and a CRL past its next
    update would make the hub refuse every signed document (revocation-data-stale).
    """
    store = KeyStore.at(keys_dir)
    at = midnight(scenario.start)
    span = (scenario.end - scenario.start).days + 1
    validity = Validity(root=max(3650, span + 400), issuing=max(1825, span + 200),
                        body=max(730, span + 60), hub=max(730, span + 60), tsa=max(1460, span + 100),
                        crl=span + 60)
    init_pki(store, scenario.registry, at=at, algorithm=scenario.algorithm, validity=validity,
             bodies_file=str(scenario.bodies_file))
    issuing = store.issuing_ca()
    for fault in scenario.faults.expired:
        # not after = at - BACKDATE + days: ten minutes before 00:00 UTC on the fault's date
        issue_body(store, scenario.registry.get(fault.body), issuing=issuing, at=at,
                   algorithm=scenario.algorithm, days=(fault.on - scenario.start).days)
    return store


class _Pool:
    """The nodes' work: a pool of worker processes, or inline (``workers=0``)."""

    def __init__(self, setup: NodeSetup, workers: int) -> None:
        self._inline = Nodes(setup) if workers == 0 else None
        self._executor = None if workers == 0 else ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=start_worker, initargs=(setup,))

    def sign(self, tasks: list[SignTask]) -> Future[list[Signed]]:
        if self._executor is not None:
            return self._executor.submit(sign_in_worker, tasks)
        assert self._inline is not None
        return _done(self._inline.sign(tasks))

    def receive(self, tasks: list[ReceiveTask]) -> Future[list[Receipt | None]]:
        if self._executor is not None:
            return self._executor.submit(receive_in_worker, tasks)
        assert self._inline is not None
        return _done(self._inline.receive(tasks))

    def close(self, *, cancel: bool = False) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=cancel)
        if self._inline is not None:
            self._inline.close()


def _done(value: T) -> Future[T]:
    future: Future[T] = Future()
    future.set_result(value)
    return future


@dataclass(frozen=True, order=True)
class _Event:
    moment: datetime
    order: int
    action: str  # revoke | renew
    body: str
    reason: Any = None


def _events(scenario: Scenario) -> list[_Event]:
    events: list[_Event] = []
    for fault in scenario.faults.revoked:
        events.append(_Event(fault.effective, len(events), "revoke", fault.body, fault.reason))
    for fault in scenario.faults.revoked + scenario.faults.expired:
        if fault.renewed is not None:
            events.append(_Event(midnight(fault.renewed), len(events), "renew", fault.body))
    return sorted(events)


@dataclass(order=True)
class _PendingFetch:
    """A fetch handed to a worker, to record at its time (and its receipt, if it acknowledges)."""

    at: datetime
    seq: int
    future: Future[list[Receipt | None]] = field(compare=False)
    index: int = field(compare=False)
    document: PlannedDocument = field(compare=False)
    recipient: str = field(compare=False)
    acknowledge: bool = field(compare=False)


class _Run:
    """The main loop: one simulated day at a time (see the module docstring)."""

    def __init__(self, scenario: Scenario, service: ExchangeService, store: KeyStore, pool: _Pool,
                 refusals: outputs.RefusalLog, progress: Callable[[DayDone], None] | None) -> None:
        self.scenario, self.service, self.store, self.pool = scenario, service, store, pool
        self.refusals, self.progress = refusals, progress
        self.counts = Counts()
        self.contents = [p.read_bytes() for p in scenario.documents]
        self.names = [p.name for p in scenario.documents]
        self.epochs = {b.id: 0 for b in scenario.bodies}
        self.crl_epoch = 0
        self.events = _events(scenario)
        self.next_event = 0
        self.days: Iterator[Day] = Traffic(scenario).days()
        self.peeked: Day | None = None
        self.ahead: deque[tuple[Day, dict[str, tuple[Future[list[Signed]], int]]]] = deque()
        self.held: list[tuple[PlannedDocument, Fetch]] = []  # fetches not yet handed to a worker
        self.fetches: list[_PendingFetch] = []
        self.in_flight: set[Future[Any]] = set()
        self.seq = 0
        self.total_days = (scenario.end - scenario.start).days + 1

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> None:
        done = 0
        while (item := self._next_day()) is not None:
            day, signatures = item
            self._apply_events(until=midnight(day.day))
            self._process(day, signatures)
            self._dispatch_fetches()
            self._acknowledge(before=midnight(day.day))
            done = min(done + 1, self.total_days)
            if self.progress is not None:
                self.progress(DayDone(day.day, done, self.total_days, self.counts))
        self._apply_events(until=None)
        self._dispatch_fetches()
        self._acknowledge(before=None)

    def _next_day(self) -> tuple[Day, dict[str, tuple[Future[list[Signed]], int]]] | None:
        self._sign_ahead()
        if not self.ahead and self.peeked is not None:
            # The next day waits behind a certificate event: it is due now.
            self._apply_events(until=midnight(self.peeked.day))
            self._sign_ahead()
        return self.ahead.popleft() if self.ahead else None

    def _sign_ahead(self) -> None:
        """Hand the next days' signatures to the workers, never past an unapplied renewal."""
        while len(self.ahead) < LOOKAHEAD:
            if self.peeked is None:
                self.peeked = next(self.days, None)
                if self.peeked is None:
                    return
            day = self.peeked
            # Not past a renewal (a new key) nor a revocation (the hub judges with the CRL).
            barrier = self._next_event_moment()
            if barrier is not None and midnight(day.day) + timedelta(days=1) > barrier:
                return
            self.peeked = None
            tasks = [(d.document_id, SignTask(d.sender, self.epochs[d.sender], d.sample, d.sent_at, self.crl_epoch,
                                              d.message_id if d.altered else ""))
                     for d in day.documents if d.intent is Intent.SIGNED]
            signatures: dict[str, tuple[Future[list[Signed]], int]] = {}
            for start in range(0, len(tasks), CHUNK):
                chunk = tasks[start:start + CHUNK]
                future = self._track(self.pool.sign([t for _, t in chunk]))
                for index, (doc_id, _) in enumerate(chunk):
                    signatures[doc_id] = (future, index)
            self.ahead.append((day, signatures))

    def _next_event_moment(self) -> datetime | None:
        return self.events[self.next_event].moment if self.next_event < len(self.events) else None

    def _track(self, future: Future[T]) -> Future[T]:
        # Only what is still running: a finished future holds its whole result (48 signatures
        # or receipts), and keeping hundreds of them here grew the memory by tens of MB.
        self.in_flight = {f for f in self.in_flight if not f.done()}
        self.in_flight.add(future)
        return future

    # -- certificate events ---------------------------------------------------------------
    def _apply_events(self, *, until: datetime | None) -> None:
        while self.next_event < len(self.events):
            event = self.events[self.next_event]
            if until is not None and event.moment > until:
                return
            wait(self.in_flight)  # nothing in flight straddles the event
            self.in_flight.clear()
            if event.action == "revoke":
                revoke(self.store, event.body, at=event.moment, reason=event.reason)
                self.service.trust.reload()
                self.crl_epoch += 1
                self.counts.revocations += 1
            else:
                renew(self.store, self.scenario.registry.get(event.body), at=event.moment)
                self.epochs[event.body] += 1
                self.counts.renewals += 1
            self.next_event += 1

    # -- the hub's side -------------------------------------------------------------------
    def _process(self, day: Day, signatures: dict[str, tuple[Future[list[Signed]], int]]) -> None:
        """The day's sends and incoming documents in time order, as one hub transaction."""
        # Every result the day needs first: inside the batch nothing waits for a worker.
        wait({future for future, _ in signatures.values()})
        documents, incoming = list(day.documents), list(day.incoming)
        d = i = 0
        with self.service.batch():
            while d < len(documents) or i < len(incoming):
                if i >= len(incoming) or (d < len(documents) and documents[d].sent_at <= incoming[i].received_at):
                    self._send(documents[d], signatures)
                    d += 1
                else:
                    self._incoming(incoming[i])
                    i += 1

    def _send(self, doc: PlannedDocument, signatures: dict[str, tuple[Future[list[Signed]], int]]) -> None:
        counts, service = self.counts, self.service
        counts.documents += 1
        metadata = DocumentMetadata(recipients=doc.recipients, subject=doc.subject, message_id=doc.message_id,
                                    number=doc.number, doc_type=doc.doc_type,
                                    doc_date=(doc.sent_at + LOCAL_OFFSET).date())
        if doc.intent is Intent.PAPER:
            counts.paper += 1
            service.register_paper(sender=doc.sender, metadata=metadata, at=doc.sent_at,
                                   document_id=doc.document_id)
            return
        signed: Signed | None = None
        if doc.intent is Intent.SIGNED:
            future, index = signatures[doc.document_id]
            signed = future.result()[index]
            counts.signed += 1
            counts.signatures += 1
            counts.verifications += 1
            counts.timestamps += signed.verdict.accepted
        else:
            counts.unsigned += 1
        # Changed after the sender signed it: one line appended on the way to the hub.
        content = in_transit(self.contents[doc.sample], doc.message_id if doc.altered else "")
        name = self.names[doc.sample]
        upload = Upload(io.BytesIO(content), name, _MEDIA.get(Path(name).suffix.lower()))
        try:
            service.submit(sender=doc.sender, metadata=metadata, upload=upload,
                           signature=signed.signature if signed else None, at=doc.sent_at,
                           document_id=doc.document_id, verdict=signed.verdict if signed else None)
        except RejectedError as exc:
            self._refused("document", doc, "", doc.sent_at, exc, counts.refused)
            return
        counts.delivered += 1
        self.held.extend((doc, fetch) for fetch in doc.fetches)

    def _incoming(self, item: PlannedIncoming) -> None:
        self.counts.incoming += 1
        scan = None
        if item.scanned:
            self.counts.scanned += 1
            name = self.names[item.sample]
            scan = Upload(io.BytesIO(self.contents[item.sample]), f"scan-{name}",
                          _MEDIA.get(Path(name).suffix.lower()))
        self.service.register_incoming(body=item.body, from_agency=item.from_agency, number=item.number,
                                       scan=scan, entered=item.entered, at=item.received_at,
                                       entry_id=item.entry_id)

    def _refused(self, kind: str, doc: PlannedDocument, recipient: str, at: datetime, exc: RejectedError,
                 tally: dict[str, int]) -> None:
        report = (exc.detail or {}).get("report") or {}
        sub = str(report.get("sub_indication") or "")
        key = sub or exc.code
        tally[key] = tally.get(key, 0) + 1
        explanation = SubIndication(sub).explanation if sub else exc.code
        self.refusals.add(kind=kind, document_id=doc.document_id, sender=doc.sender, recipient=recipient, at=at,
                          code=exc.code, indication=str(report.get("indication") or ""), sub_indication=sub,
                          explanation=explanation)

    # -- the recipients' side -------------------------------------------------------------
    def _dispatch_fetches(self) -> None:
        """Hand fetches to the workers, except those at or after the next certificate event."""
        boundary = self._next_event_moment()
        ready = [(d, f) for d, f in self.held if boundary is None or f.at < boundary]
        self.held = [(d, f) for d, f in self.held if boundary is not None and f.at >= boundary]
        for start in range(0, len(ready), CHUNK):
            chunk = ready[start:start + CHUNK]
            tasks = [ReceiveTask(doc.document_id, f.recipient, self.epochs[f.recipient], self.crl_epoch, f.at,
                                 doc.intent is Intent.SIGNED, f.acknowledge) for doc, f in chunk]
            future = self._track(self.pool.receive(tasks))
            for index, (doc, fetch) in enumerate(chunk):
                self.counts.fetches += 1
                self.seq += 1
                heapq.heappush(self.fetches, _PendingFetch(fetch.at, self.seq, future, index, doc, fetch.recipient,
                                                           fetch.acknowledge))

    def _acknowledge(self, *, before: datetime | None) -> None:
        """Record the fetches due before *before* (all if None) and post their receipts, in
        time order, as one hub transaction."""
        due: list[_PendingFetch] = []
        while self.fetches and (before is None or self.fetches[0].at < before):
            due.append(heapq.heappop(self.fetches))
        if not due:
            return
        wait({pending.future for pending in due})  # inside the batch nothing waits for a worker
        with self.service.batch():
            for pending in due:
                self.service.record_fetch(body=pending.recipient, document_id=pending.document.document_id,
                                          at=pending.at)
                if pending.acknowledge:
                    self._post_receipt(pending)

    def _post_receipt(self, pending: _PendingFetch) -> None:
        counts = self.counts
        receipt = pending.future.result()[pending.index]
        if receipt is not None:
            counts.signatures += 1
            counts.verifications += 1 + (receipt.verification != "UNSIGNED")
            counts.verifications_stamped += receipt.verification != "UNSIGNED"
            counts.timestamps += receipt.verdict.accepted
            try:
                self.service.acknowledge(body=pending.recipient, document_id=pending.document.document_id,
                                         statement=receipt.statement, signature=receipt.signature, at=pending.at,
                                         verdict=receipt.verdict)
            except RejectedError as exc:
                self._refused("receipt", pending.document, pending.recipient, pending.at, exc,
                              counts.receipts_refused)
                return
            counts.receipts += 1
            counts.receipts_rejecting += receipt.status is ReceiptStatus.REJECTED


def _finish(scenario: Scenario, service: ExchangeService, output: Path,
            counts: Counts) -> tuple[MeasuresReport, outputs.Written]:
    """Read the register back once: write the CSVs and compute the measures from the same rows."""
    register_path, incoming_path = output / "register.csv", output / "incoming.csv"
    with outputs.atomic(register_path) as reg_out, outputs.atomic(incoming_path) as inc_out:
        report = compute(outputs.register_rows(service.register_entries(), reg_out),
                         outputs.incoming_rows(service.incoming_entries(), inc_out),
                         scenario.registry, scenario.period, scenario.targets, by="month")
    met = outputs.first_met(report)
    simulation = {
        "scenario": scenario.name,
        "file": Path(scenario.source).name,
        "seed": scenario.seed,
        "bodies": len(scenario.registry),
        "period": {"start": scenario.start.isoformat(), "end": scenario.end.isoformat()},
        "first_met": {name: (m.period.label if m else None) for name, m in met.items()},
        "counts": counts.to_dict(),
    }
    json_path, csv_path, png_path = outputs.write_measures(output, report, simulation)
    return report, outputs.Written(register=register_path, incoming=incoming_path,
                                   refusals=output / "refusals.csv", measures_json=json_path,
                                   measures_csv=csv_path, chart=png_path)
