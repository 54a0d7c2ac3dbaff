"""Documents accepted per second by the hub end to end, side by side with a bare upload endpoint.

Run from the repository root::

    .venv/bin/python benchmarks/bench_hub.py [--quick] [--workers 1 [2 ...]] [--seconds S]
        [--rounds R] [--concurrency C] [--json] [--out FILE]
    .venv/bin/python benchmarks/bench_hub.py --scale-out [--quick] [--seconds S] [--rounds R] ...
        # 1 hub process against 2 on one PostgreSQL (benchmarks/scale_out.py)

Self-contained: it creates a throwaway demo PKI (a handful of bodies from
``samples/bodies.toml``) in a temporary directory and starts, as separate processes on
loopback and with the same uvicorn worker count:

* the real hub, ``python -m exchange hub serve`` (SQLite in its data folder; with
  ``EXCHANGE_TEST_PG`` set, a second hub on a fresh PostgreSQL database is an extra row);
* the same hub with ``--no-durable`` (no fsync of blobs, SQLite ``synchronous=NORMAL``): the
  cost of durable commits, measured side by side;
* the baseline, ``benchmarks/bare_app.py`` on uvicorn: one FastAPI endpoint that receives the
  same multipart upload (file, signature, metadata) and hashes the file, nothing else;
* the same endpoint doing the crypto the hub must do for every document and nothing else
  (validation with the hub's trust, the hub's RFC 3161 time-stamp; ``create_crypto_app``): how
  much of the baseline any hub that validates and time-stamps can reach, and how much the hub's
  own machinery (authentication, storage, register, log, durability) costs beyond its crypto.

This process is the load: before any timing it signs distinct 100 KiB documents (signing is
the node's cost, not the hub's), authenticates each sending body once (challenge, signed
challenge, bearer token) and encodes every multipart body, each with its own message id.
Then it uploads with ``--concurrency`` requests in flight (httpx, asyncio, keep-alive), each
target in turn for ``--seconds`` per round, the order alternating round by round
(A/B, B/A, …) so that other load on the machine touches both alike. Every answer must be
201: the hub's means the document was validated, stored and entered in the register.

It reports, per target, the median of the rounds' documents per second, p50/p99 latency over
all timed requests, the server's CPU time per document (its whole process tree, from
``/proc``: far less sensitive to a busy machine than wall-clock rates; a PostgreSQL server's
own CPU is not in it) and this process's own CPU share; then the ratio hub/bare (aim ≥ 0.5×). The result is written as JSON into
``benchmarks/results/`` (git-ignored). This is a benchmark, not a test: it exits non-zero
only if an upload failed, since the rates would then be meaningless.

With ``--workers`` above 1, uvicorn (0.54 at the time of writing) leaves Nagle's algorithm on
for accepted connections (its supervisor binds the socket with ``proto`` 0, so asyncio skips
``TCP_NODELAY``: Kludex/uvicorn#3149), and every keep-alive request waits ~40 ms for a delayed
ACK. Both servers pay it, but it caps the latency-bound baseline far more than the CPU-bound
hub, so the multi-worker ratio flatters the hub; the CPU time per document does not.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from exchange.cms import sign_detached
from exchange.domain import BodyRegistry
from exchange.domain.documents import DocumentMetadata
from exchange.errors import ExchangeError
from exchange.hub.settings import HubSettings
from exchange.hub.store.db import make_engine
from exchange.node import HubClient
from exchange.pki import Credential, KeyStore, init_pki
from exchange.ports import free_port

from machine import describe  # benchmarks/ is on sys.path when a benchmark runs

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DOCUMENT_SIZE = 100 * 1024
SENDERS = 8  # bodies that send (each to the next one), one token each
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
RELAXED_SQLITE = "hub (SQLite, no fsync)"
#: the bare endpoint doing the hub's crypto for each document (validation and time-stamp) and nothing else
FLOOR = "bare + validate + stamp"
AIM = 0.5
PG_ENV = "EXCHANGE_TEST_PG"


# -- the servers ---------------------------------------------------------------------------


@dataclass
class Server:
    """A server process on loopback: where to upload, and how to tell its CPU time."""

    name: str
    url: str
    upload_path: str
    process: subprocess.Popen[bytes]
    log: Path

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process and every descendant (uvicorn's workers)."""
        return sum(_cpu_of(pid) for pid in _tree(self.process.pid))

    def stop(self) -> None:
        """Terminate (uvicorn's graceful shutdown), then kill; workers left behind are killed too."""
        family = _tree(self.process.pid)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        for pid in family[1:]:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass

    def tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # fields from 3 (state) on; comm may hold spaces


