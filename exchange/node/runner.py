"""A node process of the demo: one body following its plan against a real hub, over HTTP.

``python -m exchange.node.runner --plan PLAN.json --hub URL`` is started by
:mod:`exchange.simulate.demo`, one process per body. The plan (:class:`NodePlan`, JSON) lists
what the body sends and when (seconds after the start signal), and the documents it receives
from outside agencies (K3). Meanwhile the node polls its inbox: it downloads each document,
validates the signature itself (:func:`exchange.node.node_verifier`) and answers with a signed
receipt, like ``exchange node fetch`` and ``ack``.

The orchestrator talks to the node through its standard streams, so nothing is lost and no
pipe fills up: the node writes one JSON object per line to stdout (``ready``, ``sent``,
``refused``, ``received``, ``acknowledged``, ``incoming``, ``locked``, ``renewed``,
``sent-all``, ``done``, ``error``: :mod:`exchange.wire.node_events`) and reads ``go`` and
``drain`` lines from stdin. When
stdin closes (the orchestrator stopped or died) the node exits at once: a node never outlives
its demo.

A revoked certificate is met as in real life: the hub refuses the session
(``certificate-revoked``), the body keeps writing and signing documents with the key it has,
and waits for the CA to renew its certificate; the documents it signed meanwhile are then sent
and refused by the hub as ``REVOKED``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import traceback
import zlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from exchange.clock import Clock, ClockFile, SystemClock
from exchange.cms import sign_detached
from exchange.domain.documents import Classification, DocumentMetadata
from exchange.errors import AuthError, ExchangeError, RejectedError
from exchange.node.agent import Fetched, acknowledge, fetch, node_verifier
from exchange.node.client import HubClient, RetryPolicy, body_trust
from exchange.pki import Credential, KeyStore
from exchange.wire import node_events as events
from exchange.wire.node_events import NodeEvent, encode_event

#: how often a locked-out node looks for its renewed certificate, in seconds
RENEWAL_POLL = 0.3


@dataclass(frozen=True)
class PlannedSend:
    """One document the body sends: how (signed, unsigned, paper), to whom, and when."""

    at: float  # seconds after the start signal
    message_id: str
    recipients: tuple[str, ...]
    intent: str  # signed | unsigned | paper
    sample: int  # index into NodePlan.documents
    number: str
    doc_type: str
    subject: str
    altered: bool = False  # signed, then changed in transit: the hub must refuse it

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlannedSend:
        """A planned send from the plan's JSON (recipients as a tuple)."""
        return cls(**{**data, "recipients": tuple(data["recipients"])})


@dataclass(frozen=True)
class PlannedArrival:
    """A document from an outside (state) agency arriving at the body (K3)."""

    at: float
    from_agency: str
    scanned: bool
    entered: bool
    sample: int
    number: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlannedArrival:
        """A planned arrival from the plan's JSON."""
        return cls(**data)


@dataclass(frozen=True)
class NodePlan:
    """Everything one node process needs; written by the orchestrator as JSON."""

    body: str
    keys_dir: Path
    out_dir: Path  # where received documents are written
    documents: tuple[Path, ...]  # sample payloads
    sends: tuple[PlannedSend, ...]
    arrivals: tuple[PlannedArrival, ...] = ()
    receipt_share: float = 1.0  # of received documents answered with a signed receipt
    poll_interval: float = 1.0  # seconds between inbox polls
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    clock_file: Path | None = None  # the demo's simulated clock (exchange.clock.ClockFile); None: real time

    def to_json(self) -> str:
        """The plan as the JSON the orchestrator writes for the node process (paths as strings)."""
        data = asdict(self)
        data.update(keys_dir=str(self.keys_dir), out_dir=str(self.out_dir),
                    documents=[str(p) for p in self.documents],
                    clock_file=str(self.clock_file) if self.clock_file else None)
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> NodePlan:
        """A plan read back from :meth:`to_json`'s JSON (optional fields defaulted)."""
        data = json.loads(text)
        return cls(body=data["body"], keys_dir=Path(data["keys_dir"]), out_dir=Path(data["out_dir"]),
                   documents=tuple(Path(p) for p in data["documents"]),
                   sends=tuple(PlannedSend.from_dict(s) for s in data["sends"]),
                   arrivals=tuple(PlannedArrival.from_dict(a) for a in data.get("arrivals", ())),
                   receipt_share=float(data.get("receipt_share", 1.0)),
                   poll_interval=float(data.get("poll_interval", 1.0)), seed=int(data.get("seed", 0)),
                   extra=dict(data.get("extra", {})),
                   clock_file=Path(data["clock_file"]) if data.get("clock_file") else None)


