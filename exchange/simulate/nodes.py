"""The simulated bodies' own work: sign documents; fetch, verify and acknowledge what arrives.

This runs in worker processes (one :class:`Nodes` per process) while the main process plays
the hub's database, so a simulation uses every core. Like a real node, a worker never trusts
the hub's verdict: it fetches the bytes through the hub's service, validates the signature with
its own verifier (the PKI's root and CRL, :func:`exchange.node.node_verifier`) and signs a
receipt that repeats the SHA-256 of what it received.

The hub's own CPU work on each signature (validation with the hub's trust, the signer check,
the hub's time-stamp: :func:`exchange.hub.verdicts.judge`) runs here too, right after the
signature is made, as a hub with several processes would spread it; the main process records
the :class:`~exchange.hub.verdicts.Verdict` through the service, which checks it concerns the
bytes, sender and time it records.

Keys and the CRL change during a run (renewals, revocations). Tasks carry the *epoch* of the
credential and of the CRL they must use; the runner never has tasks of two epochs in flight,
so reloading from the key directory when the epoch moves on is enough.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from exchange.cms import Verifier, digest, sign_detached, sign_digest
from exchange.domain.documents import ReceiptStatus
from exchange.domain.receipts import ReceiptStatement
from exchange.hub import ExchangeService, HubSettings, build_service
from exchange.hub.verdicts import Verdict, judge
from exchange.node import node_verifier
from exchange.pki import Credential, KeyStore

#: the hub's service in a simulation re-reads the CRL only when told (simulated time)
NEVER_RELOAD = 1e12


@dataclass(frozen=True)
class NodeSetup:
    """Where a worker finds the run's keys, the hub's store and the payloads (picklable)."""

    keys_dir: Path
    data_dir: Path
    bodies_file: Path
    documents: tuple[Path, ...]

    def hub_settings(self) -> HubSettings:
        """The settings of the hub a worker reads documents through: the run's keys and data,
        CRLs never re-read behind its back, nothing fsynced (a run is rebuilt from its seed)."""
        return HubSettings(keys_dir=self.keys_dir, data_dir=self.data_dir, bodies_file=self.bodies_file,
                           crl_reload_interval=NEVER_RELOAD, durable=False, scratch=True)


@dataclass(frozen=True, slots=True)
class SignTask:
    """Sign a payload as *body*, then judge it as the hub will receive it."""

    body: str
    epoch: int  # which of the body's successive keys
    sample: int  # the payload's index in NodeSetup.documents
    at: datetime  # signing time (and when the hub receives it)
    crl_epoch: int  # the hub's CRLs at that time
    altered: str = ""  # a message id: the bytes are altered in transit (see in_transit)


@dataclass(frozen=True, slots=True)
class Signed:
    """A document's signature as sent, and the hub's verdict on it as received."""

    signature: bytes
    verdict: Verdict


def in_transit(content: bytes, altered: str) -> bytes:
    """The bytes the hub receives: *content*, with a line appended if *altered* (a message id)
    names a document changed after its sender signed it."""
    return content + f"\n[altered in transit: {altered}]\n".encode() if altered else content


@dataclass(frozen=True, slots=True)
class ReceiveTask:
    """Fetch, verify and maybe acknowledge one document as *recipient*, with its key of *epoch*
    and the CRL of *crl_epoch*."""

    document_id: str
    recipient: str
    epoch: int  # the recipient's key epoch (it signs the receipt)
    crl_epoch: int
    at: datetime  # when it fetches, verifies and acknowledges
    signed: bool
    acknowledge: bool


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt ready to post: the statement, its signature, and the node's own verdict."""

    statement: bytes
    signature: bytes
    verification: str  # TOTAL_PASSED, TOTAL_FAILED, INDETERMINATE or UNSIGNED
    status: ReceiptStatus
    verdict: Verdict  # the hub's, on the receipt's signature