def _tree(root: int) -> list[int]:
    """*root* and its descendants (from /proc; just *root* where there is no /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _cpu_of(pid: int) -> float:
    fields = _stat(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _subprocess_env() -> dict[str, str]:
    # the hub must take its settings from its arguments only, never from the caller's shell
    return {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}


def start_server(name: str, command: list[str], *, health: str, upload_path: str, log: Path,
                 workers: int, env: dict[str, str] | None = None) -> Server:
    """Start *command* (a ``{port}`` placeholder in it, *env* added to its environment) and wait
    until *health* answers."""
    for _ in range(3):  # a free port can be taken between choosing it and binding it
        port = free_port()
        with log.open("ab") as out:
            process = subprocess.Popen([c.format(port=port) for c in command], stdout=out,
                                       stderr=subprocess.STDOUT, env={**_subprocess_env(), **(env or {})}, cwd=REPO)
        server = Server(name, f"http://127.0.0.1:{port}", upload_path, process, log)
        if _wait_healthy(server, health, workers=workers):
            return server
        server.stop()
        if "address already in use" not in server.tail(200).lower():
            break
    raise SystemExit(f"bench: {name} did not start:\n{server.tail()}")


def _wait_healthy(server: Server, health: str, *, workers: int) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(timeout=2) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                return False
            try:
                if http.get(server.url + health).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        else:
            return False
    if workers > 1:
        # one worker answering does not mean all have started: wait for the tree to go quiet
        _wait_idle(server)
    return True


def _wait_idle(server: Server, *, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    before = server.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = server.cpu_seconds()
        if now - before < 0.05:
            return
        before = now


def start_hub(name: str, *, keys: Path, data: Path, bodies: Path, workers: int, db_url: str | None,
              log: Path, durable: bool = True) -> Server:
    command = [sys.executable, "-m", "exchange", "hub", "serve", "--host", "127.0.0.1", "--port", "{port}",
               "--keys", str(keys), "--data", str(data), "--bodies", str(bodies), "--workers", str(workers),
               "--log-level", "warning", "--durable" if durable else "--no-durable"]
    if db_url:
        command += ["--db", db_url]
    if workers > 1:
        # Each worker creates the tables at start-up (create_all: check, then create); on an
        # empty database two workers race and one fails ("table document already exists" on
        # SQLite, a pg_type unique violation on PostgreSQL), which stops the whole server.
        # Creating the schema first, with the hub's own function, sidesteps that here.
        data.mkdir(parents=True, exist_ok=True)
        make_engine(HubSettings(keys_dir=keys, data_dir=data, db_url=db_url).database_url).dispose()
    return start_server(name, command, health="/api/health", upload_path="/api/documents", log=log,
                        workers=workers)


def start_bare(*, workers: int, log: Path, keys: Path | None = None) -> Server:
    """The bare endpoint; with *keys*, the one that also validates and time-stamps (:data:`FLOOR`)."""
    factory = "bare_app:create_crypto_app" if keys else "bare_app:create_app"
    command = [sys.executable, "-m", "uvicorn", "--factory", "--app-dir", str(HERE), factory,
               "--host", "127.0.0.1", "--port", "{port}", "--workers", str(workers), "--log-level", "warning"]
    return start_server(FLOOR if keys else "bare FastAPI", command, health="/health", upload_path="/upload",
                        log=log, workers=workers, env={"BENCH_KEYS": str(keys)} if keys else None)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh, uniquely named database on the server *admin_url*, dropped afterwards."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    libpq = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"exchange_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# -- the uploads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """One upload, encoded before timing: the multipart body and its headers."""

    body: bytes
    headers: dict[str, str]


class Uploads:
    """Signs distinct 100 KiB documents and encodes their uploads, each with a new message id;
    keeps those signed ahead and not yet sent (:meth:`take`)."""

    def __init__(self, credentials: list[Credential], tokens: list[str], body_ids: list[str]) -> None:
        self.credentials = credentials
        self.tokens = tokens
        self.body_ids = body_ids
        self._turn = itertools.count()
        self._ready: list[Prepared] = []

    def make(self, count: int) -> list[Prepared]:
        return [self._one(next(self._turn)) for _ in range(count)]

    def take(self, need: int) -> Iterator[Prepared]:
        """Unsent uploads, at least *need* of them signed now (before a round's clock starts);
        each is handed out once, and those a round leaves are the next round's."""
        if len(self._ready) < need:
            self._ready.extend(self.make(need - len(self._ready)))

        def drain() -> Iterator[Prepared]:
            while self._ready:
                yield self._ready.pop()
        return drain()

    def _one(self, n: int) -> Prepared:
        i = n % len(self.credentials)
        content = os.urandom(DOCUMENT_SIZE)
        signature = sign_detached(content, self.credentials[i], at=datetime.now(UTC))
        meta = DocumentMetadata(recipients=(self.body_ids[(i + 1) % len(self.body_ids)],),
                                subject=f"Benchmark document {n}", message_id=f"bench-{uuid.uuid4().hex}",
                                number=f"{n + 1}-CV/VPTW")
        # encoded as HubClient.send encodes it: file, signature, metadata JSON
        request = httpx.Request("POST", "http://hub/api/documents", files={
            "file": (f"document-{n}.bin", content, "application/octet-stream"),
            "signature": ("signature.p7s", signature, "application/pkcs7-signature"),
        }, data={"metadata": json.dumps(meta.to_dict(), ensure_ascii=False)})
        return Prepared(request.read(), {"Content-Type": request.headers["Content-Type"],
                                         "Authorization": f"Bearer {self.tokens[i]}"})


# -- measuring -----------------------------------------------------------------------------


@dataclass
class Round:
    target: str
    ok: int
    failed: int
    seconds: float
    server_cpu: float
    client_cpu: float
    latencies: list[float] = field(repr=False)
    first_error: str | None = None
    ran_out: bool = False

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0


async def upload_round(client: httpx.AsyncClient, server: Server, items: Iterator[Prepared], *, seconds: float,
                       concurrency: int) -> Round:
    """Upload from *items* with *concurrency* requests in flight until *seconds* have passed."""
    latencies: list[float] = []
    ok = failed = 0
    first_error: str | None = None
    ran_out = False
    clock = time.perf_counter
    cpu0, ccpu0 = server.cpu_seconds(), time.process_time()
    start = clock()
    deadline = start + seconds

    async def worker() -> None:
        nonlocal ok, failed, first_error, ran_out
        while clock() < deadline:
            item = next(items, None)
            if item is None:
                ran_out = True
                return
            t0 = clock()
            try:
                response = await client.post(server.upload_path, content=item.body, headers=item.headers)
                status, text = response.status_code, response.text
            except httpx.HTTPError as exc:
                status, text = 0, f"{type(exc).__name__}: {exc}"
            latencies.append(clock() - t0)
            if status == 201:
                ok += 1
            else:
                failed += 1
                first_error = first_error or f"HTTP {status}: {text[:300]}"

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = clock() - start
    return Round(server.name, ok, failed, elapsed, server.cpu_seconds() - cpu0, time.process_time() - ccpu0,
                 latencies, first_error, ran_out)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


async def measure(servers: list[Server], bare: Server, uploads: dict[str, Uploads], *, rounds: int,
                  seconds: float, concurrency: int, warmup: float,
                  floor: Server | None = None) -> dict[str, list[Round]]:
    """Warm every server up, then *rounds* interleaved rounds (the order rotating each round).

    *uploads* makes each hub's uploads (its own tokens); a hub only ever gets unused ones. The
    baselines (*bare*, and *floor* if given) store nothing and get the same fixed set in a cycle.
    """
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    baselines = [bare] if floor is None else [bare, floor]
    targets = [*baselines, *servers]
    clients = {s.name: httpx.AsyncClient(base_url=s.url, limits=limits, timeout=60) for s in targets}
    # the baseline stores nothing: it cycles through a fixed set (distinct bodies, no signing cost)
    bare_items = itertools.cycle(uploads[servers[0].name].make(max(64, concurrency * 4)))
    best: dict[str, float] = {s.name: 50.0 for s in servers}  # documents/s, to size the next pool

    def items_for(server: Server) -> Iterator[Prepared]:
        if server in baselines:
            return bare_items
        return uploads[server.name].take(int(best[server.name] * seconds * 1.5) + concurrency * 2)

    results: dict[str, list[Round]] = {s.name: [] for s in targets}
    try:
        for server in targets:  # warm-up: imports, caches, connections; not counted
            done = await upload_round(clients[server.name], server, items_for(server), seconds=warmup,
                                      concurrency=concurrency)
            if done.failed:
                raise SystemExit(f"bench: {server.name} refused the warm-up uploads: {done.first_error}\n"
                                 f"{server.tail()}")
            if server not in baselines:
                best[server.name] = max(best[server.name], done.per_second)
        for r in range(rounds):
            order = targets[r % len(targets):] + targets[:r % len(targets)]  # A/B, B/A, …
            for server in order:
                items = items_for(server)
                done = await upload_round(clients[server.name], server, items, seconds=seconds,
                                          concurrency=concurrency)
                results[server.name].append(done)
                if server not in baselines:
                    best[server.name] = max(best[server.name], done.per_second)
    finally:
        for client in clients.values():
            await client.aclose()
    return results


def summarize(rounds: list[Round], *, workers: int) -> dict[str, Any]:
    latencies = [x for r in rounds for x in r.latencies]
    ok = sum(r.ok for r in rounds)
    cpu = sum(r.server_cpu for r in rounds)
    wall = sum(r.seconds for r in rounds)
    return {
        "per_second_median": statistics.median(r.per_second for r in rounds),
        "per_second_rounds": [round(r.per_second, 1) for r in rounds],
        "accepted": ok,
        "failed": sum(r.failed for r in rounds),
        "first_error": next((r.first_error for r in rounds if r.first_error), None),
        "ran_out": any(r.ran_out for r in rounds),
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "server_cpu_ms_per_doc": cpu / ok * 1000 if ok else None,
        "server_cpu_cores": cpu / wall if wall else None,  # average cores busy while timed
        "client_cpu_cores": sum(r.client_cpu for r in rounds) / wall if wall else None,
        "workers": workers,
    }


# -- the run -------------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    return describe(("uvicorn", "fastapi", "starlette", "httpx", "python-multipart", "sqlalchemy",
                     "uvloop", "httptools"))


