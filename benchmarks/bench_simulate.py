"""How fast the simulator runs, against the bare cost of the crypto it does, and whether its
memory stays flat as the simulated period grows.

Run from the repository root::

    .venv/bin/python benchmarks/bench_simulate.py [--quick] [--workers N] [--rounds N] [--json]

Three measurements, each simulation in a child process of its own (so that its peak RSS,
read with ``resource.getrusage`` in that child, is its own):

1. **Throughput**: ``target-2015`` for all 80 bodies over the full year (``--quick``: the
   first month): documents simulated per second of wall time (``--rounds N``: N runs).
2. **Overhead against the crypto**: in this process, after the runs, the four crypto
   operations a simulation must do are timed over the run's own payloads (the sample
   documents and a receipt-sized statement) with the run's own PKI, and multiplied by how
   often the run did each:

   - ``sign_detached``: every document and receipt a body signs;
   - ``Verifier.verify`` of a signature without a time-stamp: the hub's check of every signed
     document and receipt;
   - ``TimeStampAuthority.stamp``: the hub's RFC 3161 token on every signature it accepts;
   - ``Verifier.verify`` of a signature carrying that token (the token checked too): every
     recipient's check of what it fetched;
   - ``generate_key``: every key the run's PKI is made with (root, issuing CA, hub, TSA, and
     a signing and an encryption key per body) and each renewal's or expiring certificate's
     new key, counted in the run.

   That sum is the *bare crypto cost*: what the run would cost if it did nothing but its
   crypto, one operation after another on one core. The ratio *simulation time / bare crypto*
   says what the simulator costs beyond it (given also without the key generation, which
   the figures before this benchmark counted it did not). Both are given in wall time (the aim, ≤ 1.5; the
   simulation has every core, the bare crypto one) and in CPU time (every process's CPU
   against the bare crypto's CPU: fairer on a loaded machine, where wall time measures the
   other users too).
3. **Memory**: the same scenario for 12 bodies over one year and over two years
   (``--quick``: two and four months); peak RSS of the main process and of the largest
   worker, side by side, and their ratio (flat: within 10 %).

Nothing is written to git-tracked paths: the runs go to a temporary folder and the figures
to ``benchmarks/results/simulate.json`` (git-ignored). Nothing asserts on speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "samples" / "scenarios" / "target-2015.toml"
RESULTS = REPO / "benchmarks" / "results"
#: the bodies of the memory runs: both kinds, including the scenario's faulty ones
MEMORY_BODIES = ["central-office", "organization-commission", "propaganda-commission",
                 "inspection-commission", "ha-noi", "tp-ho-chi-minh", "nghe-an", "da-nang",
                 "lai-chau", "ca-mau", "dien-bien", "quang-ninh"]
CRYPTO_SAMPLES = 200


def variant(*, end: date, bodies: list[str] | None) -> dict[str, Any]:
    """target-2015 as parsed TOML, ending on *end* (possibly in 2016), for *bodies* (None: all).

    Faults of bodies left out, or falling after *end*, are dropped (a renewal after *end* too).
    """
    data = tomllib.loads(SCENARIO.read_text(encoding="utf-8"))
    data["period"]["end"] = end
    if bodies is not None:
        data["bodies"] = bodies
    faults = data.setdefault("faults", {})

    def day(value: Any) -> date:
        return value.date() if hasattr(value, "date") else value

    def kept(fault: dict[str, Any], first: str) -> bool:
        return (bodies is None or fault.get("body", bodies[0]) in bodies) and day(fault[first]) <= end

    for key in ("expired", "revoked"):
        faults[key] = [f for f in faults.get(key, []) if kept(f, "on")]
        for fault in faults[key]:
            if "renewed" in fault and fault["renewed"] > end:
                del fault["renewed"]
    for key in ("hub_outage", "offline"):
        faults[key] = [w for w in faults.get(key, []) if kept(w, "end")]
    return data


# -- the child: one simulation, its own peak memory -----------------------------------------

def _count_keys() -> list[int]:
    """Count the keys this process generates from now on (one cell, added to by every thread)."""
    import threading

    from exchange.pki import ca, certificates, encryption

    made, lock, generate = [0], threading.Lock(), certificates.generate_key

    def counted(algorithm: Any) -> Any:
        with lock:
            made[0] += 1
        return generate(algorithm)

    for module in (certificates, ca, encryption):  # each holds its own name for the function
        module.generate_key = counted  # type: ignore[attr-defined]
    return made


def child(spec: dict[str, Any]) -> None:
    """Run one simulation and print its figures as JSON (called in a subprocess)."""
    from exchange.simulate import Scenario, simulate

    keys = _count_keys()

    data = variant(end=date.fromisoformat(spec["end"]), bodies=spec["bodies"])
    scenario = Scenario.from_dict(data, source=SCENARIO.name, base_dir=SCENARIO.parent)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = simulate(scenario, Path(spec["output"]), workers=spec["workers"])
    wall = time.perf_counter() - started
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    main_cpu = own.ru_utime + own.ru_stime - before.ru_utime - before.ru_stime
    workers_cpu = workers.ru_utime + workers.ru_stime
    counts = result.counts
    print(json.dumps({
        "days": (scenario.end - scenario.start).days + 1, "bodies": len(scenario.registry),
        "wall_s": wall, "cpu_s": main_cpu + workers_cpu, "main_cpu_s": main_cpu, "workers_cpu_s": workers_cpu,
        "peak_rss_main_mib": own.ru_maxrss / 1024, "peak_rss_worker_mib": workers.ru_maxrss / 1024,
        "documents": counts.documents, "signatures": counts.signatures,
        "verifications": counts.verifications, "verifications_stamped": counts.verifications_stamped,
        "timestamps": counts.timestamps, "incoming": counts.incoming, "keys": keys[0],
        "k1": result.report.k1.value, "first_met": {k: (m.period.label if m else None)
                                                     for k, m in result.first_met.items()},
    }))


def run_child(*, end: date, bodies: list[str] | None, workers: int | None, folder: Path) -> dict[str, Any]:
    spec = {"end": end.isoformat(), "bodies": bodies, "workers": workers, "output": str(folder)}
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], cwd=REPO,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"simulation failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the bare crypto, timed here --------------------------------------------------------------

#: the operations of the bare crypto cost, and the run's count of each
OPERATIONS = {"sign": "signatures", "verify": "verifications_plain", "stamp": "timestamps",
              "verify_stamped": "verifications_stamped", "keygen": "keys"}
#: keys generated to time one (an RSA key's cost varies with its primes' search)
KEYGEN_SAMPLES = 24


class _Timer:
    """Wall and CPU seconds of a block, per operation."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __enter__(self) -> _Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = (time.perf_counter() - self.wall) / self.count
        self.cpu = (time.process_time() - self.cpu) / self.count


