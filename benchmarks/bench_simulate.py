"""How fast the simulator runs, against the bare cost of the crypto it does, and whether its
memory stays flat as the simulated period grows.

Run from the repository root::

    .venv/bin/python benchmarks/bench_simulate.py [--quick] [--workers N] [--json]

Three measurements, each simulation in a child process of its own (so that its peak RSS,
read with ``resource.getrusage`` in that child, is its own):

1. **Throughput**: ``target-2015`` for all 80 bodies over the full year (``--quick``: the
   first month): documents simulated per second of wall time.
2. **Overhead against the crypto**: in this process, after the run, ``sign_detached`` and
   ``Verifier.verify`` are timed over the run's own payloads (the sample documents and a
   receipt-sized statement), and multiplied by the counts of signatures and verifications the
   run performed. The ratio *simulation wall time / bare crypto time* says what the
   simulator costs beyond its signatures (≤ 2: its own overhead is at most the crypto's);
   the CPU ratio counts every process's CPU time instead of wall time.
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

def child(spec: dict[str, Any]) -> None:
    """Run one simulation and print its figures as JSON (called in a subprocess)."""
    from exchange.simulate import Scenario, simulate

    data = variant(end=date.fromisoformat(spec["end"]), bodies=spec["bodies"])
    scenario = Scenario.from_dict(data, source=SCENARIO.name, base_dir=SCENARIO.parent)
    started = time.perf_counter()
    result = simulate(scenario, Path(spec["output"]), workers=spec["workers"])
    wall = time.perf_counter() - started
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    counts = result.counts
    print(json.dumps({
        "days": (scenario.end - scenario.start).days + 1, "bodies": len(scenario.registry),
        "wall_s": wall, "cpu_s": own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime,
        "peak_rss_main_mib": own.ru_maxrss / 1024, "peak_rss_worker_mib": workers.ru_maxrss / 1024,
        "documents": counts.documents, "signatures": counts.signatures,
        "verifications": counts.verifications, "incoming": counts.incoming,
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

def crypto_costs(keys_dir: Path) -> tuple[float, float]:
    """Seconds per ``sign_detached`` and per ``Verifier.verify`` over the scenario's payloads,
    with the run's own PKI (one verifier reused, as the hub and the nodes do)."""
    from exchange.cms import sign_detached
    from exchange.node import node_verifier
    from exchange.pki import KeyStore
    from exchange.simulate import Scenario

    scenario = Scenario.from_toml(SCENARIO)
    payloads = [p.read_bytes() for p in scenario.documents]
    payloads.append(b'{"document_id": "x", "sha256": "' + b"0" * 64 + b'", "status": "01"}' * 3)
    store = KeyStore.at(keys_dir)
    credential = store.credential("ha-noi")
    at = datetime(2015, 1, 2, 3, tzinfo=UTC)
    verifier = node_verifier(store)
    started = time.perf_counter()
    signatures = [sign_detached(payloads[i % len(payloads)], credential, at=at) for i in range(CRYPTO_SAMPLES)]
    sign = (time.perf_counter() - started) / CRYPTO_SAMPLES
    started = time.perf_counter()
    for i, signature in enumerate(signatures):
        report = verifier.verify(payloads[i % len(payloads)], signature, at=at + timedelta(hours=1))
        if not report.passed:
            raise SystemExit(f"the benchmark's own signature does not verify: {report.summary()}")
    verify = (time.perf_counter() - started) / CRYPTO_SAMPLES
    return sign, verify


# -- the table --------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a month for throughput, 2 vs 4 months for memory")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
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
        print(f"throughput: target-2015, 80 bodies, to {year_end} …", file=sys.stderr)
        full = run_child(end=year_end, bodies=None, workers=args.workers, folder=base / "full")
        sign, verify = crypto_costs(base / "full" / "keys")
        print(f"memory: {len(MEMORY_BODIES)} bodies to {short} and to {long} …", file=sys.stderr)
        one = run_child(end=short, bodies=MEMORY_BODIES, workers=args.workers, folder=base / "short")
        two = run_child(end=long, bodies=MEMORY_BODIES, workers=args.workers, folder=base / "long")

    crypto = full["signatures"] * sign + full["verifications"] * verify
    figures = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "quick": args.quick,
        "throughput": {**full, "documents_per_s": full["documents"] / full["wall_s"]},
        "crypto": {"sign_ms": sign * 1000, "verify_ms": verify * 1000, "bare_s": crypto,
                   "ratio_wall": full["wall_s"] / crypto, "ratio_cpu": full["cpu_s"] / crypto},
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


def print_table(f: dict[str, Any]) -> None:
    t, c, m = f["throughput"], f["crypto"], f["memory"]
    rows = [
        ("run", f"target-2015, {t['bodies']} bodies, {t['days']} days{' (quick)' if f['quick'] else ''}"),
        ("documents simulated", f"{t['documents']:,} (+ {t['incoming']:,} incoming)"),
        ("wall time", f"{t['wall_s']:.1f} s ({t['cpu_s']:.1f} s CPU over all processes)"),
        ("documents per second", f"{t['documents'] / t['wall_s']:.1f}"),
        ("signatures / verifications", f"{t['signatures']:,} / {t['verifications']:,}"),
        ("bare crypto (1 core)", f"{c['bare_s']:.1f} s  (sign {c['sign_ms']:.2f} ms, verify {c['verify_ms']:.2f} ms)"),
        ("ratio wall / crypto", f"{c['ratio_wall']:.2f}  (aim ≤ 2)"),
        ("ratio CPU / crypto", f"{c['ratio_cpu']:.2f}"),
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