def run(*, workers_list: list[int], rounds: int, seconds: float, concurrency: int, warmup: float,
        bodies_file: Path, pg_url: str | None) -> dict[str, Any]:
    env = environment()
    registry = BodyRegistry.from_toml(bodies_file)
    senders = list(registry)[:SENDERS]
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp_name:
        tmp = Path(tmp_name)
        store = KeyStore.at(tmp / "keys")
        init_pki(store, senders, at=datetime.now(UTC), bodies_file=str(bodies_file))
        credentials = [store.credential(b.id) for b in senders]
        body_ids = [b.id for b in senders]
        for workers in workers_list:
            with ExitStack() as servers_stack:
                label = f"w{workers}"
                hubs = [start_hub("hub (SQLite)", keys=store.directory, data=tmp / label / "sqlite",
                                  bodies=bodies_file, workers=workers, db_url=None, log=tmp / f"{label}-sqlite.log")]
                servers_stack.callback(hubs[0].stop)
                # The same hub without fsync (blobs and commits): what durability costs.
                relaxed = start_hub(RELAXED_SQLITE, keys=store.directory, data=tmp / label / "sqlite-relaxed",
                                    bodies=bodies_file, workers=workers, db_url=None, durable=False,
                                    log=tmp / f"{label}-sqlite-relaxed.log")
                servers_stack.callback(relaxed.stop)
                hubs.append(relaxed)
                if pg_url:
                    db_url = servers_stack.enter_context(postgres_database(pg_url))
                    pg = start_hub("hub (PostgreSQL)", keys=store.directory, data=tmp / label / "pg",
                                   bodies=bodies_file, workers=workers, db_url=db_url, log=tmp / f"{label}-pg.log")
                    servers_stack.callback(pg.stop)  # stopped before its database is dropped
                    hubs.append(pg)
                bare = start_bare(workers=workers, log=tmp / f"{label}-bare.log")
                servers_stack.callback(bare.stop)
                floor = start_bare(workers=workers, log=tmp / f"{label}-floor.log", keys=store.directory)
                servers_stack.callback(floor.stop)
                # one token per sending body and hub (hubs share the keys, not the token secret)
                per_hub: dict[str, Uploads] = {}
                for hub in hubs:
                    tokens = []
                    for credential in credentials:
                        with HubClient(hub.url, credential=credential) as client:
                            try:
                                tokens.append(client.authenticate())
                            except ExchangeError as exc:
                                raise SystemExit(f"bench: cannot authenticate at {hub.name}: {exc}\n"
                                                 f"{hub.tail()}") from None
                    per_hub[hub.name] = Uploads(credentials, tokens, body_ids)
                results = asyncio.run(measure(hubs, bare, per_hub, rounds=rounds, seconds=seconds,
                                              concurrency=concurrency, warmup=warmup, floor=floor))
                summary = {name: summarize(rs, workers=workers) for name, rs in results.items()}
                base = summary[bare.name]["per_second_median"]
                ratios: dict[str, dict[str, float | None]] = {}
                for hub in hubs:
                    paired = [h.per_second / b.per_second for h, b in zip(results[hub.name], results[bare.name], strict=True)
                              if b.per_second]
                    hub_cpu = summary[hub.name]["server_cpu_ms_per_doc"]
                    bare_cpu = summary[bare.name]["server_cpu_ms_per_doc"]
                    floor_cpu = summary[floor.name]["server_cpu_ms_per_doc"]
                    ratios[hub.name] = {
                        "throughput": summary[hub.name]["per_second_median"] / base if base else None,
                        "throughput_paired_median": statistics.median(paired) if paired else None,
                        "server_cpu_per_doc_bare_over_hub": bare_cpu / hub_cpu if hub_cpu and bare_cpu else None,
                        "server_cpu_per_doc_floor_over_hub": floor_cpu / hub_cpu if hub_cpu and floor_cpu else None,
                    }
                bare_cpu, floor_cpu = (summary[bare.name]["server_cpu_ms_per_doc"],
                                       summary[floor.name]["server_cpu_ms_per_doc"])
                ceiling = bare_cpu / floor_cpu if bare_cpu and floor_cpu else None
                durable, fast = summary["hub (SQLite)"], summary[RELAXED_SQLITE]
                durability = {
                    "throughput durable / not": (durable["per_second_median"] / fast["per_second_median"]
                                                 if fast["per_second_median"] else None),
                    "p50 ms added": durable["p50_ms"] - fast["p50_ms"],
                    "server CPU ms/doc added": (durable["server_cpu_ms_per_doc"] - fast["server_cpu_ms_per_doc"]
                                                if durable["server_cpu_ms_per_doc"] is not None
                                                and fast["server_cpu_ms_per_doc"] is not None else None),
                }
                runs.append({"workers": workers, "targets": summary, "ratios": ratios, "durability": durability,
                             "floor_over_bare_cpu": ceiling})
        durability = durability_cost(tmp / "durability", count=40 if rounds <= 2 else 200)
    env["loadavg_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "benchmark": "bench_hub",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "environment": env,
        "document_bytes": DOCUMENT_SIZE,
        "senders": SENDERS,
        "concurrency": concurrency,
        "rounds": rounds,
        "seconds_per_round": seconds,
        "warmup_seconds": warmup,
        "aim": {"throughput hub / bare": AIM},
        "runs": runs,
        "durability": durability,
    }