def crypto_costs(keys_dir: Path) -> dict[str, dict[str, float]]:
    """Seconds (wall and CPU) per operation of :data:`OPERATIONS` over the scenario's payloads,
    with the run's own PKI: one verifier reused, as the nodes do, and the hub's TSA."""
    from exchange.cms import TimeStampAuthority, sign_detached
    from exchange.node import node_verifier
    from exchange.pki import KeyStore
    from exchange.pki.certificates import KeyAlgorithm, generate_key
    from exchange.simulate import Scenario

    scenario = Scenario.from_toml(SCENARIO)
    payloads = [p.read_bytes() for p in scenario.documents]
    payloads.append(b'{"document_id": "x", "sha256": "' + b"0" * 64 + b'", "status": "01"}' * 3)
    store = KeyStore.at(keys_dir)
    credential = store.credential("ha-noi")
    tsa = TimeStampAuthority(store.tsa_credential())
    at = datetime(2015, 1, 2, 3, tzinfo=UTC)
    verifier = node_verifier(store)
    n = CRYPTO_SAMPLES
    costs: dict[str, dict[str, float]] = {}

    def check(report: Any) -> None:
        if not report.passed:
            raise SystemExit(f"the benchmark's own signature does not verify: {report.summary()}")

    with _Timer(n) as timer:
        signatures = [sign_detached(payloads[i % len(payloads)], credential, at=at) for i in range(n)]
    costs["sign"] = {"wall": timer.wall, "cpu": timer.cpu}
    with _Timer(n) as timer:
        for i, signature in enumerate(signatures):
            check(verifier.verify(payloads[i % len(payloads)], signature, at=at + timedelta(hours=1)))
    costs["verify"] = {"wall": timer.wall, "cpu": timer.cpu}
    with _Timer(n) as timer:
        stamped = [tsa.stamp(signature, at=at).signature for signature in signatures]
    costs["stamp"] = {"wall": timer.wall, "cpu": timer.cpu}
    with _Timer(n) as timer:
        for i, signature in enumerate(stamped):
            check(verifier.verify(payloads[i % len(payloads)], signature, at=at + timedelta(hours=1)))
    costs["verify_stamped"] = {"wall": timer.wall, "cpu": timer.cpu}
    algorithm = KeyAlgorithm(store.manifest()["algorithm"])
    with _Timer(KEYGEN_SAMPLES) as timer:
        for _ in range(KEYGEN_SAMPLES):
            generate_key(algorithm)
    costs["keygen"] = {"wall": timer.wall, "cpu": timer.cpu}
    return costs