def altered_in_transit(content: bytes) -> bytes:
    """The bytes with one byte changed in the middle, as a faulty relay or an attacker would."""
    if not content:
        return b"\x00"
    middle = len(content) // 2
    return content[:middle] + bytes([content[middle] ^ 0x20]) + content[middle + 1:]


class _Control:
    """The orchestrator's lines on stdin: ``go``, ``drain``; end of input means stop."""

    def __init__(self, stream: TextIO) -> None:
        self.go = threading.Event()
        self.drain = threading.Event()
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True, name="control")
        self._thread.start()

    def _read(self, stream: TextIO) -> None:
        for line in stream:
            word = line.strip()
            if word == "go":
                self.go.set()
            elif word == "drain":
                self.drain.set()
            elif word == "stop":
                break
        self.stop.set()
        self.go.set()  # wake a node still waiting to start

    def wait(self, seconds: float) -> None:
        self.stop.wait(max(0.0, seconds))


class _Stopped(Exception):
    """The orchestrator closed our stdin: exit now."""


@dataclass
class _Pending:
    """A document written while the body was locked out, with the signature made then."""

    send: PlannedSend | None = None
    arrival: PlannedArrival | None = None
    signature: bytes | None = None


class Node:
    """One body's process: sends per plan, receives, verifies, acknowledges; reports as JSON lines."""

    def __init__(self, plan: NodePlan, hub_url: str, *, out: TextIO, control: _Control) -> None:
        self.plan = plan
        self.hub_url = hub_url
        self.out = out
        self.control = control
        self.store = KeyStore.at(plan.keys_dir)
        self.clock: Clock = ClockFile(plan.clock_file) if plan.clock_file else SystemClock()
        self.credential = self.store.credential(plan.body)
        self.client = self._client()
        self.seen: set[str] = set()
        self.locked = False
        self.backlog: list[_Pending] = []
        self.unacknowledged: list[Fetched] = []  # receipts to sign again after a renewal
        self.payloads: dict[int, bytes] = {}

    # -- reporting -----------------------------------------------------------------------
    def emit(self, event: NodeEvent) -> None:
        """Report *event* to the orchestrator: one line on stdout, flushed at once."""
        self.out.write(encode_event(event) + "\n")
        self.out.flush()

    # -- the run -------------------------------------------------------------------------
    def run(self) -> int:
        """Log in, report ready, then on ``go`` send and receive by the plan until every send is
        done and ``drain`` asks it to finish; returns the exit status (0, also when stopped)."""
        self.client.authenticate()
        self.emit(events.Ready(body=self.plan.body))
        self.control.go.wait()
        if self.control.stop.is_set():
            return 0
        start = time.monotonic()
        actions: list[PlannedSend | PlannedArrival] = sorted(
            [*self.plan.sends, *self.plan.arrivals], key=lambda a: a.at)
        next_poll = 0.0
        sent_all = False
        try:
            while True:
                now = time.monotonic() - start
                while actions and actions[0].at <= now:
                    self._act(actions.pop(0))
                if self.locked:
                    self._check_renewal()
                elif now >= next_poll:
                    self._receive()
                    next_poll = now + self.plan.poll_interval
                if not sent_all and not actions and not self.backlog:
                    sent_all = True
                    self.emit(events.SentAll(body=self.plan.body))
                if sent_all and not self.locked and self.control.drain.is_set():
                    while self._receive():  # until nothing new arrives
                        pass
                    self.emit(events.Done(body=self.plan.body))
                    return 0
                due = [actions[0].at - now] if actions else []
                pause = min([*due, RENEWAL_POLL if self.locked else max(0.0, next_poll - now), 0.2])
                self.control.wait(pause)
                if self.control.stop.is_set():
                    raise _Stopped
        except _Stopped:
            return 0
        finally:
            self.client.close()

    def _client(self) -> HubClient:
        return HubClient(self.hub_url, credential=self.credential,
                         retry=RetryPolicy(attempts=6, backoff=0.2, max_backoff=2.0), timeout=30.0,
                         clock=self.clock.now,
                         # a TLS client certificate is checked at the real time, not the demo's
                         verify=body_trust(self.hub_url, self.store, self.plan.body, at=SystemClock().now()))

    def _now(self) -> datetime:
        return self.clock.now()

    def _payload(self, sample: int) -> bytes:
        if sample not in self.payloads:
            self.payloads[sample] = self.plan.documents[sample % len(self.plan.documents)].read_bytes()
        return self.payloads[sample]

    # -- sending -------------------------------------------------------------------------
    def _act(self, action: PlannedSend | PlannedArrival) -> None:
        pending = _Pending(send=action) if isinstance(action, PlannedSend) else _Pending(arrival=action)
        if pending.send is not None and pending.send.intent == "signed":
            # The clerk signs when the document is written, with the key the body has then.
            pending.signature = sign_detached(self._payload(pending.send.sample), self.credential, at=self._now())
        if self.locked:
            self.backlog.append(pending)
            return
        try:
            self._deliver(pending)
        except AuthError as exc:
            if not self._revoked(exc):
                raise
            self.backlog.append(pending)

    def _deliver(self, pending: _Pending) -> None:
        if pending.arrival is not None:
            self._arrival(pending.arrival)
            return
        send = pending.send
        assert send is not None
        metadata = DocumentMetadata.from_dict({
            "recipients": list(send.recipients), "subject": send.subject, "number": send.number,
            "doc_type": send.doc_type, "doc_date": self._now().date().isoformat(),
            "classification": Classification.NORMAL.value, "message_id": send.message_id,
        })
        name = self.plan.documents[send.sample % len(self.plan.documents)].name
        if send.intent == "paper":
            doc = self.client.send_paper(metadata=metadata)
            self.emit(events.Sent(body=self.plan.body, id=doc.id, channel="paper", rows=len(send.recipients)))
            return
        content = self._payload(send.sample)
        if send.altered:
            content = altered_in_transit(content)
        try:
            doc = self.client.send(content, metadata=metadata, sign=False, filename=name,
                                   signature=pending.signature)
        except RejectedError as exc:
            report = (exc.detail or {}).get("report") or {} if isinstance(exc.detail, dict) else {}
            self.emit(events.Refused(body=self.plan.body, id=(exc.detail or {}).get("document_id"), code=exc.code,
                                     sub=report.get("sub_indication") or exc.code, rows=len(send.recipients),
                                     altered=send.altered))
            return
        self.emit(events.Sent(body=self.plan.body, id=doc.id, channel=doc.channel, rows=len(send.recipients)))

    def _arrival(self, arrival: PlannedArrival) -> None:
        scan = self.plan.documents[arrival.sample % len(self.plan.documents)] if arrival.scanned else None
        row = self.client.register_incoming(from_agency=arrival.from_agency, scan=scan, number=arrival.number,
                                            subject="Văn bản đến từ cơ quan ngoài Đảng", entered=arrival.entered)
        self.emit(events.Incoming(body=self.plan.body, id=row.id, scanned=row.scanned, entered=arrival.entered))

    # -- a revoked certificate -----------------------------------------------------------
    def _revoked(self, exc: ExchangeError) -> bool:
        """Whether *exc* means our certificate was revoked; if so, the node is now locked out."""
        serial = self.credential.certificate.serial_number
        revoked = exc.code == "certificate-revoked"
        if not revoked:  # e.g. refused at /api/auth/token: believe the CA's CRL, not a guess
            try:
                revoked = self.store.crl().get_revoked_certificate_by_serial_number(serial) is not None
            except ExchangeError:
                revoked = False
        if revoked and not self.locked:
            self.locked = True
            self.emit(events.Locked(body=self.plan.body, serial=f"{serial:x}", reason=exc.code))
        return revoked

    def _check_renewal(self) -> None:
        """Locked out: once the CA has issued a new certificate, log in with it and catch up."""
        try:
            current = self.store.certificate(self.plan.body)
        except ExchangeError:
            return  # being rewritten right now
        if current.serial_number == self.credential.certificate.serial_number:
            return
        self.credential = self.store.credential(self.plan.body)
        self.client.close()
        self.client = self._client()
        self.client.authenticate()
        self.locked = False
        self.emit(events.Renewed(body=self.plan.body, serial=f"{current.serial_number:x}"))
        backlog, self.backlog = self.backlog, []
        for pending in backlog:  # signed with the revoked key: the hub refuses those (REVOKED)
            self._deliver(pending)
        waiting, self.unacknowledged = self.unacknowledged, []
        for got in waiting:  # receipts refused with the revoked key, signed again with the new one
            receipt = acknowledge(self.client, got)
            self.emit(events.Acknowledged(body=self.plan.body, id=got.document.id, status=receipt.status))

    # -- receiving -----------------------------------------------------------------------
    def _receive(self) -> int:
        """One pass over the inbox: fetch, verify and acknowledge what is new; how many."""
        try:
            return self._receive_new()
        except AuthError as exc:  # revoked while receiving: wait for the new certificate
            if self._revoked(exc):
                return 0
            raise

    def _receive_new(self) -> int:
        fresh = [d for d in self.client.inbox() if d.id not in self.seen]
        if not fresh:
            return 0
        verifier = node_verifier(self.store, self.client)  # the current CRLs, local and the hub's
        for doc in sorted(fresh, key=lambda d: d.created_at):
            if self.control.stop.is_set():
                raise _Stopped
            got = fetch(self.client, doc.id, out_dir=self.plan.out_dir, verifier=verifier, at=self._now,
                        decrypt_with=self._decryption_keys())
            self.seen.add(doc.id)
            verdict = got.verdict.indication.value if got.verdict is not None else "UNSIGNED"
            self.emit(events.Received(body=self.plan.body, id=doc.id, sender=doc.sender, verdict=verdict))
            if self._answers(doc.id):
                try:
                    receipt = acknowledge(self.client, got)
                except RejectedError as exc:
                    # Revoked between the hub's session check and its check of the receipt's
                    # signature: answer again with the renewed certificate.
                    if not self._revoked(exc):
                        raise
                    self.unacknowledged.append(got)
                    return len(fresh)
                self.emit(events.Acknowledged(body=self.plan.body, id=doc.id, status=receipt.status))
        return len(fresh)

    def _decryption_keys(self) -> list[Credential]:
        """The body's encryption keys, current and archived (read again after a renewal)."""
        body = self.plan.body
        return self.store.encryption_credentials(body) if self.store.has_encryption(body) else []

    def _answers(self, document_id: str) -> bool:
        """Whether this body returns a signed receipt for the document (deterministic share)."""
        draw = zlib.crc32(f"{self.plan.seed}/{self.plan.body}/{document_id}".encode()) / 2**32
        return draw < self.plan.receipt_share


def main(argv: list[str] | None = None) -> int:
    """Entry point of a node process; exit status 0 when done or stopped, 1 on an error."""
    parser = argparse.ArgumentParser(prog="python -m exchange.node.runner", description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, required=True, help="the node's plan (JSON)")
    parser.add_argument("--hub", required=True, help="the hub's URL")
    args = parser.parse_args(argv)
    out = sys.stdout
    body = "?"
    try:
        plan = NodePlan.from_json(args.plan.read_text(encoding="utf-8"))
        body = plan.body
        node = Node(plan, args.hub, out=out, control=_Control(sys.stdin))
        return node.run()
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the process edge: one line for the orchestrator, the traceback to the log
        traceback.print_exc(file=sys.stderr)
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        out.write(encode_event(events.Error(body=body, message=message)) + "\n")
        out.flush()
        return 1


if __name__ == "__main__":
    sys.exit(main())