# -- the cost of durability alone ------------------------------------------------------------


def durability_cost(directory: Path, *, count: int) -> dict[str, Any]:
    """What a durable store-and-commit costs beside a relaxed one, without HTTP or verification:
    for each of *count* distinct 100 KiB documents, alternately on a durable and a relaxed
    store, put the blob (fsynced with its folder, or not) and commit one row (SQLite FULL or
    NORMAL, WAL): the wall time of each, whose median difference is what durability adds to
    every acknowledged document on this machine's disk."""
    from sqlalchemy import text

    from exchange.hub.blobs import BlobStore

    stores = {}
    for durable in (True, False):
        folder = directory / ("durable" if durable else "relaxed")
        engine = make_engine(f"sqlite:///{folder / 'hub.db'}", durable=durable)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE IF NOT EXISTS bench (sha TEXT PRIMARY KEY)"))
        stores[durable] = (BlobStore(folder / "blobs", durable=durable), engine)
    times: dict[bool, list[float]] = {True: [], False: []}
    for n in range(count):
        for durable in ((True, False) if n % 2 else (False, True)):  # alternate which goes first
            blobs, engine = stores[durable]
            data = os.urandom(DOCUMENT_SIZE)
            started = time.perf_counter()
            sha = blobs.put_bytes(data)
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO bench (sha) VALUES (:sha)"), {"sha": sha})
            times[durable].append(time.perf_counter() - started)
    for _, engine in stores.values():
        engine.dispose()
    durable_ms, relaxed_ms = (statistics.median(times[d]) * 1000 for d in (True, False))
    return {"documents": count, "durable_ms_median": durable_ms, "relaxed_ms_median": relaxed_ms,
            "added_ms_median": durable_ms - relaxed_ms,
            "durable_ms_p90": percentile([t * 1000 for t in times[True]], 0.9),
            "relaxed_ms_p90": percentile([t * 1000 for t in times[False]], 0.9)}


