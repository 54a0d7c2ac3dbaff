"""The demo: a real hub process and one node process per body, exchanging signed documents.

:class:`Demo` does it in plain steps, each a method, so the CLI (``exchange demo``) only
presents it:

1. :meth:`Demo.prepare` replaces the demo folder (``demo-data/`` by default; a folder it did
   not make is never deleted), writes the bodies file of the run, creates a fresh demo PKI in
   ``FOLDER/keys`` (the user's ``keys/`` is never touched: the demo revokes a certificate) and
   one plan per node (:mod:`exchange.simulate.demo_plan`).
2. :meth:`Demo.start` creates two people in a fresh SQLite database in ``FOLDER/hub`` (a
   trainer and an auditor, random passwords in ``FOLDER/logins.txt``, printed by the CLI),
   starts ``python -m exchange hub serve --training --tls`` on loopback, waits until it
   answers, then starts the node
   processes (``python -m exchange.node.runner``) and waits until each has logged in. Every
   child's pid is written to ``FOLDER/pids.json``.
3. :meth:`Demo.run_traffic` says ``go``; nodes send, receive, verify and acknowledge over
   HTTP and report each step as a JSON line on their stdout, read by one thread per node into
   a queue (no lost line, no full pipe). The CA revokes and renews a certificate on schedule;
   K1–K3 are polled from the hub's ``GET /api/measures`` every second. A node that fails
   stops the run with one line naming it.
4. :meth:`Demo.final_report` computes the measures over the hub's database by the hub's own
   path (:func:`exchange.hub.measures.measures_report`).
5. :meth:`Demo.stop` (also on leaving the ``with`` block, whatever happened) closes the nodes'
   stdin, then terminates and if need be kills every process it started, hub last.

Children run in their own session, so Ctrl-C reaches only the orchestrator, which stops them in
order; on Linux they also get SIGTERM if the orchestrator itself dies, and nodes exit when
their stdin closes.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Self
from urllib.parse import urlencode

import httpx

from exchange.clock import ClockFile, SimulatedClock, SystemClock
from exchange.domain.documents import Channel
from exchange.errors import ExchangeError, InputError
from exchange.metrics import MeasuresReport, Period, TargetProfile
from exchange.node.client import hub_trust
from exchange.pki import KeyAlgorithm, KeyStore, Validity, init_pki, renew, revoke
from exchange.ports import port_is_free
from exchange.simulate.demo_plan import DemoPlan, build_plan, scenario_for

DEFAULT_PORT = 8000
#: how many ports after the default one are tried when it is busy
PORT_TRIES = 20
MARKER = ".exchange-demo"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 5.0
#: how long the nodes may take past the planned traffic before the run is called stuck
FINISH_GRACE = 120.0


class DemoError(ExchangeError):
    """Raised when the demo's hub does not start or answer in time, a node does not exit, or a step
    times out; the message is one line naming the process and its log."""

    code = "demo-failed"


@dataclass(frozen=True)
class DemoConfig:
    """How ``exchange demo`` runs: its folder (replaced each run), how many bodies and documents,
    the port, the seed, how long, an optional scenario or bodies file, the key algorithm, and
    HTTPS or HTTP."""

    folder: Path = Path("demo-data")
    bodies: int = 12
    documents: int = 150
    port: int | None = None  # None: DEFAULT_PORT or the next free one
    seed: int = 2015
    duration: float | None = None  # seconds of traffic; None: from the number of documents
    scenario_file: Path | None = None
    bodies_file: Path | None = None  # where the bodies are chosen from
    algorithm: KeyAlgorithm = KeyAlgorithm.RSA2048
    tls: bool = True  # HTTPS with a certificate from the demo PKI (issued at the real time)


@dataclass
class BodyProgress:
    """What one node has reported so far."""

    body: str
    kind: str
    planned: int
    state: str = "starting"  # starting, ready, sending, locked, sent-all, done, failed
    pid: int | None = None
    sent: Counter[str] = field(default_factory=Counter)  # by channel: signed_valid, unsigned, paper
    refused: Counter[str] = field(default_factory=Counter)  # by sub-indication
    received: int = 0
    acknowledged: int = 0
    incoming: int = 0
    scanned: int = 0
    error: str = ""

    @property
    def documents(self) -> int:
        """How many documents the node has sent or had refused so far."""
        return sum(self.sent.values()) + sum(self.refused.values())


@dataclass
class Progress:
    """A snapshot for the display: per body, the latest measures JSON, the clock."""

    bodies: dict[str, BodyProgress]
    planned: int
    elapsed: float = 0.0
    duration: float = 0.0
    phase: str = "starting"
    measures: dict[str, Any] | None = None

    @property
    def done(self) -> int:
        """How many documents every node together has sent or had refused so far."""
        return sum(b.documents for b in self.bodies.values())


@dataclass
class _Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    reader: threading.Thread | None = None


class Demo:
    """One demo run; use as a context manager so that every process is stopped at the end."""

    def __init__(self, config: DemoConfig, *, on_event: Callable[[str], None] = lambda _: None) -> None:
        self.config = config
        self.folder = config.folder
        self.on_event = on_event
        self.keys_dir = self.folder / "keys"
        self.hub_dir = self.folder / "hub"
        self.logs = self.folder / "logs"
        self.port = 0
        self.plan: DemoPlan | None = None
        self.progress: Progress | None = None
        self.hub: _Child | None = None
        self.nodes: dict[str, _Child] = {}
        self.lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self._poller_stop = threading.Event()
        self._poller: threading.Thread | None = None
        self.clock_path = self.folder / "clock.json"
        self.clock: SimulatedClock | None = None
        self._trust: ssl.SSLContext | bool | None = None
        self.logins: dict[str, str] = {}  # person → password, for the pages
        self._token = ""  # the auditor's, to read the measures
        #: (body, when) of each revocation the CA made during the run
        self.revocations: list[tuple[str, datetime]] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The hub's base URL (https unless the demo runs with ``--no-tls``)."""
        return f"{'https' if self.config.tls else 'http'}://127.0.0.1:{self.port}"

    def _verify(self) -> ssl.SSLContext | bool:
        """How the demo itself checks the hub: against the demo PKI's root, as every node does."""
        if self._trust is None:
            self._trust = hub_trust(self.url, self.keys_dir / "root-ca.pem")
        return self._trust

    # -- 1. prepare ----------------------------------------------------------------------
    def prepare(self) -> DemoPlan:
        """Choose the port, replace the folder, write bodies, PKI and plans; returns the plan."""
        self.port = self._choose_port()
        self._replace_folder()
        scenario = scenario_for(bodies=self.config.bodies, seed=self.config.seed,
                                bodies_file=self.config.bodies_file, scenario_file=self.config.scenario_file)
        plan = build_plan(scenario, documents=self.config.documents, keys_dir=self.keys_dir.resolve(),
                          out_dir=(self.folder / "nodes").resolve(), duration=self.config.duration,
                          clock_file=self.clock_path.resolve())
        bodies_file = self.folder / "bodies.toml"
        bodies_file.write_text(plan.bodies_toml(), encoding="utf-8")
        from exchange.domain.bodies import BodyRegistry

        # The programme's calendar: the clock stands at the scenario's first day until the
        # traffic starts, and the PKI is issued then (its certificates are valid in 2015). The
        # root and issuing CA also live until after today: the hub's TLS certificate is issued
        # by them at the real time, and TLS checks the whole chain at the real time.
        self.clock = plan.clock()
        ClockFile.write(self.clock_path, self.clock)
        until_now = (SystemClock().now() - self.clock.start).days + 400
        # The CRLs are promised for the whole simulated year: a year passes in the run's seconds, so a
        # CA re-issuing weekly would rewrite them many times a second (the hub refuses documents
        # with revocation-data-stale once its CRL is past nextUpdate). A revocation re-issues them.
        # The TSA too lives until after today, so that its 2015 tokens still prove something to
        # an auditor who verifies the demo's documents now (its certificate is inside the CA's).
        validity = Validity(root=max(Validity.root, until_now + 365), issuing=max(Validity.issuing, until_now),
                            tsa=max(Validity.tsa, until_now), crl=400)
        init_pki(KeyStore.at(self.keys_dir), BodyRegistry.from_toml(bodies_file), at=self.clock.start,
                 algorithm=self.config.algorithm, bodies_file=str(bodies_file.resolve()), validity=validity,
                 hub_url=self.url)
        plans = self.folder / "plans"
        plans.mkdir()
        for body, node in plan.nodes.items():
            (plans / f"{body}.json").write_text(node.to_json(), encoding="utf-8")
        self.plan = plan
        self.progress = Progress(
            bodies={b.id: BodyProgress(b.id, b.kind.value, len(plan.nodes[b.id].sends)) for b in plan.bodies},
            planned=plan.documents, duration=plan.duration)
        return plan

    def _choose_port(self) -> int:
        if self.config.port is not None:
            if not port_is_free(self.config.port):
                raise InputError(f"port {self.config.port} is already in use on 127.0.0.1; choose another "
                                 "--port, or leave it out to take the next free one", code="port-in-use")
            return self.config.port
        for port in range(DEFAULT_PORT, DEFAULT_PORT + PORT_TRIES):
            if port_is_free(port):
                if port != DEFAULT_PORT:
                    self.on_event(f"port {DEFAULT_PORT} is busy: the hub uses port {port}")
                return port
        raise InputError(f"ports {DEFAULT_PORT}–{DEFAULT_PORT + PORT_TRIES - 1} are all in use; give --port",
                         code="port-in-use")

    def _replace_folder(self) -> None:
        """Delete the previous run's folder (only one this command made, and not in use)."""
        folder = self.folder
        if folder.exists():
            if not (folder / MARKER).is_file():
                raise InputError(f"{folder}/ exists and was not made by `exchange demo`; remove it or give "
                                 "another --data folder", code="demo-folder")
            running = [pid for pid in _recorded_pids(folder / "pids.json") if _is_ours(pid)]
            if running:
                raise InputError(f"a demo is still running from {folder}/ (pid {running[0]}); stop it first",
                                 code="demo-running")
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / MARKER).write_text("made by `exchange demo`; replaced by the next run\n", encoding="utf-8")
        self.logs.mkdir()

    # -- 2. start ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the hub, wait for it, start every node and wait until each has logged in."""
        plan = self._plan()
        env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
        hub_log = self.logs / "hub.log"
        self._create_people()
        self.hub = self._spawn("hub", [
            sys.executable, "-m", "exchange", "hub", "serve", "--host", "127.0.0.1", "--port", str(self.port),
            "--keys", str(self.keys_dir), "--data", str(self.hub_dir), "--bodies", str(self.folder / "bodies.toml"),
            "--clock", str(self.clock_path), "--training", "--log-level", "warning",
            *(["--tls"] if self.config.tls else [])], log=hub_log, env=env, pipes=False)
        self._write_pids()
        self._wait_for_hub()
        for body in plan.nodes:
            self.nodes[body] = self._spawn(body, [
                sys.executable, "-m", "exchange.node.runner", "--plan", str(self.folder / "plans" / f"{body}.json"),
                "--hub", self.url], log=self.logs / f"{body}.log", env=env, pipes=True)
            self._progress().bodies[body].pid = self.nodes[body].process.pid
        self._write_pids()
        # Readers start once every child exists (no thread runs while a child is being forked).
        for child in self.nodes.values():
            child.reader = threading.Thread(target=_read_lines, args=(child.name, child.process.stdout, self.lines),
                                            daemon=True, name=f"read-{child.name}")
            child.reader.start()
        self._watch(until=lambda: all(b.state != "starting" for b in self._progress().bodies.values()),
                    timeout=START_TIMEOUT, what="the nodes to log in")

    def _create_people(self) -> None:
        """A trainer and an auditor in the hub's database, with random passwords (the pages need
        a login); the auditor's token reads the measures for the live table."""
        from exchange.hub.people import Accounts, Role, generate_password
        from exchange.hub.store.db import make_engine

        accounts = Accounts(make_engine(f"sqlite:///{self.hub_dir / 'hub.db'}"))
        try:
            now = datetime.now(UTC)
            for role in (Role.TRAINER, Role.AUDITOR):
                self.logins[role.value] = generate_password()
                accounts.add(name=role.value, role=role, password=self.logins[role.value], at=now)
            self._token = accounts.issue_token(Role.AUDITOR.value, at=now).secret
        finally:
            accounts.engine.dispose()
        path = self.folder / "logins.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("".join(f"{name} {password}\n" for name, password in self.logins.items()))

    def _spawn(self, name: str, argv: list[str], *, log: Path, env: dict[str, str], pipes: bool) -> _Child:
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv, stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
                stdout=subprocess.PIPE if pipes else out, stderr=out, env=env,
                start_new_session=True,
                # Safe here: children are started before the demo starts any thread of its own.
                preexec_fn=_die_with_parent if sys.platform == "linux" else None)  # noqa: PLW1509
        return _Child(name, process, log)

    def _wait_for_hub(self) -> None:
        assert self.hub is not None
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(timeout=2.0, verify=self._verify()) as http:
            while time.monotonic() < deadline:
                code = self.hub.process.poll()
                if code is not None:
                    tail = _last_line(self.hub.log)
                    if "address already in use" in self.hub.log.read_text(errors="replace").lower():
                        raise InputError(f"port {self.port} is already in use on 127.0.0.1; choose another --port",
                                         code="port-in-use")
                    raise DemoError(f"the hub did not start (exit {code}): {tail} (see {self.hub.log})")
                try:
                    if http.get(f"{self.url}/api/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise DemoError(f"the hub did not answer within {START_TIMEOUT:.0f} s (see {self.hub.log})")

    # -- 3. traffic ----------------------------------------------------------------------
    def run_traffic(self, *, refresh: Callable[[Progress], None] = lambda _: None) -> Progress:
        """Start the clocks, run the CA's events, watch until every node is done."""
        plan, progress = self._plan(), self._progress()
        # Start the simulated calendar for every process at once, then the nodes' schedules.
        self.clock = self._clock().started(at=time.time())
        ClockFile.write(self.clock_path, self.clock)
        self._poller = threading.Thread(target=self._poll_measures, daemon=True, name="measures")
        self._poller.start()
        self._tell_nodes("go")
        start = time.monotonic()
        progress.phase = "traffic"
        events = list(plan.ca_events)
        drained = False

        def finished() -> bool:
            nonlocal drained
            progress.elapsed = time.monotonic() - start
            while events and events[0].at <= progress.elapsed:
                self._ca(events.pop(0))
            states = [b.state for b in progress.bodies.values()]
            if not drained and not events and all(s in ("sent-all", "done") for s in states):
                drained = True
                progress.phase = "draining"
                self._tell_nodes("drain")
            return drained and all(s == "done" for s in states)

        self._watch(until=finished, timeout=plan.duration + FINISH_GRACE, what="the traffic to finish",
                    refresh=refresh)
        for child in self.nodes.values():
            try:
                child.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise DemoError(f"node {child.name} did not exit after its last document (see {child.log})") from None
        progress.phase = "done"
        progress.measures = self._fetch_measures() or progress.measures
        refresh(progress)
        return progress

    def _ca(self, event: Any) -> None:
        store = KeyStore.at(self.keys_dir)
        now = self._clock().now()
        if event.action == "revoke":
            cert = revoke(store, event.body, at=now, reason=event.reason)
            self.revocations.append((event.body, now.replace(microsecond=0)))
            self.on_event(f"CA, {now:%d %b %Y}: the certificate of {event.body} is revoked ({event.reason.value}, "
                          f"serial {cert.serial_number:x}); the hub reloads its CRL within a second")
        else:
            from exchange.domain.bodies import BodyRegistry

            body = BodyRegistry.from_toml(self.folder / "bodies.toml").get(event.body)
            cert = renew(store, body, at=now)
            self.on_event(f"CA, {now:%d %b %Y}: {event.body} has a new key and certificate "
                          f"(serial {cert.serial_number:x})")

    def _tell_nodes(self, word: str) -> None:
        for child in self.nodes.values():
            if child.process.stdin is not None and child.process.poll() is None:
                try:
                    child.process.stdin.write(f"{word}\n".encode())
                    child.process.stdin.flush()
                except (BrokenPipeError, OSError):
                    pass  # its exit is reported by _watch

    def _watch(self, *, until: Callable[[], bool], timeout: float, what: str,
               refresh: Callable[[Progress], None] = lambda _: None) -> None:
        """Handle the nodes' lines until *until()*; a dead hub or failed node is a DemoError."""
        deadline = time.monotonic() + timeout
        last_refresh = 0.0
        while not until():
            try:
                body, line = self.lines.get(timeout=0.1)
                self._handle(body, line)
                while True:
                    body, line = self.lines.get_nowait()
                    self._handle(body, line)
            except queue.Empty:
                pass
            self._check_processes()
            if time.monotonic() - last_refresh > 0.25:
                last_refresh = time.monotonic()
                refresh(self._progress())
            if time.monotonic() > deadline:
                raise DemoError(f"timed out waiting for {what} ({timeout:.0f} s); logs in {self.logs}/")

    def _handle(self, body: str, line: str | None) -> None:
        state = self._progress().bodies[body]
        if line is None:  # end of its output: _check_processes judges the exit
            return
        try:
            event = json.loads(line)
        except ValueError:
            return  # not ours (a stray print); the log has the details
        kind = event.get("e")
        if kind == "ready":
            state.state = "ready"
        elif kind == "sent":
            state.sent[event["channel"]] += 1
            state.state = "sending" if state.state in ("ready", "sending") else state.state
        elif kind == "refused":
            state.refused[event.get("sub") or event.get("code") or "refused"] += 1
        elif kind == "received":
            state.received += 1
        elif kind == "acknowledged":
            state.acknowledged += 1
        elif kind == "incoming":
            state.incoming += 1
            state.scanned += bool(event.get("scanned")) and bool(event.get("entered"))
        elif kind == "locked":
            state.state = "locked"
            self.on_event(f"{body}: the hub ends its session (certificate revoked); it keeps signing with the "
                          "old key and waits for a new certificate")
        elif kind == "renewed":
            state.state = "sending"
            self.on_event(f"{body}: logged in with its new certificate; sends what it signed meanwhile")
        elif kind == "sent-all":
            state.state = "sent-all"
        elif kind == "done":
            state.state = "done"
        elif kind == "error":
            state.state, state.error = "failed", str(event.get("message", ""))

    def _check_processes(self) -> None:
        if self.hub is not None and self.hub.process.poll() is not None:
            raise DemoError(f"the hub stopped unexpectedly (exit {self.hub.process.returncode}): "
                            f"{_last_line(self.hub.log)} (see {self.hub.log})")
        for child in self.nodes.values():
            code = child.process.poll()
            state = self._progress().bodies[child.name]
            if code is not None and (code != 0 or state.state != "done"):
                reason = state.error or _last_line(child.log) or f"exit status {code}"
                state.state = "failed"
                raise DemoError(f"node {child.name} failed (exit {code}): {reason} (see {child.log})")

    def _poll_measures(self) -> None:
        while not self._poller_stop.wait(1.0):
            found = self._fetch_measures()
            if found is not None and self.progress is not None:
                self.progress.measures = found

    def _fetch_measures(self) -> dict[str, Any] | None:
        try:
            response = httpx.get(f"{self.url}/api/measures", params={"period": self.period().label}, timeout=5.0,
                                 verify=self._verify(), headers={"Authorization": f"Bearer {self._token}"})
            return response.json() if response.status_code == 200 else None  # type: ignore[no-any-return]
        except (httpx.HTTPError, ValueError):
            return None

    # -- 4. the result -------------------------------------------------------------------
    def period(self) -> Period:
        """The period the run's traffic falls in on the programme's calendar: the whole
        year(s) of the scenario (``2015`` for the built-in one)."""
        scenario = self._plan().scenario
        years = scenario.end.year - scenario.start.year + 1
        return Period.months_from(date(scenario.start.year, 1, 1), 12 * years)

    def halves(self) -> list[Period]:
        """The half-years of :meth:`period` (``2015H1``, ``2015H2``): the six-monthly reports."""
        period = self.period()
        return [Period.parse(f"{year}H{half}") for year in range(period.start.year, period.end.year)
                for half in (1, 2)] or [period]

    def dashboard_url(self) -> str:
        """The dashboard's address for the run's period (``/?period=2015``)."""
        return f"{self.url}/?{urlencode({'period': self.period().label})}"

    def final_report(self, period: Period | None = None, *, by: str | None = "body") -> MeasuresReport:
        """K1–K3 over the hub's database for *period* (default :meth:`period`), by the path the
        hub's own pages take."""
        from exchange.hub import build_service
        from exchange.hub.measures import measures_report
        from exchange.hub.settings import HubSettings

        service = build_service(HubSettings(keys_dir=self.keys_dir, data_dir=self.hub_dir,
                                            bodies_file=self.folder / "bodies.toml"))
        try:
            return measures_report(service, period or self.period(), profile=TargetProfile.builtin("2015"),
                                   by=by)
        finally:
            service.engine.dispose()

    @property
    def auditor_token(self) -> str:
        """The bearer token of the demo's auditor (for curl and scripts against the hub)."""
        return self._token

    def revocation_proofs(self) -> list[RevocationProof]:
        """For each body revoked during the run: its documents the hub accepted before the
        revocation, validated again now (with the CRL that revokes it) as they are stored, with
        the hub's time-stamp, and as their signer made them, without it."""
        from exchange.cms import strip_timestamps
        from exchange.hub import build_service
        from exchange.hub.settings import HubSettings

        if not self.revocations:
            return []
        service = build_service(HubSettings(keys_dir=self.keys_dir, data_dir=self.hub_dir,
                                            bodies_file=self.folder / "bodies.toml"))
        try:
            service.trust.reload()
            now = self._clock().now()  # the run's calendar: its CRLs are fresh then, not today
            verifier = service.trust.verifier()
            proofs = []
            for body, revoked_at in self.revocations:
                docs = _all_documents(service, sender=body, channel=Channel.SIGNED_VALID, end=revoked_at)
                stamped: Counter[str] = Counter()
                bare: Counter[str] = Counter()
                for doc in docs:
                    path = service.blobs.path(doc.sha256 or "")
                    signature = service.signature(body=body, document_id=doc.id)
                    stamped[_verdict(verifier.verify(path, signature, at=now))] += 1
                    bare[_verdict(verifier.verify(path, strip_timestamps(signature), at=now))] += 1
                proofs.append(RevocationProof(body, revoked_at, len(docs), stamped, bare,
                                              docs[0].id if docs else None))
            return proofs
        finally:
            service.engine.dispose()

    def serve(self) -> None:
        """Keep the hub serving until interrupted (KeyboardInterrupt); a dead hub is a DemoError."""
        self._poller_stop.set()
        while True:
            time.sleep(0.5)
            self._check_processes()

    # -- 5. stop -------------------------------------------------------------------------
    def stop(self) -> list[int]:
        """Stop every process this demo started (nodes first, the hub last); their pids."""
        self._poller_stop.set()
        for child in self.nodes.values():  # end of input: a node exits at once
            if child.process.stdin is not None:
                try:
                    child.process.stdin.close()
                except OSError:
                    pass
        children = list(self.nodes.values()) + ([self.hub] if self.hub is not None else [])
        _wait_all([c.process for c in self.nodes.values()], STOP_TIMEOUT)
        for child in children:
            _terminate(child.process)
        for child in children:
            if child.process.stdout is not None:
                child.process.stdout.close()
            if child.reader is not None:
                child.reader.join(timeout=STOP_TIMEOUT)
        if self._poller is not None:
            self._poller.join(timeout=STOP_TIMEOUT)
        return [c.process.pid for c in children]

    # -- helpers -------------------------------------------------------------------------
    def _plan(self) -> DemoPlan:
        if self.plan is None:
            raise RuntimeError("prepare() first")
        return self.plan

    def _clock(self) -> SimulatedClock:
        if self.clock is None:
            raise RuntimeError("prepare() first")
        return self.clock

    def _progress(self) -> Progress:
        if self.progress is None:
            raise RuntimeError("prepare() first")
        return self.progress

    def _write_pids(self) -> None:
        pids = {"orchestrator": os.getpid(), "hub": self.hub.process.pid if self.hub else None,
                "nodes": {name: c.process.pid for name, c in self.nodes.items()}}
        target = self.folder / "pids.json"
        tmp = target.with_name(".pids.json.tmp")
        tmp.write_text(json.dumps(pids, indent=1), encoding="utf-8")
        tmp.replace(target)


@dataclass(frozen=True)
class RevocationProof:
    """A revoked body's documents accepted before its revocation, judged again after it."""

    body: str
    revoked_at: datetime
    documents: int
    stamped: Counter[str]  # verdicts of the stored (time-stamped) signatures, by indication[/sub]
    bare: Counter[str]  # verdicts of the same signatures without the hub's time-stamp
    example: str | None  # a document id to look at


def _all_documents(service: Any, **filters: Any) -> list[Any]:
    """Every document matching *filters*, a page at a time (pages hold at most 500)."""
    found: list[Any] = []
    while True:
        page, total = service.find_documents(offset=len(found), limit=500, **filters)
        found.extend(page)
        if not page or len(found) >= total:
            return found


def _verdict(report: Any) -> str:
    sub = f"/{report.sub_indication.value}" if report.sub_indication else ""
    return f"{report.indication.value}{sub}"


def _read_lines(name: str, stream: IO[bytes] | None, lines: queue.Queue[tuple[str, str | None]]) -> None:
    """Copy a node's stdout into the queue, line by line, until it closes."""
    if stream is None:
        return
    try:
        for raw in stream:
            lines.put((name, raw.decode("utf-8", errors="replace").rstrip("\n")))
    except (OSError, ValueError):
        pass  # closed while stopping
    lines.put((name, None))


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within STOP_TIMEOUT; always reaped."""
    if process.poll() is None:
        try:
            process.terminate()
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
    if process.stdin is not None:
        try:
            process.stdin.close()
        except OSError:
            pass


def _wait_all(processes: list[subprocess.Popen[bytes]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM if the orchestrator dies without stopping it."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def pid_alive(pid: int) -> bool:
    """Whether a process with id *pid* still exists (a signal 0 probe)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_ours(pid: int) -> bool:
    """Whether *pid* is alive and (where /proc tells) an ``exchange`` process, not a reused pid."""
    if not pid_alive(pid):
        return False
    try:
        return b"exchange" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


def _recorded_pids(path: Path) -> list[int]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    pids = [data.get("hub"), *dict(data.get("nodes") or {}).values()]
    return [p for p in pids if isinstance(p, int) and p != os.getpid()]


def _last_line(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""