def bare_crypto(run: dict[str, Any], costs: dict[str, dict[str, float]], clock: str, *,
                keygen: bool = True) -> float:
    """The run's bare crypto cost in seconds of *clock* (wall or cpu), with or without *keygen*."""
    counts = dict(run, verifications_plain=run["verifications"] - run["verifications_stamped"])
    return sum(counts[count] * costs[op][clock] for op, count in OPERATIONS.items()
               if keygen or op != "keygen")


# -- the table --------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a month for throughput, 2 vs 4 months for memory")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--rounds", type=int, default=1, help="throughput runs (the ratios' range)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return

    year_end = date(2015, 1, 31) if args.quick else date(2015, 12, 31)
    short, long = (date(2015, 2, 28), date(2015, 4, 30)) if args.quick else (date(2015, 12, 31), date(2016, 12, 31))
    with tempfile.TemporaryDirectory(prefix="bench-simulate-") as tmp:
        base = Path(tmp)
        runs = []
        for round_ in range(max(1, args.rounds)):
            print(f"throughput: target-2015, 80 bodies, to {year_end} (round {round_ + 1}) …", file=sys.stderr)
            runs.append(run_child(end=year_end, bodies=None, workers=args.workers, folder=base / f"full{round_}"))
        costs = crypto_costs(base / "full0" / "keys")
        print(f"memory: {len(MEMORY_BODIES)} bodies to {short} and to {long} …", file=sys.stderr)
        one = run_child(end=short, bodies=MEMORY_BODIES, workers=args.workers, folder=base / "short")
        two = run_child(end=long, bodies=MEMORY_BODIES, workers=args.workers, folder=base / "long")

    full = runs[0]
    bare_wall, bare_cpu = bare_crypto(full, costs, "wall"), bare_crypto(full, costs, "cpu")
    bare_wall_no_keys = bare_crypto(full, costs, "wall", keygen=False)
    figures = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform(), "load": os.getloadavg()},
        "quick": args.quick,
        "throughput": {**full, "documents_per_s": full["documents"] / full["wall_s"]},
        "rounds": [{k: r[k] for k in ("wall_s", "cpu_s", "main_cpu_s", "workers_cpu_s")} for r in runs],
        "crypto": {**{f"{op}_ms": costs[op]["wall"] * 1000 for op in OPERATIONS},
                   **{f"{op}_cpu_ms": costs[op]["cpu"] * 1000 for op in OPERATIONS},
                   "bare_s": bare_wall, "bare_cpu_s": bare_cpu,
                   "bare_s_without_keygen": bare_wall_no_keys,
                   "ratio_wall": [r["wall_s"] / bare_wall for r in runs],
                   "ratio_wall_without_keygen": [r["wall_s"] / bare_wall_no_keys for r in runs],
                   "ratio_cpu": [r["cpu_s"] / bare_cpu for r in runs],
                   "ratio_main_cpu": [r["main_cpu_s"] / bare_cpu for r in runs]},
        "memory": {"short": one, "long": two,
                   "ratio_main": two["peak_rss_main_mib"] / one["peak_rss_main_mib"],
                   "ratio_worker": two["peak_rss_worker_mib"] / one["peak_rss_worker_mib"]},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / ("simulate-quick.json" if args.quick else "simulate.json")).write_text(
        json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print_table(figures)


def _span(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}–{high:.2f}"


def print_table(f: dict[str, Any]) -> None:
    t, c, m, rounds = f["throughput"], f["crypto"], f["memory"], f["rounds"]
    walls = [r["wall_s"] for r in rounds]
    rows = [
        ("run", f"target-2015, {t['bodies']} bodies, {t['days']} days{' (quick)' if f['quick'] else ''}, "
                f"{len(rounds)} round(s), load {f['machine']['load'][0]:.1f}"),
        ("documents simulated", f"{t['documents']:,} (+ {t['incoming']:,} incoming)"),
        ("wall time", " / ".join(f"{w:.1f}" for w in walls) + " s"),
        ("CPU: main + workers", " / ".join(f"{r['main_cpu_s']:.1f} + {r['workers_cpu_s']:.1f}" for r in rounds) + " s"),
        ("documents per second", f"{t['documents'] / min(walls):.1f} (best round)"),
        ("crypto operations", f"{t['signatures']:,} signatures, {t['verifications'] - t['verifications_stamped']:,} "
                              f"verifications, {t['timestamps']:,} time-stamps, {t['verifications_stamped']:,} "
                              f"verifications of time-stamped signatures, {t['keys']:,} keys generated"),
        ("one of each (ms, CPU)", f"sign {c['sign_cpu_ms']:.2f}, verify {c['verify_cpu_ms']:.2f}, "
                                  f"stamp {c['stamp_cpu_ms']:.2f}, verify stamped {c['verify_stamped_cpu_ms']:.2f}, "
                                  f"key {c['keygen_cpu_ms']:.1f}"),
        ("bare crypto (1 core)", f"{c['bare_s']:.1f} s wall, {c['bare_cpu_s']:.1f} s CPU "
                                 f"({c['bare_s_without_keygen']:.1f} s without the keys)"),
        ("ratio wall / crypto", f"{_span(c['ratio_wall'])}  (aim ≤ 1.5; without the keys "
                                f"{_span(c['ratio_wall_without_keygen'])})"),
        ("ratio CPU / crypto", f"{_span(c['ratio_cpu'])}  (main process alone: {_span(c['ratio_main_cpu'])})"),
        ("K1 / first met", f"{t['k1']:.3f} / {t['first_met']}"),
    ]
    width = max(len(k) for k, _ in rows)
    print("Simulator throughput")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    short, long = m["short"], m["long"]
    print(f"\nPeak memory as the period grows ({short['bodies']} bodies)")
    print(f"  {'':<14}{short['days']:>6} days{long['days']:>10} days{'ratio':>10}")
    print(f"  {'main (MiB)':<14}{short['peak_rss_main_mib']:>11.1f}{long['peak_rss_main_mib']:>15.1f}{m['ratio_main']:>10.3f}")
    print(f"  {'worker (MiB)':<14}{short['peak_rss_worker_mib']:>11.1f}{long['peak_rss_worker_mib']:>15.1f}{m['ratio_worker']:>10.3f}")
    print(f"  {'documents':<14}{short['documents']:>11,}{long['documents']:>15,}")
    print(f"\nfigures written to {RESULTS.relative_to(REPO)}/")


if __name__ == "__main__":
    main()