# -- printing ------------------------------------------------------------------------------


def print_text(result: dict[str, Any]) -> None:
    env = result["environment"]
    print(f"# bench_hub — {result['document_bytes'] // 1024} KiB signed documents, {result['concurrency']} in "
          f"flight, {result['rounds']} interleaved rounds of {result['seconds_per_round']:g} s per target "
          f"(after {result['warmup_seconds']:g} s warm-up)")
    print(f"nproc {env['nproc']} · {env['cpu']} · load average before {_load(env['loadavg_before'])}, "
          f"after {_load(env['loadavg_after'])}")
    print(f"Python {env['python']} · uvicorn {env['uvicorn']} (uvloop {env['uvloop']}, httptools "
          f"{env['httptools']}) · FastAPI {env['fastapi']} · Starlette {env['starlette']} · "
          f"python-multipart {env['python-multipart']} · httpx {env['httpx']} (load)")
    for run_ in result["runs"]:
        print()
        print(f"## {run_['workers']} worker{'s' if run_['workers'] > 1 else ''} per server")
        names = list(run_["targets"])
        width = max(14, *(len(n) for n in names))
        print(f"{'target':<{width}}  {'docs/s':>7}  {'p50 ms':>7}  {'p99 ms':>7}  {'CPU ms/doc':>10}  "
              f"{'server cores':>12}  {'load cores':>10}  {'ok':>6}  {'failed':>6}  rounds (docs/s)")
        for name in names:
            t = run_["targets"][name]
            print(f"{name:<{width}}  {t['per_second_median']:>7.1f}  {t['p50_ms']:>7.1f}  {t['p99_ms']:>7.1f}  "
                  f"{_num(t['server_cpu_ms_per_doc'], 10, 2)}  {_num(t['server_cpu_cores'], 12, 2)}  "
                  f"{_num(t['client_cpu_cores'], 10, 2)}  {t['accepted']:>6}  {t['failed']:>6}  "
                  f"{' '.join(f'{x:g}' for x in t['per_second_rounds'])}")
        for name, r in run_["ratios"].items():
            met = r["throughput"] is not None and r["throughput"] >= AIM
            print(f"{name} / bare: {r['throughput']:.2f}× docs/s (median of rounds; paired per round "
                  f"{r['throughput_paired_median']:.2f}×)  (aim ≥ {AIM}×: {'met' if met else 'missed'}); "
                  f"documents per server CPU-second {_times(r['server_cpu_per_doc_bare_over_hub'])}, "
                  f"{_num(r.get('server_cpu_per_doc_floor_over_hub'), 0, 2).strip()}× those of {FLOOR}")
        if run_.get("floor_over_bare_cpu") is not None:
            print(f"{FLOOR} / bare: documents per server CPU-second {run_['floor_over_bare_cpu']:.2f}× — the most "
                  "a hub that validates and time-stamps each document could reach against the bare endpoint, "
                  "storing nothing at all")
        d = run_.get("durability")
        if d and d["throughput durable / not"] is not None:
            print(f"durable commits (fsync of each blob, its folder and SQLite synchronous=FULL) / without: "
                  f"{d['throughput durable / not']:.2f}× docs/s, p50 {d['p50 ms added']:+.1f} ms, server CPU "
                  f"{_num(d['server CPU ms/doc added'], 0, 2).strip()} ms/doc more")
        if run_["workers"] > 1:
            print("note: with several workers uvicorn leaves Nagle on (uvicorn#3149, ~40 ms per keep-alive "
                  "request on both servers): the docs/s ratio flatters the hub here; compare CPU ms/doc")
        for name in names:
            t = run_["targets"][name]
            if t["first_error"]:
                print(f"{name}: first failure: {t['first_error']}")
            if t["ran_out"]:
                print(f"{name}: ran out of pre-signed uploads in a round (its rate is a lower bound)")


