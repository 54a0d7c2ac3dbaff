"""Secret (Mật) documents: what sign-encrypt-sign costs, side by side with what it is compared to.

Run from the repository root::

    .venv/bin/python benchmarks/bench_secret.py [--quick] [--size KIB] [--rounds R] [--seconds S]
        [--concurrency C] [--json] [--out FILE]

Two comparisons, each measured side by side in one run, rounds alternating (A/B, B/A, …) so
that other load on the machine touches both alike:

1. **End to end**, on a real hub process (``python -m exchange hub serve``, SQLite) on loopback:
   secret sends per second (``exchange.node.send_secret``: fetch and check the recipient's
   encryption certificate from the hub, sign, encrypt to it and to the sender, sign the
   envelope, upload; the hub checks the outer signature and that the envelope is addressed to
   the recipient) beside normal sends of the same document (sign, upload; the hub checks the
   signature), each with ``--concurrency`` node threads of their own body and keep-alive
   client. Aim: secret ≥ 0.6× normal.
2. **Encrypt + decrypt throughput** of :func:`exchange.cms.envelope.encrypt` and
   :meth:`Envelope.decrypt` (AuthEnvelopedData, AES-256-GCM, the content key wrapped to two
   RSA-2048 certificates with RSA-OAEP and unwrapped once) beside raw ``AESGCM`` encrypt +
   decrypt of the same bytes, at 100 KiB and 10 MiB.

Self-contained: a throwaway demo PKI in a temporary directory. Results go to
``benchmarks/results/`` (git-ignored). A benchmark, not a test: it exits non-zero only if a
send failed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_hub import start_hub  # benchmarks/ is on sys.path when a benchmark runs
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from exchange.cms.envelope import Envelope, encrypt
from exchange.domain import BodyRegistry
from exchange.domain.documents import Classification, DocumentMetadata
from exchange.node import HubClient, RetryPolicy, node_verifier, send_secret
from exchange.pki import KeyStore, init_pki

from machine import describe

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"


def _senders(registry: BodyRegistry, count: int) -> list[tuple[str, str]]:
    ids = [b.id for b in registry]
    return [(ids[i], ids[(i + 1) % len(ids)]) for i in range(count)]


def _send_loop(kind: str, client: HubClient, recipient: str, content: bytes, store: KeyStore, *,
               until: float, counts: list[int], errors: list[str]) -> None:
    paths = node_verifier(store).paths
    own = store.encryption_certificate(client.body_id)
    sent = 0
    while time.monotonic() < until:
        metadata = DocumentMetadata.from_dict({
            "recipients": [recipient], "subject": "bench", "message_id": str(uuid.uuid4()),
            "classification": (Classification.SECRET if kind == "secret" else Classification.NORMAL).value})
        # Each document differs (one byte): the hub stores every one, as it would real traffic.
        body = content[:-16] + uuid.uuid4().bytes
        try:
            if kind == "secret":
                send_secret(client, body, metadata=metadata, paths=paths, own_encryption=own,
                            at=datetime.now(UTC), filename="bench.bin")
            else:
                client.send(body, metadata=metadata, filename="bench.bin")
        except Exception as exc:  # noqa: BLE001 - the benchmark's edge: report and stop
            errors.append(f"{kind}: {exc}")
            return
        sent += 1
    counts.append(sent)


def end_to_end(*, store: KeyStore, registry: BodyRegistry, url: str, size: int, rounds: int, seconds: float,
               concurrency: int) -> dict[str, Any]:
    content = os.urandom(size)
    pairs = _senders(registry, concurrency)
    clients = [HubClient(url, credential=store.credential(s), retry=RetryPolicy(attempts=2)) for s, _ in pairs]
    try:
        for client in clients:
            client.authenticate()
        rates: dict[str, list[float]] = {"normal": [], "secret": []}
        errors: list[str] = []
        for r in range(rounds):
            order = ("normal", "secret") if r % 2 == 0 else ("secret", "normal")
            for kind in order:
                counts: list[int] = []
                until = time.monotonic() + seconds
                start = time.monotonic()
                threads = [threading.Thread(target=_send_loop, args=(kind, c, recipient, content, store),
                                            kwargs={"until": until, "counts": counts, "errors": errors})
                           for c, (_, recipient) in zip(clients, pairs, strict=True)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                if errors:
                    raise SystemExit(f"bench: a send failed: {errors[0]}")
                rates[kind].append(sum(counts) / (time.monotonic() - start))
    finally:
        for client in clients:
            client.close()
    normal, secret = statistics.median(rates["normal"]), statistics.median(rates["secret"])
    return {"size": size, "concurrency": concurrency, "rounds": rounds, "seconds": seconds,
            "normal_per_s": normal, "secret_per_s": secret, "ratio": secret / normal,
            "rounds_normal": rates["normal"], "rounds_secret": rates["secret"]}


def _timed(action: Callable[[], object], *, seconds: float) -> float:
    """Runs of *action* per second, over at least *seconds* (and at least 3 runs)."""
    runs, start = 0, time.perf_counter()
    while runs < 3 or time.perf_counter() - start < seconds:
        action()
        runs += 1
    return runs / (time.perf_counter() - start)


def throughput(*, store: KeyStore, registry: BodyRegistry, sizes: list[int], rounds: int,
               seconds: float) -> list[dict[str, Any]]:
    first, second = [b.id for b in registry][:2]
    certs = [store.encryption_certificate(first), store.encryption_certificate(second)]
    reader = store.encryption_credentials(first)[0]
    out = []
    for size in sizes:
        data = os.urandom(size)
        key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(12)

        def ours(data: bytes = data) -> None:
            envelope = Envelope.from_der(encrypt(data, certs))
            envelope.decrypt(reader.certificate, reader.private_key)

        def raw(data: bytes = data, key: bytes = key, nonce: bytes = nonce) -> None:
            aead = AESGCM(key)
            aead.decrypt(nonce, aead.encrypt(nonce, data, None), None)

        rates: dict[str, list[float]] = {"envelope": [], "raw": []}
        for r in range(rounds):
            for name, action in ((("envelope", ours), ("raw", raw)) if r % 2 == 0 else (("raw", raw), ("envelope", ours))):
                rates[name].append(_timed(action, seconds=seconds) * size / 2**20)
        env, raw_rate = statistics.median(rates["envelope"]), statistics.median(rates["raw"])
        out.append({"size": size, "envelope_mib_s": env, "raw_aes_gcm_mib_s": raw_rate, "ratio": env / raw_rate})
    return out


def run(*, size: int, rounds: int, seconds: float, concurrency: int, quick: bool) -> dict[str, Any]:
    registry_all = BodyRegistry.from_toml(REPO / "samples" / "bodies.toml")
    bodies = list(registry_all)[:max(concurrency + 1, 3)]
    with tempfile.TemporaryDirectory(prefix="bench-secret-") as tmp_name:
        tmp = Path(tmp_name)
        bodies_file = tmp / "bodies.toml"
        bodies_file.write_text("".join(
            f'[[body]]\nid = "{b.id}"\nkind = "{b.kind.value}"\nname_vi = {json.dumps(b.name_vi, ensure_ascii=False)}\n'
            f'name_en = {json.dumps(b.name_en, ensure_ascii=False)}\n\n' for b in bodies), encoding="utf-8")
        registry = BodyRegistry.from_toml(bodies_file)
        store = KeyStore.at(tmp / "keys")
        init_pki(store, registry, at=datetime.now(UTC), bodies_file=str(bodies_file))
        hub = start_hub("hub (SQLite)", keys=store.directory, data=tmp / "data", bodies=bodies_file, workers=1,
                        db_url=None, log=tmp / "hub.log")
        try:
            e2e = end_to_end(store=store, registry=registry, url=hub.url, size=size, rounds=rounds, seconds=seconds,
                             concurrency=concurrency)
        finally:
            hub.stop()
        sizes = [100 * 1024, (2 if quick else 10) * 2**20]
        crypto = throughput(store=store, registry=registry, sizes=sizes, rounds=rounds, seconds=seconds / 2)
    return {"benchmark": "bench_secret", "when": datetime.now(UTC).isoformat(), "machine": describe(
        ("cryptography", "asn1crypto", "uvicorn")), "end_to_end": e2e, "throughput": crypto}


def print_text(result: dict[str, Any]) -> None:
    e2e = result["end_to_end"]
    print(f"end to end on a real hub (1 worker, SQLite), {e2e['size'] // 1024} KiB documents, "
          f"{e2e['concurrency']} sending nodes, {e2e['rounds']} rounds of {e2e['seconds']:.0f} s each:")
    print(f"  normal sends (sign, upload, hub validates)          {e2e['normal_per_s']:8.1f} /s")
    print(f"  secret sends (sign, encrypt, sign, upload, validate) {e2e['secret_per_s']:7.1f} /s")
    verdict = "met" if e2e["ratio"] >= 0.6 else "missed"
    print(f"  secret / normal = {e2e['ratio']:.2f}×  (aim ≥ 0.6×: {verdict})")
    print("encrypt + decrypt (AuthEnvelopedData, AES-256-GCM, 2 RSA-OAEP recipients) beside raw AES-GCM:")
    for row in result["throughput"]:
        size = f"{row['size'] // 1024} KiB" if row["size"] < 2**20 else f"{row['size'] // 2**20} MiB"
        print(f"  {size:>7}: envelope {row['envelope_mib_s']:8.1f} MiB/s   raw {row['raw_aes_gcm_mib_s']:8.1f} MiB/s"
              f"   = {row['ratio']:.2f}×")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short rounds (a smoke run, ~30 s)")
    parser.add_argument("--size", type=int, default=100, help="document size in KiB [100]")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per target [3; quick 2]")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per round [8; quick 3]")
    parser.add_argument("--concurrency", type=int, default=4, help="sending node threads [4]")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--out", type=Path, default=None, help="result file [benchmarks/results/secret-TIME.json]")
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 3)
    seconds = args.seconds or (3.0 if args.quick else 8.0)
    result = run(size=args.size * 1024, rounds=rounds, seconds=seconds, concurrency=args.concurrency,
                 quick=args.quick)
    RESULTS.mkdir(exist_ok=True)
    out = args.out or RESULTS / f"secret-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_text(result)
        print(f"(written to {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
