"""``bench_hub.py --scale-out``: one hub process against two on one PostgreSQL, side by side.

Both set-ups run at once on loopback, each on its own fresh PostgreSQL database:

* **1 hub**: ``exchange hub serve --db PG1 --data D1`` (one uvicorn worker);
* **2 hubs**: two such processes on one database ``PG2`` and one shared data folder ``D2``,
  the load spread over both (each connection to one of them; a token from one is good at the
  other: they share the folder's secret).

Rounds alternate (1/2, 2/1, …) with the same requests in flight at each hub process
(``--concurrency``; 2 hubs get twice as many in all), each upload a distinct pre-signed
100 KiB document. Per set-up it reports documents/s, the hub processes' CPU per
document (summed over the processes, from ``/proc``) and the PostgreSQL backends' CPU per
document (the server processes serving that database, from ``pg_stat_activity`` and ``/proc``:
the server must run on this machine). The aim: documents per hub CPU-second with 2 hubs
≥ 0.9× the figure with 1 (no coordination overhead). It also times the commit that holds
the evidence log's head row (every document's transaction appends to the log under that one
row lock, so commits are serial however many hubs there are) and writes what a machine with
more cores should reach from those figures.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from exchange.node import HubClient

#: documents per hub CPU-second with 2 hubs over 1 hub: the aim
AIM_PER_CPU = 0.9
CORES = (2, 4, 8, 16, 32)


@dataclass
class Target:
    """One set-up: its hub processes and the databases they serve (one, or one each)."""

    name: str
    servers: list[Any]  # bench_hub.Server
    db_urls: list[str]

    def cpu_seconds(self) -> float:
        return sum(s.cpu_seconds() for s in self.servers)


@dataclass
class ScaleRound:
    target: str
    ok: int
    failed: int
    seconds: float
    hub_cpu: float
    db_cpu: float | None
    latencies: list[float]
    first_error: str | None

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def _backend_pids(libpq: str, databases: list[str]) -> list[int]:
    with psycopg.connect(libpq, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)", (databases,)).fetchall()
    return [int(r[0]) for r in rows]


class BackendCpu:
    """CPU time of the PostgreSQL server processes serving some databases (this machine's)."""

    def __init__(self, admin_libpq: str, databases: list[str], cpu_of: Any) -> None:
        self.admin, self.databases, self.cpu_of = admin_libpq, databases, cpu_of

    def snapshot(self) -> dict[int, float]:
        return {pid: self.cpu_of(pid) for pid in _backend_pids(self.admin, self.databases)}

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        # a backend that appeared during the round counts whole; one that left is lost (rare:
        # the hubs' pools keep their connections)
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


async def _round(target: Target, clients: list[httpx.AsyncClient], items: Iterator[Any], *, seconds: float,
                 concurrency: int, backends: BackendCpu) -> ScaleRound:
    latencies: list[float] = []
    ok = failed = 0
    first_error: str | None = None
    clock = time.perf_counter
    db0 = backends.snapshot()
    cpu0 = target.cpu_seconds()
    start = clock()
    deadline = start + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal ok, failed, first_error
        while clock() < deadline:
            item = next(items, None)
            if item is None:
                return
            t0 = clock()
            try:
                response = await client.post("/api/documents", content=item.body, headers=item.headers)
                status, text = response.status_code, response.text
            except httpx.HTTPError as exc:
                status, text = 0, f"{type(exc).__name__}: {exc}"
            latencies.append(clock() - t0)
            if status == 201:
                ok += 1
            else:
                failed += 1
                first_error = first_error or f"HTTP {status}: {text[:300]}"

    # *concurrency* requests in flight at each hub process: every process carries the same load
    # in both set-ups, so a difference in CPU per document is the cost of sharing the database,
    # not of a process batching less work per wake-up
    await asyncio.gather(*(worker(clients[i % len(clients)]) for i in range(concurrency * len(clients))))
    elapsed = clock() - start
    hub_cpu = target.cpu_seconds() - cpu0
    db_cpu = BackendCpu.spent(db0, backends.snapshot())
    return ScaleRound(target.name, ok, failed, elapsed, hub_cpu, db_cpu, latencies, first_error)


def commit_latency(db_url: str, *, count: int = 200) -> dict[str, Any]:
    """Milliseconds per durable commit of a one-row update on the benchmark's PostgreSQL (as
    the log head's): mean, median and p90. The head row stays locked at least this long per
    document, so 1000 / mean bounds documents/s."""
    from sqlalchemy.engine import make_url

    libpq = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    times = []
    with psycopg.connect(libpq, autocommit=False, options="-c synchronous_commit=on") as conn:
        conn.execute("CREATE TEMPORARY TABLE bench_head (id int PRIMARY KEY, size bigint)")
        conn.execute("INSERT INTO bench_head VALUES (1, 0)")
        conn.commit()
        for _ in range(count):
            started = time.perf_counter()
            conn.execute("UPDATE bench_head SET size = size + 1 WHERE id = 1")
            conn.commit()
            times.append((time.perf_counter() - started) * 1000)
        fsync = str(conn.execute("SHOW fsync").fetchone()[0])  # type: ignore[index]
    ordered = sorted(times)
    return {"mean_ms": statistics.fmean(times), "median_ms": statistics.median(times),
            "p90_ms": ordered[int(0.9 * (len(ordered) - 1))], "server_fsync": fsync}


def _database_bytes(db_url: str) -> int:
    from sqlalchemy.engine import make_url

    libpq = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


def _storage(db_url: str, data: Path, *, empty: int) -> dict[str, float]:
    """Bytes a stored document takes: in PostgreSQL (the database's growth over the documents it
    holds: rows, indexes, the evidence log) and in the blob store (the file, its time-stamped
    signature)."""
    from sqlalchemy.engine import make_url

    libpq = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        documents = int(conn.execute("SELECT count(*) FROM document").fetchone()[0])  # type: ignore[index]
    blobs = sum(p.stat().st_size for p in (data / "blobs").rglob("*") if p.is_file())
    if not documents:
        return {}
    return {"documents": documents, "database_bytes": (_database_bytes(db_url) - empty) / documents,
            "blob_bytes": blobs / documents}


def run_scale_out(bench: Any, *, pg_url: str, rounds: int, seconds: float, concurrency: int, warmup: float,
                  bodies_file: Path, tmp: Path) -> dict[str, Any]:
    """Measure 1 hub against 2 hubs on PostgreSQL (see the module's doc); *bench* is bench_hub."""
    from sqlalchemy.engine import make_url

    from exchange.domain import BodyRegistry
    from exchange.pki import KeyStore, init_pki

    registry = BodyRegistry.from_toml(bodies_file)
    senders = list(registry)[:bench.SENDERS]
    store = KeyStore.at(tmp / "keys")
    init_pki(store, senders, at=datetime.now(UTC), bodies_file=str(bodies_file))
    credentials = [store.credential(b.id) for b in senders]
    body_ids = [b.id for b in senders]
    admin = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with ExitStack() as stack:
        targets = []
        # "2 hubs apart" is the control: two processes on two databases and folders share nothing,
        # so what "2 hubs" costs beyond it is the cost of sharing (coordination), and what it
        # costs beyond "1 hub" without that is the machine's (two processes on busy cores).
        for name, processes, shared in (("1 hub", 1, True), ("2 hubs", 2, True), ("2 hubs apart", 2, False)):
            db_urls: list[str] = []
            servers = []
            first_data = tmp
            for n in range(processes):  # one after another: the first migrates, the others find it done
                if n == 0 or not shared:
                    db_urls.append(stack.enter_context(bench.postgres_database(pg_url)))
                data = tmp / (name.replace(" ", "-") + ("" if shared else f"-{n + 1}"))
                if n and not shared:  # the token secret only, so that one token serves both
                    data.mkdir(mode=0o700)
                    secret = data / "hub-secret"
                    secret.write_bytes((first_data / "hub-secret").read_bytes())
                    secret.chmod(0o600)
                first_data = first_data if n else data
                server = bench.start_hub(f"{name} #{n + 1}", keys=store.directory, data=data, bodies=bodies_file,
                                         workers=1, db_url=db_urls[-1], log=tmp / f"{data.name}-{n + 1}.log")
                stack.callback(server.stop)  # stopped before its database is dropped
                servers.append(server)
            targets.append(Target(name, servers, db_urls))
        uploads = {}
        for target in targets:
            tokens = []
            for credential in credentials:
                with HubClient(target.servers[0].url, credential=credential) as client:
                    tokens.append(client.authenticate())  # good at every process of the target
            uploads[target.name] = bench.Uploads(credentials, tokens, body_ids)
        backends = {t.name: BackendCpu(admin, [str(make_url(u).database) for u in t.db_urls], bench._cpu_of)
                    for t in targets}
        empty = _database_bytes(targets[1].db_urls[0])
        results = asyncio.run(_measure(targets, uploads, backends, rounds=rounds, seconds=seconds,
                                       concurrency=concurrency, warmup=warmup))
        commit = commit_latency(targets[0].db_urls[0])
        storage = _storage(targets[1].db_urls[0], tmp / "2-hubs", empty=empty)
    summary = {name: _summarize(rs) for name, rs in results.items()}
    one, two, apart = summary["1 hub"], summary["2 hubs"], summary["2 hubs apart"]

    def per_cpu_ratio(a: dict[str, Any], b: dict[str, Any]) -> float | None:
        return (a["docs_per_hub_cpu_second"] / b["docs_per_hub_cpu_second"]
                if a["docs_per_hub_cpu_second"] and b["docs_per_hub_cpu_second"] else None)
    per_cpu = per_cpu_ratio(two, one)
    paired = [b.per_second / a.per_second for a, b in zip(results["1 hub"], results["2 hubs"], strict=True)
              if a.per_second]
    return {
        "targets": summary,
        "ratios": {"docs_per_second 2/1": two["per_second_median"] / one["per_second_median"]
                   if one["per_second_median"] else None,
                   "docs_per_second 2/1 paired median": statistics.median(paired) if paired else None,
                   "docs_per_hub_cpu_second 2/1": per_cpu,
                   "docs_per_hub_cpu_second 2 shared / 2 apart": per_cpu_ratio(two, apart),
                   "docs_per_hub_cpu_second 2 apart / 1": per_cpu_ratio(apart, one)},
        "aim": {"docs_per_hub_cpu_second 2/1": AIM_PER_CPU},
        "log_head_commit": commit,
        "storage_per_document": storage,
        "projection": project(two, commit),
    }


async def _measure(targets: list[Target], uploads: dict[str, Any], backends: dict[str, BackendCpu], *,
                   rounds: int, seconds: float, concurrency: int, warmup: float) -> dict[str, list[ScaleRound]]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    clients = {t.name: [httpx.AsyncClient(base_url=s.url, limits=limits, timeout=60) for s in t.servers]
               for t in targets}
    best: dict[str, float] = {t.name: 50.0 for t in targets}

    def items_for(target: Target, span: float) -> Iterator[Any]:
        # signed before the clock starts (bench_hub.Uploads.take)
        return uploads[target.name].take(int(best[target.name] * span * 1.5) + concurrency * 2 * len(target.servers))

    results: dict[str, list[ScaleRound]] = {t.name: [] for t in targets}
    try:
        for target in targets:  # warm-up, not counted
            done = await _round(target, clients[target.name], items_for(target, warmup), seconds=warmup,
                                concurrency=concurrency, backends=backends[target.name])
            if done.failed:
                raise SystemExit(f"bench: {target.name} refused the warm-up uploads: {done.first_error}")
            best[target.name] = max(best[target.name], done.per_second)
        for r in range(rounds):
            order = targets[r % len(targets):] + targets[:r % len(targets)]  # the order rotates
            for target in order:
                done = await _round(target, clients[target.name], items_for(target, seconds), seconds=seconds,
                                    concurrency=concurrency, backends=backends[target.name])
                results[target.name].append(done)
                best[target.name] = max(best[target.name], done.per_second)
    finally:
        for group in clients.values():
            for client in group:
                await client.aclose()
    return results


def _summarize(rounds: list[ScaleRound]) -> dict[str, Any]:
    ok = sum(r.ok for r in rounds)
    hub_cpu = sum(r.hub_cpu for r in rounds)
    db_cpu = sum(r.db_cpu for r in rounds if r.db_cpu is not None)
    wall = sum(r.seconds for r in rounds)
    ordered = sorted(x for r in rounds for x in r.latencies)
    return {
        "per_second_median": statistics.median(r.per_second for r in rounds),
        "per_second_rounds": [round(r.per_second, 1) for r in rounds],
        "accepted": ok,
        "failed": sum(r.failed for r in rounds),
        "first_error": next((r.first_error for r in rounds if r.first_error), None),
        "p50_ms": ordered[len(ordered) // 2] * 1000 if ordered else None,
        "hub_cpu_ms_per_doc": hub_cpu / ok * 1000 if ok else None,
        "hub_cpu_ms_per_doc_rounds": [round(r.hub_cpu / r.ok * 1000, 2) if r.ok else None for r in rounds],
        "docs_per_hub_cpu_second": ok / hub_cpu if hub_cpu else None,
        "db_cpu_ms_per_doc": db_cpu / ok * 1000 if ok else None,
        "hub_cores_busy": hub_cpu / wall if wall else None,
    }


def project(measured: dict[str, Any], commit: dict[str, float]) -> list[dict[str, Any]]:
    """Documents/s a machine with more cores should reach: every core busy with hub processes
    or PostgreSQL in the measured proportion, capped by the log head's serial commits."""
    hub_ms, db_ms = measured["hub_cpu_ms_per_doc"], measured["db_cpu_ms_per_doc"] or 0.0
    if not hub_ms:
        return []
    ceiling = 1000.0 / commit["mean_ms"] if commit["mean_ms"] else None
    rows = []
    for cores in CORES:
        cpu_bound = cores * 1000.0 / (hub_ms + db_ms)
        hubs = max(1, round(cores * hub_ms / (hub_ms + db_ms)))
        rows.append({"cores": cores, "hub_processes": hubs, "postgres_cores": round(cores - hubs, 1),
                     "docs_per_second": round(min(cpu_bound, ceiling) if ceiling else cpu_bound),
                     "limited_by": "log head commits" if ceiling and ceiling < cpu_bound else "CPU",
                     "docs_per_hour": round((min(cpu_bound, ceiling) if ceiling else cpu_bound) * 3600)})
    return rows


def print_scale_out(result: dict[str, Any]) -> None:
    """The comparison as text."""
    s = result["scale_out"]
    print()
    print("## scale-out on PostgreSQL: 1 hub process against 2 on one database and one data folder")
    print(f"{'target':<12}  {'docs/s':>7}  {'p50 ms':>7}  {'hub CPU ms/doc':>14}  {'docs/hub CPU-s':>14}  "
          f"{'PG CPU ms/doc':>13}  {'hub cores':>9}  {'ok':>5}  {'failed':>6}  rounds (docs/s; hub CPU ms/doc)")
    for name, t in s["targets"].items():
        print(f"{name:<12}  {t['per_second_median']:>7.1f}  {t['p50_ms']:>7.1f}  {t['hub_cpu_ms_per_doc']:>14.2f}  "
              f"{t['docs_per_hub_cpu_second']:>14.1f}  {t['db_cpu_ms_per_doc']:>13.2f}  {t['hub_cores_busy']:>9.2f}  "
              f"{t['accepted']:>5}  {t['failed']:>6}  {' '.join(f'{x:g}' for x in t['per_second_rounds'])}; "
              f"{' '.join(f'{x:g}' for x in t['hub_cpu_ms_per_doc_rounds'])}")
        if t["first_error"]:
            print(f"{name}: first failure: {t['first_error']}")
    r = s["ratios"]
    met = r["docs_per_hub_cpu_second 2/1"] is not None and r["docs_per_hub_cpu_second 2/1"] >= AIM_PER_CPU
    print(f"2 hubs / 1 hub: {r['docs_per_second 2/1']:.2f}× docs/s (paired per round "
          f"{r['docs_per_second 2/1 paired median']:.2f}×); documents per hub CPU-second "
          f"{r['docs_per_hub_cpu_second 2/1']:.2f}× (aim ≥ {AIM_PER_CPU}×: {'met' if met else 'missed'})")
    print(f"  of which sharing one database and folder (2 hubs / 2 hubs apart): "
          f"{_x(r['docs_per_hub_cpu_second 2 shared / 2 apart'])}; two processes on this machine at all "
          f"(2 hubs apart / 1 hub): {_x(r['docs_per_hub_cpu_second 2 apart / 1'])}")
    c = s["log_head_commit"]
    print(f"a durable one-row commit on this PostgreSQL: mean {c['mean_ms']:.2f} ms, median {c['median_ms']:.2f} ms, "
          f"p90 {c['p90_ms']:.2f} ms (the evidence log's head row is held through each document's commit: at "
          f"most ~{1000 / c['mean_ms']:.0f} documents/s, whatever the cores)")
    if c.get("server_fsync") == "off":
        print("  note: this PostgreSQL server runs with fsync=off: its commits never wait for a disk, so the "
              "bound above is not a durable server's (there a commit waits for one WAL fsync)")
    st = s.get("storage_per_document") or {}
    if st:
        print(f"storage per document ({st['documents']} stored with 2 hubs): PostgreSQL "
              f"{st['database_bytes'] / 1024:.1f} KiB (rows, indexes, evidence log), blobs "
              f"{st['blob_bytes'] / 1024:.1f} KiB (the file and its time-stamped signature)")
    print("what more cores should reach (hub and PostgreSQL CPU per document as measured with 2 hubs):")
    for row in s["projection"]:
        print(f"  {row['cores']:>2} cores: {row['hub_processes']:>2} hub processes + PostgreSQL ≈ "
              f"{row['docs_per_second']:>5} documents/s ({row['docs_per_hour']:,} an hour; limited by "
              f"{row['limited_by']})")


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"