def print_durability(d: dict[str, Any]) -> None:
    print()
    print(f"## durability alone: store a 100 KiB blob and commit its row, {d['documents']} times each, alternating")
    print(f"durable (fsync file + folder, SQLite synchronous=FULL): median {d['durable_ms_median']:.2f} ms, "
          f"p90 {d['durable_ms_p90']:.2f} ms")
    print(f"relaxed (no fsync, SQLite synchronous=NORMAL):        median {d['relaxed_ms_median']:.2f} ms, "
          f"p90 {d['relaxed_ms_p90']:.2f} ms")
    print(f"durability adds {d['added_ms_median']:.2f} ms to each acknowledged document (median)")


def _num(value: float | None, width: int, digits: int) -> str:
    return f"{'n/a':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}× the baseline's"


def _load(values: tuple[float, float, float] | None) -> str:
    return "n/a" if values is None else " ".join(f"{v:.2f}" for v in values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds: 2 rounds of 1.5 s, 1 s warm-up")
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="uvicorn workers per server; several values run one after another (default 1)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per target (default 6; quick 2)")
    parser.add_argument("--seconds", type=float, help="wall time per round and target (default 4; quick 1.5)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument("--bodies", type=Path, default=REPO / "samples" / "bodies.toml",
                        help="bodies file (the hub's; the first few bodies send)")
    parser.add_argument("--pg", default=os.environ.get(PG_ENV) or None,
                        help=f"PostgreSQL server to add a hub row on (default: env {PG_ENV}; none: skipped)")
    parser.add_argument("--scale-out", action="store_true",
                        help="instead: 1 hub process against 2 on one PostgreSQL (needs --pg; see scale_out.py)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--out", type=Path, help="where to write the JSON result (default benchmarks/results/)")
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 6)
    seconds = args.seconds or (1.5 if args.quick else 4.0)
    warmup = 1.0 if args.quick else 2.0
    if rounds < 1 or seconds <= 0 or args.concurrency < 1 or min(args.workers) < 1:
        parser.error("--rounds, --seconds, --concurrency and --workers must be positive")
    if args.scale_out:
        return scale_out_main(args, rounds=rounds, seconds=seconds, warmup=warmup)
    result = run(workers_list=args.workers, rounds=rounds, seconds=seconds, concurrency=args.concurrency,
                 warmup=warmup, bodies_file=args.bodies, pg_url=args.pg)
    out = args.out or RESULTS / f"bench_hub-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print_text(result)
        print_durability(result["durability"])
        print(f"\nwritten to {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    failed = sum(t["failed"] for r in result["runs"] for t in r["targets"].values())
    return 1 if failed else 0


def scale_out_main(args: argparse.Namespace, *, rounds: int, seconds: float, warmup: float) -> int:
    """``--scale-out``: run :func:`scale_out.run_scale_out`, print it and write its JSON."""
    import scale_out

    if not args.pg:
        raise SystemExit(f"bench: --scale-out needs PostgreSQL: give --pg URL or set {PG_ENV}")
    env = environment()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        measured = scale_out.run_scale_out(sys.modules[__name__], pg_url=args.pg, rounds=rounds, seconds=seconds,
                                           concurrency=args.concurrency, warmup=warmup, bodies_file=args.bodies,
                                           tmp=Path(tmp))
    env["loadavg_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    result = {"benchmark": "bench_hub --scale-out", "when": datetime.now(UTC).isoformat(timespec="seconds"),
              "environment": env, "document_bytes": DOCUMENT_SIZE, "senders": SENDERS,
              "concurrency": args.concurrency, "rounds": rounds, "seconds_per_round": seconds,
              "warmup_seconds": warmup, "scale_out": measured}
    out = args.out or RESULTS / f"bench_hub-scale-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(f"# bench_hub --scale-out — {DOCUMENT_SIZE // 1024} KiB signed documents, {args.concurrency} in "
              f"flight per hub process, {rounds} interleaved rounds of {seconds:g} s per set-up (after {warmup:g} s warm-up)")
        print(f"nproc {env['nproc']} · {env['cpu']} · load average before {_load(env['loadavg_before'])}, "
              f"after {_load(env['loadavg_after'])}")
        scale_out.print_scale_out(result)
        print(f"\nwritten to {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 1 if any(t["failed"] for t in measured["targets"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
