"""The evidence log's costs, side by side in one run.

Run from the repository root::

    .venv/bin/python benchmarks/bench_log.py [--quick] [--json]

Self-contained: a throwaway demo PKI and hub data folder (SQLite) in a temporary directory.

* **Append cost per document**: ``ExchangeService.submit`` of the same pre-signed documents
  (one sender, one recipient: two entries each, accepted and delivered) with the log, and
  with a log whose append does nothing, in interleaved rounds; CPU seconds per document
  (``time.process_time``): their difference is what the log costs a document. Beside it, the
  hub's own CPU per document end to end: a real ``exchange hub serve`` process (SQLite, one
  worker) receiving signed 100 KiB uploads over HTTP for a few seconds, as
  ``bench_hub.py`` measures it (its CPU time from ``/proc``). The fraction is the log's cost
  over that per-document CPU; the in-process share (over ``submit`` alone, no HTTP) is shown too.
* **Archive verification** beside bare ``Verifier.verify``: the same documents (signed, no
  receipts) exported as an archive, checked by ``verify_file`` (every check: checkpoint,
  inclusion proofs, register record, digests, signature) on 1 process and on every core,
  against one ``Verifier.verify`` per document on 1 process.
* **Inclusion proofs** from the stored levels for a log of 10⁴ and of 10⁶ entries (10⁵ with
  ``--quick``), in the same database: mean time per proof over random indexes.

Results also go to ``benchmarks/results/log.json`` (git-ignored). Nothing asserts on speed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from exchange.audit import verify_file  # noqa: E402
from exchange.cms import Indication, sign_detached  # noqa: E402
from exchange.domain.bodies import BodyRegistry  # noqa: E402
from exchange.domain.documents import DocumentMetadata  # noqa: E402
from exchange.hub import HubSettings  # noqa: E402
from exchange.hub.app import build_service  # noqa: E402
from exchange.hub.evidence import Evidence  # noqa: E402
from exchange.hub.evidence_log import Append, EvidenceLog  # noqa: E402
from exchange.hub.service import ExchangeService, Upload  # noqa: E402
from exchange.node import node_verifier  # noqa: E402
from exchange.pki import KeyStore, init_pki  # noqa: E402
from exchange.tlog import EntryKind  # noqa: E402

from machine import describe  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
T0 = datetime(2015, 1, 5, 8, tzinfo=UTC)
BODIES = ("central-office", "ha-noi", "nghe-an", "da-nang")


class _NoLog(EvidenceLog):
    """The baseline: the same service with appends that do nothing."""

    def append(self, session: Any, entries: Any) -> int:
        return -1


def _setup(folder: Path) -> tuple[KeyStore, Path]:
    registry = BodyRegistry.from_toml(REPO / "samples" / "bodies.toml")
    subset = folder / "bodies.toml"
    lines = []
    for body in registry:
        if body.id in BODIES:
            lines += ["[[body]]", f'id = "{body.id}"', f'kind = "{body.kind.value}"',
                      f"name_vi = {json.dumps(body.name_vi, ensure_ascii=False)}",
                      f"name_en = {json.dumps(body.name_en)}", ""]
    subset.write_text("\n".join(lines), encoding="utf-8")
    store = KeyStore(folder / "keys")
    init_pki(store, BodyRegistry.from_toml(subset), at=T0 - timedelta(days=1))
    return store, subset


def _service(store: KeyStore, bodies: Path, data: Path, *, log: bool) -> ExchangeService:
    service = build_service(HubSettings(keys_dir=store.directory, data_dir=data, bodies_file=bodies))
    if not log:
        service.log = _NoLog(service.engine)
    return service


def _documents(store: KeyStore, count: int) -> list[tuple[bytes, bytes]]:
    credential = store.credential("ha-noi")
    docs = []
    for i in range(count):
        content = f"Báo cáo số {i} — {uuid.uuid4()}\n".encode() * 300
        docs.append((content, sign_detached(content, credential, at=T0)))
    return docs


def _submit_all(service: ExchangeService, docs: list[tuple[bytes, bytes]], at: datetime) -> float:
    import io

    started = time.process_time()
    for content, signature in docs:
        metadata = DocumentMetadata.from_dict({"recipients": ["central-office"],
                                               "message_id": str(uuid.uuid4())})
        service.submit(sender="ha-noi", metadata=metadata, upload=Upload(io.BytesIO(content)), signature=signature,
                       at=at)
    return (time.process_time() - started) / len(docs)


def append_cost(store: KeyStore, bodies: Path, folder: Path, *, count: int, rounds: int) -> dict[str, Any]:
    with_log = _service(store, bodies, folder / "with", log=True)
    without = _service(store, bodies, folder / "without", log=False)
    docs = _documents(store, count)
    at = T0 + timedelta(hours=1)
    _submit_all(with_log, docs[:5], at)  # warm-up (statement caches, templates)
    _submit_all(without, docs[:5], at)
    timings: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(rounds):
        timings["without"].append(_submit_all(without, docs, at))
        timings["with"].append(_submit_all(with_log, docs, at))
    with_cpu, without_cpu = min(timings["with"]), min(timings["without"])
    entries = with_log.log.head().size
    for service in (with_log, without):
        service.engine.dispose()
    return {"documents_per_round": count, "rounds": rounds, "entries": entries,
            "cpu_ms_per_document_with_log": with_cpu * 1000, "cpu_ms_per_document_without_log": without_cpu * 1000,
            "log_ms_per_document": (with_cpu - without_cpu) * 1000,
            "log_fraction_of_submit": (with_cpu - without_cpu) / without_cpu}


def hub_cpu_per_document(store: KeyStore, bodies: Path, folder: Path, *, seconds: float) -> dict[str, Any]:
    """Server CPU per accepted upload of a real hub process (as bench_hub.py measures it)."""
    import asyncio

    import httpx
    from bench_hub import Uploads, start_hub, upload_round

    from exchange.node import HubClient

    store = KeyStore(folder / "keys-now")  # the hub checks tokens at the wall clock: a PKI valid now
    init_pki(store, BodyRegistry.from_toml(bodies), at=datetime.now(UTC) - timedelta(minutes=5))
    hub = start_hub("hub (SQLite)", keys=store.directory, data=folder / "e2e", bodies=bodies, workers=1,
                    db_url=None, log=folder / "e2e.log")
    try:
        credentials = [store.credential(b) for b in BODIES]
        tokens = []
        for credential in credentials:
            with HubClient(hub.url, credential=credential) as client:
                tokens.append(client.authenticate())
        uploads = Uploads(credentials, tokens, list(BODIES))

        async def rounds() -> list[Any]:
            async with httpx.AsyncClient(base_url=hub.url, timeout=60) as client:
                await upload_round(client, hub, iter(uploads.make(100)), seconds=seconds / 4, concurrency=8)
                return [await upload_round(client, hub, iter(uploads.make(2000)), seconds=seconds, concurrency=8)
                        for _ in range(2)]

        done = asyncio.run(rounds())
    finally:
        hub.stop()
    ok = sum(r.ok for r in done)
    if not ok or any(r.failed for r in done):
        raise SystemExit(f"uploads failed: {[r.first_error for r in done]}")
    return {"uploads": ok, "server_cpu_ms_per_document": sum(r.server_cpu for r in done) / ok * 1000}


def _archive(store: KeyStore, bodies: Path, folder: Path, name: str, docs: list[tuple[bytes, bytes]]) -> Path:
    service = _service(store, bodies, folder / name, log=True)
    _submit_all(service, docs, T0 + timedelta(hours=1))
    archive = folder / f"{name}.zip"
    evidence = Evidence(service)
    evidence.write(list(evidence.document_ids(_year())), archive, at=T0 + timedelta(hours=2))
    service.engine.dispose()
    return archive


def archive_rate(store: KeyStore, bodies: Path, folder: Path, *, count: int, rounds: int) -> dict[str, Any]:
    docs = _documents(store, count)
    archive = _archive(store, bodies, folder, "archive", docs)
    verifier = node_verifier(store)
    cores = os.cpu_count() or 1
    best: dict[str, float] = {}

    def keep(name: str, rate: float) -> None:
        best[name] = max(best.get(name, 0.0), rate)

    for _ in range(rounds):  # interleaved, best of each: other load on the machine touches all alike
        started = time.perf_counter()
        for content, signature in docs:
            if not verifier.verify(content, signature, at=T0 + timedelta(hours=1)).passed:
                raise SystemExit("the benchmark's own signature does not verify")
        keep("bare", count / (time.perf_counter() - started))
        for workers in sorted({1, cores}):
            started = time.perf_counter()
            verdicts = list(verify_file(archive, store.root_path, workers=workers))
            elapsed = time.perf_counter() - started
            if any(v.indication is not Indication.TOTAL_PASSED for v in verdicts) or len(verdicts) != count + 1:
                raise SystemExit(f"the archive does not verify: {[v.summary() for v in verdicts][:3]}")
            keep(f"w{workers}", count / elapsed)
    return {"documents": count, "rounds": rounds, "bare_verify_per_s": best["bare"],
            "archive_1_process_per_s": best["w1"], f"archive_{cores}_processes_per_s": best[f"w{cores}"],
            "ratio_1_process": best["w1"] / best["bare"], "ratio_all_cores": best[f"w{cores}"] / best["bare"]}


def archive_memory(store: KeyStore, bodies: Path, folder: Path, *, count: int) -> dict[str, Any]:
    """Peak memory of ``verify_file`` (1 process, in a child of its own) for N and 2N documents."""
    import subprocess

    peaks = {}
    for n in (count, 2 * count):
        archive = _archive(store, bodies, folder, f"memory-{n}", _documents(store, n))
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec
        code = ("import sys; from exchange.audit import verify_file; "
                "v = sum(1 for _ in verify_file(sys.argv[1], sys.argv[2], workers=1)); "
                "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
                "print(v, hwm)")
        done = subprocess.run([sys.executable, "-c", code, str(archive), str(store.root_path)], cwd=REPO,
                              capture_output=True, text=True, check=True)
        verdicts, peak = done.stdout.split()
        if int(verdicts) != n + 1:
            raise SystemExit("the memory archive did not verify fully")
        peaks[n] = int(peak) / 1024
    return {"documents": [count, 2 * count], "peak_rss_mib": [peaks[count], peaks[2 * count]],
            "ratio": peaks[2 * count] / peaks[count]}


def _year():  # type: ignore[no-untyped-def]
    from exchange.metrics.periods import Period

    return Period.year(T0.year)


def proof_times(store: KeyStore, bodies: Path, folder: Path, *, small: int, large: int) -> dict[str, Any]:
    from sqlmodel import Session

    service = _service(store, bodies, folder / "proofs", log=True)
    log = service.log
    batch = 20_000
    started = time.perf_counter()
    at = T0
    for first in range(0, large, batch):
        entries = [Append(EntryKind.ACCESS_REFUSED, at, hashlib.sha256(i.to_bytes(8, "big")).digest())
                   for i in range(first, min(large, first + batch))]
        with Session(service.engine) as session:
            log.append(session, entries)
            session.commit()
    build = time.perf_counter() - started
    rng = random.Random(7)
    figures: dict[str, Any] = {"build_s": build, "entries": large}
    for size in (small, large):
        indexes = [rng.randrange(size) for _ in range(300)]
        started = time.perf_counter()
        lengths = [len(log.inclusion(i, size)) for i in indexes]
        figures[f"proof_ms_at_{size}"] = (time.perf_counter() - started) / len(indexes) * 1000
        figures[f"proof_hashes_at_{size}"] = max(lengths)
    figures["ratio_large_to_small"] = figures[f"proof_ms_at_{large}"] / figures[f"proof_ms_at_{small}"]
    service.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer documents; 10^4 vs 10^5 entries for proofs")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    machine = describe(["cryptography", "sqlalchemy"])
    with tempfile.TemporaryDirectory(prefix="bench-log-") as tmp:
        folder = Path(tmp)
        store, bodies = _setup(folder)
        append = append_cost(store, bodies, folder, count=40 if args.quick else 150, rounds=3 if args.quick else 5)
        append.update(hub_cpu_per_document(store, bodies, folder, seconds=3 if args.quick else 8))
        append["log_fraction"] = append["log_ms_per_document"] / append["server_cpu_ms_per_document"]
        archive = archive_rate(store, bodies, folder, count=60 if args.quick else 300, rounds=2 if args.quick else 3)
        archive["memory"] = archive_memory(store, bodies, folder, count=100 if args.quick else 500)
        proofs = proof_times(store, bodies, folder, small=10_000, large=100_000 if args.quick else 1_000_000)
    result = {"machine": machine, "append": append, "archive": archive, "proofs": proofs}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "log.json").write_text(json.dumps(result, indent=1) + "\n")
    if args.json:
        print(json.dumps(result, indent=1))
        return
    cores = os.cpu_count() or 1
    print(f"machine: {machine['nproc']} cores, {machine['cpu']}, load {machine['loadavg_before']}")
    print(f"append: the log costs {append['log_ms_per_document']:.3f} ms CPU a document "
          f"(submit {append['cpu_ms_per_document_with_log']:.2f} ms with it, "
          f"{append['cpu_ms_per_document_without_log']:.2f} without: {append['log_fraction_of_submit'] * 100:.0f} %); "
          f"the hub spends {append['server_cpu_ms_per_document']:.2f} ms CPU a document end to end: "
          f"{append['log_fraction'] * 100:.1f} % (aim ≤ 10 %)")
    print(f"archive: {archive['archive_1_process_per_s']:.0f} documents/s on 1 process, "
          f"{archive[f'archive_{cores}_processes_per_s']:.0f}/s on {cores}, beside bare Verifier.verify "
          f"{archive['bare_verify_per_s']:.0f}/s: {archive['ratio_1_process']:.2f}× "
          f"({archive['ratio_all_cores']:.2f}× on all cores) (aim ≥ 0.5×)")
    memory = archive["memory"]
    print(f"archive memory: peak {memory['peak_rss_mib'][0]:.0f} MiB for {memory['documents'][0]} documents, "
          f"{memory['peak_rss_mib'][1]:.0f} MiB for {memory['documents'][1]}: {memory['ratio']:.3f}")
    large = proofs["entries"]
    print(f"proofs: {proofs['proof_ms_at_10000']:.3f} ms at 10^4 entries ({proofs['proof_hashes_at_10000']} hashes), "
          f"{proofs[f'proof_ms_at_{large}']:.3f} ms at {large:,} ({proofs[f'proof_hashes_at_{large}']} hashes): "
          f"{proofs['ratio_large_to_small']:.2f}× for {large // 10_000}× the entries "
          f"(log built in {proofs['build_s']:.1f} s)")


if __name__ == "__main__":
    main()
