"""``bench_hub.py --scale-out``: one hub process against two on one PostgreSQL, side by side.

Both set-ups run at once on loopback, each on its own fresh PostgreSQL database:

* **1 hub**: ``exchange hub serve --db PG1 --data D1`` (one uvicorn worker);
* **2 hubs**: two such processes on one database ``PG2`` and one shared data folder ``D2``,
  the load spread over both (each connection to one of them; a token from one is good at the
  other: they share the folder's secret).

Rounds alternate (1/2, 2/1, …) with the same requests in flight, each upload a distinct
pre-signed 100 KiB document. Per set-up it reports documents/s, the hub processes' CPU per
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
import itertools
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
    """One set-up: its hub processes (all serving one database) and that database."""

    name: str
    servers: list[Any]  # bench_hub.Server
    db_url: str

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


def _backend_pids(libpq: str, database: str) -> list[int]:
    with psycopg.connect(libpq, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)).fetchall()
    return [int(r[0]) for r in rows]


class BackendCpu:
    """CPU time of the PostgreSQL server processes serving one database (None off this machine)."""

    def __init__(self, admin_libpq: str, database: str, cpu_of: Any) -> None:
        self.admin, self.database, self.cpu_of = admin_libpq, database, cpu_of

    def snapshot(self) -> dict[int, float]:
        return {pid: self.cpu_of(pid) for pid in _backend_pids(self.admin, self.database)}

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

    # each connection goes to one hub: the load is spread evenly over the target's processes
    await asyncio.gather(*(worker(clients[i % len(clients)]) for i in range(concurrency)))
    elapsed = clock() - start
    hub_cpu = target.cpu_seconds() - cpu0
    db_cpu = BackendCpu.spent(db0, backends.snapshot())
    return ScaleRound(target.name, ok, failed, elapsed, hub_cpu, db_cpu, latencies, first_error)


def commit_latency(db_url: str, *, count: int = 200) -> dict[str, float]:
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
    ordered = sorted(times)
    return {"mean_ms": statistics.fmean(times), "median_ms": statistics.median(times),
            "p90_ms": ordered[int(0.9 * (len(ordered) - 1))]}


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
        for name, processes in (("1 hub", 1), ("2 hubs", 2)):
            db_url = stack.enter_context(bench.postgres_database(pg_url))
            data = tmp / name.replace(" ", "-")
            servers = []
            for n in range(processes):  # one after another: the first migrates, the others find it done
                server = bench.start_hub(f"{name} #{n + 1}", keys=store.directory, data=data, bodies=bodies_file,
                                         workers=1, db_url=db_url, log=tmp / f"{data.name}-{n + 1}.log")
                stack.callback(server.stop)  # stopped before its database is dropped
                servers.append(server)
            targets.append(Target(name, servers, db_url))
        uploads = {}
        for target in targets:
            tokens = []
            for credential in credentials:
                with HubClient(target.servers[0].url, credential=credential) as client:
                    tokens.append(client.authenticate())  # good at every process of the target
            uploads[target.name] = bench.Uploads(credentials, tokens, body_ids)
        backends = {t.name: BackendCpu(admin, make_url(t.db_url).database, bench._cpu_of) for t in targets}
        results = asyncio.run(_measure(targets, uploads, backends, rounds=rounds, seconds=seconds,
                                       concurrency=concurrency, warmup=warmup))
        commit = commit_latency(targets[0].db_url)
    summary = {name: _summarize(rs) for name, rs in results.items()}
    one, two = summary["1 hub"], summary["2 hubs"]
    per_cpu = (two["docs_per_hub_cpu_second"] / one["docs_per_hub_cpu_second"]
               if one["docs_per_hub_cpu_second"] and two["docs_per_hub_cpu_second"] else None)
    paired = [b.per_second / a.per_second for a, b in zip(results["1 hub"], results["2 hubs"], strict=True)
              if a.per_second]
    return {
        "targets": summary,
        "ratios": {"docs_per_second 2/1": two["per_second_median"] / one["per_second_median"]
                   if one["per_second_median"] else None,
                   "docs_per_second 2/1 paired median": statistics.median(paired) if paired else None,
                   "docs_per_hub_cpu_second 2/1": per_cpu},
        "aim": {"docs_per_hub_cpu_second 2/1": AIM_PER_CPU},
        "log_head_commit": commit,
        "projection": project(two, commit),
    }


async def _measure(targets: list[Target], uploads: dict[str, Any], backends: dict[str, BackendCpu], *,
                   rounds: int, seconds: float, concurrency: int, warmup: float) -> dict[str, list[ScaleRound]]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    clients = {t.name: [httpx.AsyncClient(base_url=s.url, limits=limits, timeout=60) for s in t.servers]
               for t in targets}
    pools: dict[str, list[Any]] = {t.name: [] for t in targets}
    best: dict[str, float] = {t.name: 50.0 for t in targets}

    def items_for(target: Target, span: float) -> Iterator[Any]:
        pool = pools[target.name]
        need = int(best[target.name] * span * 1.5) + concurrency * 2
        if len(pool) < need:
            pool.extend(uploads[target.name].make(need - len(pool)))  # signed before the clock starts

        def drain() -> Iterator[Any]:
            while pool:
                yield pool.pop()
        return drain()

    results: dict[str, list[ScaleRound]] = {t.name: [] for t in targets}
    try:
        for target in targets:  # warm-up, not counted
            done = await _round(target, clients[target.name], items_for(target, warmup), seconds=warmup,
                                concurrency=concurrency, backends=backends[target.name])
            if done.failed:
                raise SystemExit(f"bench: {target.name} refused the warm-up uploads: {done.first_error}")
            best[target.name] = max(best[target.name], done.per_second)
        for r in range(rounds):
            order = targets if r % 2 == 0 else targets[::-1]
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
    print(f"{'target':<8}  {'docs/s':>7}  {'p50 ms':>7}  {'hub CPU ms/doc':>14}  {'docs/hub CPU-s':>14}  "
          f"{'PG CPU ms/doc':>13}  {'hub cores':>9}  {'ok':>5}  {'failed':>6}  rounds (docs/s; hub CPU ms/doc)")
    for name, t in s["targets"].items():
        print(f"{name:<8}  {t['per_second_median']:>7.1f}  {t['p50_ms']:>7.1f}  {t['hub_cpu_ms_per_doc']:>14.2f}  "
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
    c = s["log_head_commit"]
    print(f"a durable one-row commit on this PostgreSQL: mean {c['mean_ms']:.2f} ms, median {c['median_ms']:.2f} ms, "
          f"p90 {c['p90_ms']:.2f} ms (the evidence log's head row is held through each document's commit: at "
          f"most ~{1000 / c['mean_ms']:.0f} documents/s, whatever the cores)")
    print("what more cores should reach (hub and PostgreSQL CPU per document as measured with 2 hubs):")
    for row in s["projection"]:
        print(f"  {row['cores']:>2} cores: {row['hub_processes']:>2} hub processes + PostgreSQL ≈ "
              f"{row['docs_per_second']:>5} documents/s ({row['docs_per_hour']:,} an hour; limited by "
              f"{row['limited_by']})")