class Nodes:
    """Every simulated body's side, in one process (keys loaded once, reloaded on a new epoch)."""

    def __init__(self, setup: NodeSetup) -> None:
        self.setup = setup
        self.store = KeyStore.at(setup.keys_dir)
        self.contents = [p.read_bytes() for p in setup.documents]
        self.digests = [digest(c) for c in self.contents]
        self._credentials: dict[str, tuple[int, Credential]] = {}
        self._verifier: tuple[int, Verifier] | None = None
        self._service: ExchangeService | None = None
        self._hub_crl_epoch = 0

    def credential(self, body: str, epoch: int) -> Credential:
        """*body*'s signing credential of *epoch*, reloaded from the key directory when the epoch
        moves on."""
        cached = self._credentials.get(body)
        if cached is None or cached[0] != epoch:
            cached = self._credentials[body] = (epoch, self.store.credential(body))
        return cached[1]

    def verifier(self, crl_epoch: int) -> Verifier:
        """The nodes' own verifier with the CRL of *crl_epoch*, rebuilt when the epoch moves on."""
        if self._verifier is None or self._verifier[0] != crl_epoch:
            self._verifier = (crl_epoch, node_verifier(self.store))
        return self._verifier[1]

    @property
    def service(self) -> ExchangeService:
        """The hub's service over the run's store, built on first use (fetching goes through it)."""
        if self._service is None:
            self._service = build_service(self.setup.hub_settings())
        return self._service

    def hub_judge(self, *, sender: str, content: bytes, signature: bytes, at: datetime, crl_epoch: int) -> Verdict:
        """The hub's verdict on *signature*, with the hub's trust as it stands at *crl_epoch*."""
        service = self.service
        if crl_epoch != self._hub_crl_epoch:
            service.trust.reload()
            self._hub_crl_epoch = crl_epoch
        return judge(service.trust, sender=sender, content=content, signature=signature, at=at)

    def sign(self, tasks: list[SignTask]) -> list[Signed]:
        """Detached CMS signatures over the payloads' precomputed SHA-256, each with the hub's
        verdict on it over the bytes the hub receives."""
        done = []
        for t in tasks:
            signature = sign_digest(self.digests[t.sample], self.credential(t.body, t.epoch), at=t.at)
            received = in_transit(self.contents[t.sample], t.altered)
            verdict = self.hub_judge(sender=t.body, content=received, signature=signature, at=t.at,
                                     crl_epoch=t.crl_epoch)
            # The signature the hub keeps (time-stamped if accepted) goes into the shared blob
            # store here, as another hub process would put it: the main process then finds it
            # stored. Named by its SHA-256, it is the same file whoever writes it.
            self.service.blobs.put_bytes(verdict.signature)
            done.append(Signed(signature, verdict))
        return done

    def receive(self, tasks: list[ReceiveTask]) -> list[Receipt | None]:
        """Fetch each document through the hub's service; verify and sign a receipt if the
        recipient acknowledges (None if it only fetches)."""
        # One session for the whole list: its reads write nothing, and opening a session and
        # a connection per fetch cost more than the query itself.
        with self.service.batch():
            return [self._receive(t) for t in tasks]

    def _receive(self, task: ReceiveTask) -> Receipt | None:
        service = self.service
        # Read only: the main process records the fetch in the hub's database, in time order,
        # so that the workers never wait for its write lock.
        path, signature = service.download(body=task.recipient, document_id=task.document_id, at=task.at,
                                           record=False)
        if not task.acknowledge:
            return None
        status, reason = ReceiptStatus.RECEIVED, ""
        if task.signed and signature is not None:
            report = self.verifier(task.crl_epoch).verify(path, signature, at=task.at)
            sha = report.document_sha256 or digest(path).hex()
            verification = report.indication.value
            if not report.passed:
                status, reason = ReceiptStatus.REJECTED, report.summary()
        else:
            sha, verification = digest(path).hex(), "UNSIGNED"
        statement = ReceiptStatement(
            document_id=task.document_id, sha256=sha, status=status, time=task.at.replace(microsecond=0),
            receiver=task.recipient, reason=reason, verification=verification,
        ).to_bytes()
        signature = sign_detached(statement, self.credential(task.recipient, task.epoch), at=task.at)
        verdict = self.hub_judge(sender=task.recipient, content=statement, signature=signature, at=task.at,
                                 crl_epoch=task.crl_epoch)
        return Receipt(statement, signature, verification, status, verdict)

    def close(self) -> None:
        """Release the hub service's database connections, if it was built."""
        if self._service is not None:
            self._service.engine.dispose()
            self._service = None


# -- worker-process entry points (ProcessPoolExecutor needs module-level functions) ---------
# Each worker process holds its own Nodes, made by the pool's initializer: this is the
# process's state, not a shared singleton; the main process never touches it.
_WORKER: Nodes | None = None


def start_worker(setup: NodeSetup) -> None:
    """Pool initializer. Ctrl-C is the main process's to handle: it stops the pool itself."""
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER = Nodes(setup)


def sign_in_worker(tasks: list[SignTask]) -> list[Signed]:
    """Sign *tasks* in this worker process (after :func:`start_worker`)."""
    return _worker().sign(tasks)


def receive_in_worker(tasks: list[ReceiveTask]) -> list[Receipt | None]:
    """Receive *tasks* in this worker process: a receipt for each, or None where the recipient
    only fetches."""
    return _worker().receive(tasks)


def _worker() -> Nodes:
    if _WORKER is None:
        raise RuntimeError("start_worker was not run in this worker process")
    return _WORKER
