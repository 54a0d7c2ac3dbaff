"""RFC 3161 time-stamps: tokens issued per second beside the TSA key's bare signature, and
validation of a time-stamped signature beside the same signature without its token.

Run from the repository root::

    .venv/bin/python benchmarks/bench_timestamp.py [--quick] [--algorithm rsa2048|ecdsa-p256]
        [--seconds S] [--rounds R] [--signatures N] [--json] [--out FILE]

Self-contained: it creates a throwaway demo PKI (a handful of bodies, its TSA) in a temporary
directory and then measures, each for the same wall time after a warm-up, in interleaved
rounds so that other load on the machine touches every figure alike:

* **issuing** — ``TimeStampAuthority.respond`` (a DER ``TimeStampReq`` with a nonce and
  ``certReq`` in, a granted ``TimeStampResp`` out: what ``POST /api/tsa`` does without HTTP),
  ``TimeStampAuthority.issue`` (the token alone) and ``TimeStampAuthority.stamp`` (what the hub
  does to an accepted signature: a token over its signature value, added as an unsigned
  attribute), each beside the bare private-key operation of the *same* TSA key through
  ``cryptography`` (``key.sign`` of as many bytes as a token's signed attributes). Aim: the
  TSA at ≥ 0.5× the bare signature.
* **validating** — ``Verifier.verify`` (one verifier reused, as the hub and the nodes do) of
  time-stamped signatures beside the *same* signatures without their token, over a 100 KiB
  document. The token is checked in full (imprint, TSA signature, TSA path and revocation at the
  token's time). ``--signatures`` distinct signatures (default 2000, more than any cache holds)
  are cycled through, so neither side validates the same bytes twice in a row. Aim: ≥ 0.6×.

The clock is pinned (time is a parameter): the PKI is created at ``T0`` and everything is
signed, stamped and validated within the CRLs' 7-day window. Results also go to
``benchmarks/results/timestamp.json`` (git-ignored). This is a benchmark, not a test: nothing
asserts on speed; it exits non-zero only if an operation does not do what it is meant to.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from exchange.cms import Indication, TimeStampAuthority, Verifier, sign_detached, strip_timestamps
from exchange.cms.tsa import build_request
from exchange.domain import BodyRegistry
from exchange.pki import KeyAlgorithm, KeyStore, init_pki

from machine import describe  # benchmarks/ is on sys.path when a benchmark runs

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
DOCUMENT_SIZE = 100 * 1024
BODY_COUNT = 3
T0 = datetime(2015, 6, 1, 8, 0, tzinfo=UTC)
VALIDATE_AT = T0 + timedelta(days=2)  # inside the CRLs' 7-day window


def measure(tasks: dict[str, Callable[[], object]], *, seconds: float, warmup: float, rounds: int
            ) -> dict[str, list[float]]:
    """Per task, its rate (calls per second) in each of *rounds* interleaved slices."""
    clock = time.perf_counter
    for fn in tasks.values():
        end = clock() + warmup
        while clock() < end:
            fn()
    rates: dict[str, list[float]] = {key: [] for key in tasks}
    for _ in range(rounds):
        for key, fn in tasks.items():
            n, start = 0, clock()
            deadline = start + seconds / rounds
            while True:
                fn()
                n += 1
                now = clock()
                if now >= deadline:
                    break
            rates[key].append(n / (now - start))
    return rates


def _cycle(items: list[Any]) -> Callable[[], Any]:
    state = {"i": 0}

    def next_item() -> Any:
        i = state["i"]
        state["i"] = (i + 1) % len(items)
        return items[i]

    return next_item


def run(algorithm: KeyAlgorithm, *, seconds: float, warmup: float, rounds: int, signatures: int) -> dict[str, Any]:
    registry = BodyRegistry.from_toml(REPO / "samples" / "bodies.toml")
    with tempfile.TemporaryDirectory(prefix="bench-timestamp-") as tmp:
        store = KeyStore(Path(tmp) / "keys")
        init_pki(store, list(registry)[:BODY_COUNT], at=T0, algorithm=algorithm)
        signer = store.credential(list(registry)[0].id)
        tsa = TimeStampAuthority(store.tsa_credential())
        key = tsa.credential.private_key
        document = secrets.token_bytes(DOCUMENT_SIZE)

        # -- issuing --------------------------------------------------------------------
        stamp_at = T0 + timedelta(hours=1)
        requests = [build_request(secrets.token_bytes(32), nonce=secrets.randbits(63)) for _ in range(256)]
        next_request = _cycle(requests)
        sample = sign_detached(document, signer, at=T0 + timedelta(minutes=30))
        attrs_len = len(tsa._attrs_before) + len(tsa._digest_prefix) + 32 + len(tsa._attrs_after) + 4
        to_sign = secrets.token_bytes(attrs_len)

        def raw_sign() -> bytes:
            if isinstance(key, rsa.RSAPrivateKey):
                return key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
            return key.sign(to_sign, ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr]

        reply = tsa.respond(next_request(), at=stamp_at)
        if b"\x30\x03\x02\x01\x00" not in reply[:16]:  # PKIStatusInfo granted, right after the header
            raise SystemExit("the TSA did not grant the benchmark's request")
        issuing = measure({
            "raw": raw_sign,
            "respond": lambda: tsa.respond(next_request(), at=stamp_at),
            "issue": lambda: tsa.issue("sha256", next_request()[-40:-8], at=stamp_at),
            "stamp": lambda: tsa.stamp(sample, at=stamp_at),
        }, seconds=seconds, warmup=warmup, rounds=rounds)

        # -- validating -----------------------------------------------------------------
        stamped = []
        for i in range(signatures):
            signed_at = T0 + timedelta(hours=1, seconds=i)  # distinct bytes for each
            stamped.append(tsa.stamp(sign_detached(document, signer, at=signed_at),
                                     at=signed_at + timedelta(seconds=1)).signature)
        plain = [strip_timestamps(s) for s in stamped]
        verifier = Verifier(paths=store.path_validator())
        for label, pool in (("stamped", stamped), ("plain", plain)):
            report = verifier.verify(document, pool[0], at=VALIDATE_AT)
            if report.indication is not Indication.TOTAL_PASSED or (label == "stamped") != bool(
                    report.timestamp and report.timestamp.passed):
                raise SystemExit(f"the {label} signature did not validate as expected: {report.summary()}")
        next_stamped, next_plain = _cycle(stamped), _cycle(plain)
        validating = measure({
            "plain": lambda: verifier.verify(document, next_plain(), at=VALIDATE_AT),
            "stamped": lambda: verifier.verify(document, next_stamped(), at=VALIDATE_AT),
        }, seconds=seconds, warmup=warmup, rounds=rounds)

    def ratio(rates: dict[str, list[float]], a: str, b: str) -> dict[str, float]:
        per_round = [x / y for x, y in zip(rates[a], rates[b], strict=True)]
        return {"median": median(per_round), "min": min(per_round), "max": max(per_round)}

    return {
        "algorithm": algorithm.value,
        "seconds": seconds, "rounds": rounds, "signatures": signatures, "document_bytes": DOCUMENT_SIZE,
        "machine": describe(("cryptography", "asn1crypto")),
        "per_second": {f"issuing.{k}": median(v) for k, v in issuing.items()}
        | {f"validating.{k}": median(v) for k, v in validating.items()},
        "ratios": {
            "respond / raw key.sign": ratio(issuing, "respond", "raw"),
            "issue / raw key.sign": ratio(issuing, "issue", "raw"),
            "stamp / raw key.sign": ratio(issuing, "stamp", "raw"),
            "time-stamped / plain validation": ratio(validating, "stamped", "plain"),
        },
        "aims": {"respond / raw key.sign": 0.5, "time-stamped / plain validation": 0.6},
    }


def print_text(result: dict[str, Any]) -> None:
    m = result["machine"]
    print(f"{result['algorithm']}: {m['nproc']} cores ({m['cpu']}), load {m['loadavg_before']}, "
          f"{result['rounds']} rounds of {result['seconds']} s, {result['signatures']} distinct signatures")
    labels = {
        "issuing.raw": "TSA key: bare key.sign (cryptography)",
        "issuing.respond": "TimeStampAuthority.respond (request in, reply out)",
        "issuing.issue": "TimeStampAuthority.issue (token alone)",
        "issuing.stamp": "TimeStampAuthority.stamp (token added to a signature)",
        "validating.plain": "Verifier.verify, signature without a token",
        "validating.stamped": "Verifier.verify, the same signature time-stamped",
    }
    for key, label in labels.items():
        rate = result["per_second"][key]
        print(f"  {label:<58} {rate:>9,.0f}/s  {1e6 / rate:>8.0f} µs")
    for name, r in result["ratios"].items():
        aim = result["aims"].get(name)
        verdict = "" if aim is None else f"  aim ≥ {aim:.1f}×: {'met' if r['median'] >= aim else 'missed'}"
        print(f"  {name:<40} {r['median']:.2f}× (rounds {r['min']:.2f}–{r['max']:.2f}){verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds: 2 rounds of 1 s, 400 signatures")
    parser.add_argument("--algorithm", choices=[a.value for a in KeyAlgorithm], default=KeyAlgorithm.RSA2048.value)
    parser.add_argument("--seconds", type=float, help="wall time of each measurement (default 6; quick 2)")
    parser.add_argument("--rounds", type=int, help="interleaved slices per measurement (default 3; quick 2)")
    parser.add_argument("--signatures", type=int, help="distinct signatures validated (default 2000; quick 400)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--out", type=Path, help="where to write the JSON result (default benchmarks/results/)")
    args = parser.parse_args(argv)
    seconds = args.seconds or (2.0 if args.quick else 6.0)
    rounds = args.rounds or (2 if args.quick else 3)
    signatures = args.signatures or (400 if args.quick else 2000)
    if seconds <= 0 or rounds < 1 or signatures < 1:
        parser.error("--seconds, --rounds and --signatures must be positive")
    result = run(KeyAlgorithm(args.algorithm), seconds=seconds, warmup=0.5 if args.quick else 1.0, rounds=rounds,
                 signatures=signatures)
    out = args.out or RESULTS / f"timestamp-{result['algorithm']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print_text(result)
        print(f"  (written to {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
