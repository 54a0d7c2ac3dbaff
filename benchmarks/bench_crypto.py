"""Signing and validation throughput, side by side with openssl, a minimal check and pyHanko.

Run from the repository root::

    .venv/bin/python benchmarks/bench_crypto.py [--seconds N] [--algorithm rsa2048|ecdsa-p256] [--json]
        [--rounds R] [--bodies FILE]

Self-contained: it creates a throwaway demo PKI (a handful of bodies from
``samples/bodies.toml``) in a temporary directory, revokes one body, signs a 100 KiB
document and then measures, each for the same wall time after a warm-up, in interleaved
rounds (``--rounds``) so that other load on the machine touches every figure alike:

* our signing rate (``exchange.cms.sign_detached``) against ``openssl speed``'s sign rate for
  the same algorithm (one ``openssl speed -seconds`` run per round, averaged), with, for
  reference, the bare private-key operation through ``cryptography`` and ``cryptography``'s
  own ``PKCS7SignatureBuilder``;
* the same signing rate against the *fair baseline* for signing a document: SHA-256 of the
  document plus one private-key signature over signed attributes as long as ours, both
  through ``cryptography``/``hashlib`` in this process. ``openssl speed`` signs 32 bytes and
  hashes nothing, which no document signer can match when the hash costs more than the key
  operation (ECDSA P-256 and a 100 KiB document);
* our full validation (``Verifier.verify``: digest, signature, chain and CRL), with one
  verifier reused across calls as the hub does, against a *minimal check* of the same CMS
  done here (asn1crypto parse, SHA-256 of the document against message-digest, signature
  math over the signed attributes with ``cryptography``, nothing else);
* the same full validation with a new verifier per call (nothing cached), for contrast;
* pyHanko's ``async_validate_detached_cms`` on the same detached CMS, with a
  ``ValidationContext`` trusting our root and given our CRL (no fetching, hard-fail
  revocation), and whether its verdict agrees with ours on a valid signature, an altered
  document and a revoked signer.

The clock is pinned (time is a parameter): the PKI is created at ``T0`` and everything is
validated a few hours later, inside the CRL's validity window. This is a benchmark, not a
test: nothing asserts on speed. It exits non-zero only if a measured operation does not do
what it is meant to (e.g. the "valid" signature does not validate), since its rate would
then be meaningless.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from exchange.cms import Verifier, sign_detached
from exchange.domain import BodyRegistry
from exchange.pki import Credential, KeyAlgorithm, KeyStore, PathValidator, init_pki, revoke

from machine import describe  # benchmarks/ is on sys.path when a benchmark runs

REPO = Path(__file__).resolve().parent.parent
DOCUMENT_SIZE = 100 * 1024
BODY_COUNT = 6  # a handful: enough for a signer, a revoked signer and some others
T0 = datetime(2015, 6, 1, 8, 0, tzinfo=UTC)  # PKI created (the programme's first year)
SIGNED_AT = T0 + timedelta(hours=1)
REVOKED_AT = T0 + timedelta(hours=2)
SIGNED_AFTER_REVOCATION = T0 + timedelta(hours=3)
VALIDATE_AT = T0 + timedelta(hours=4)  # inside the CRL's 7-day window
OPENSSL_NAMES = {KeyAlgorithm.RSA2048: "rsa2048", KeyAlgorithm.ECDSA_P256: "ecdsap256"}


# -- measuring ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    name: str
    per_second: float
    calls: int
    seconds: float

    @property
    def microseconds(self) -> float:
        return 1e6 / self.per_second if self.per_second else float("inf")


def measure(
    tasks: dict[str, tuple[str, Callable[[], object]]],
    *,
    seconds: float,
    warmup: float,
    rounds: int,
    between_rounds: Callable[[], None] = lambda: None,
) -> dict[str, Rate]:
    """Rates of *tasks* (key -> (label, function)), each run for *seconds* of wall time.

    Each task is warmed up for *warmup* seconds first; then the tasks take turns, *rounds*
    slices of ``seconds / rounds`` each, so that a change in the machine's load during the
    run (other processes) touches every figure alike and the ratios stay fair.
    """
    clock = time.perf_counter
    for _, fn in tasks.values():
        end = clock() + warmup
        while clock() < end:
            fn()
    calls = dict.fromkeys(tasks, 0)
    spent = dict.fromkeys(tasks, 0.0)
    for _ in range(rounds):
        for key, (_, fn) in tasks.items():
            n = 0
            start = clock()
            deadline = start + seconds / rounds
            while True:
                fn()
                n += 1
                now = clock()
                if now >= deadline:
                    break
            calls[key] += n
            spent[key] += now - start
        between_rounds()
    return {key: Rate(label, calls[key] / spent[key], calls[key], spent[key])
            for key, (label, _) in tasks.items()}


# -- openssl speed -----------------------------------------------------------------------


def openssl_speed(algorithm: KeyAlgorithm, seconds: float) -> tuple[float | None, str]:
    """``openssl speed``'s sign/s for *algorithm* (its single-process figure), and a note."""
    exe = shutil.which("openssl")
    if exe is None:
        return None, "openssl not found on PATH"
    # openssl speed takes whole seconds; it runs sign then verify, each this long. -elapsed:
    # divide by wall-clock time, as every other figure here is; by default it divides by its
    # CPU time, which on a loaded machine inflates its rate against ours
    secs = max(1, round(seconds))
    cmd = [exe, "speed", "-elapsed", "-mr", "-seconds", str(secs), OPENSSL_NAMES[algorithm]]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    # -mr prints "+F2:idx:bits:sign/s:verify/s" (RSA) or "+F4:..." (ECDSA)
    tag = "+F2:" if algorithm is KeyAlgorithm.RSA2048 else "+F4:"
    for line in out.splitlines():
        if line.startswith(tag):
            return float(line.split(":")[3]), " ".join(cmd[1:])
    # fallback: the human-readable table's "sign/s" column
    match = re.search(r"(?:rsa 2048 bits|nistp256\))\s+\S+s\s+\S+s\s+([\d.]+)", out)
    if match:
        return float(match.group(1)), " ".join(cmd[1:])
    return None, f"could not parse `{' '.join(cmd)}` (exit {proc.returncode})"


def pkcs7_builder_sign(document: bytes, credential: Credential) -> bytes:
    """For reference only: cryptography's own detached CMS signer (Rust). It cannot take the
    signing time as a parameter nor add signing-certificate-v2, so the project does not use it."""
    builder = pkcs7.PKCS7SignatureBuilder().set_data(document).add_signer(
        credential.certificate, credential.private_key, hashes.SHA256())  # type: ignore[arg-type]
    for cert in credential.chain:
        builder = builder.add_certificate(cert)
    return builder.sign(serialization.Encoding.DER,
                        [pkcs7.PKCS7Options.Binary, pkcs7.PKCS7Options.DetachedSignature])


# -- the minimal check -------------------------------------------------------------------


def minimal_check(document: bytes, signature: bytes) -> bool:
    """Digest + signature math only: no chain, no validity, no revocation, no policy."""
    signed_data = cms.ContentInfo.load(signature)["content"]
    signer = signed_data["signer_infos"][0]
    attrs = signer["signed_attrs"]
    message_digest = next(a["values"][0].native for a in attrs if a["type"].native == "message_digest")
    if hashlib.sha256(document).digest() != message_digest:
        return False
    sid = signer["sid"].chosen
    cert = next(c.chosen for c in signed_data["certificates"]
                if c.chosen.serial_number == sid["serial_number"].native)
    key = serialization.load_der_public_key(cert.public_key.dump())
    to_verify = b"\x31" + attrs.dump()[1:]  # [0] IMPLICIT -> SET OF, as signed
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signer["signature"].native, to_verify, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signer["signature"].native, to_verify, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


# -- pyHanko -----------------------------------------------------------------------------


def pyhanko_available() -> str | None:
    try:
        import pyhanko.sign.validation  # noqa: F401
        import pyhanko_certvalidator  # noqa: F401
    except ImportError as exc:
        return f"pyHanko not installed ({exc.name}); install the test extras"
    return None


def pyhanko_context(root: asn1_x509.Certificate, crl: asn1_crl.CertificateList, *, at: datetime) -> Any:
    """Trusting *root* only, given *crl*, never fetching, revocation hard-fail, at *at*."""
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(
        trust_roots=[root],
        crls=[crl],
        allow_fetching=False,
        revocation_mode="hard-fail",
        moment=at,
    )


async def pyhanko_validate(document: bytes, signature: bytes, context: Any) -> Any:
    from pyhanko.sign.validation import async_validate_detached_cms

    signed_data = cms.ContentInfo.load(signature)["content"]
    return await async_validate_detached_cms(document, signed_data, signer_validation_context=context)


def pyhanko_verdict(status: Any) -> str:
    """pyHanko's StandardCMSSignatureStatus in a few words, with its AdES indication if any."""
    if status.bottom_line:
        return "valid"
    if not status.intact:
        return "not intact (digest)"
    if not status.valid:
        return "invalid signature"
    indic = getattr(status, "trust_problem_indic", None)
    why = f" ({indic.name})" if indic is not None else ""
    return ("revoked" if status.revoked else "untrusted") + why


# -- the run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Agreement:
    case: str
    ours: str
    pyhanko: str
    agree: bool


def environment(algorithm: KeyAlgorithm) -> dict[str, Any]:
    from cryptography.hazmat.backends.openssl import backend

    exe = shutil.which("openssl")
    cli = subprocess.run([exe, "version"], capture_output=True, text=True, check=False).stdout.strip() if exe else "absent"
    return {
        "algorithm": algorithm.value,
        **describe(("cryptography", "asn1crypto", "pyHanko", "pyhanko-certvalidator")),
        "cryptography_openssl": backend.openssl_version_text(),
        "openssl_cli": cli,
    }


def run(algorithm: KeyAlgorithm, seconds: float, bodies_file: Path, *, rounds: int = 3) -> dict[str, Any]:
    warmup = min(1.0, max(0.2, seconds / 4))
    registry = BodyRegistry.from_toml(bodies_file)
    bodies = list(registry)[:BODY_COUNT]
    signer_id, revoked_id = bodies[0].id, bodies[1].id
    document = os.urandom(DOCUMENT_SIZE)
    altered = bytearray(document)
    altered[DOCUMENT_SIZE // 2] ^= 0x01

    with tempfile.TemporaryDirectory(prefix="bench-pki-") as tmp:
        store = KeyStore.at(tmp)
        init_pki(store, bodies, at=T0, algorithm=algorithm)
        credential = store.credential(signer_id)
        revoked_credential = store.credential(revoked_id)
        revoke(store, revoked_id, at=REVOKED_AT)
        root = store.root()
        crl = store.crl()
        # the same root and CRL, as the asn1crypto objects pyHanko takes (parsed once, like ours)
        root_asn1 = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
        crl_asn1 = asn1_crl.CertificateList.load(crl.public_bytes(serialization.Encoding.DER))

    signature = sign_detached(document, credential, at=SIGNED_AT)
    revoked_before = sign_detached(document, revoked_credential, at=SIGNED_AFTER_REVOCATION)
    revoked_after = sign_detached(document, revoked_credential, at=SIGNED_AT)

    def new_verifier() -> Verifier:
        return Verifier(paths=PathValidator(trust_anchors=[root], crls=[crl], require_revocation=True))

    hub = new_verifier()
    if not hub.verify(document, signature, at=VALIDATE_AT).passed:
        raise SystemExit("bench: our verifier rejects the valid signature; nothing to measure")
    if not minimal_check(document, signature):
        raise SystemExit("bench: the minimal check rejects the valid signature; nothing to measure")

    to_sign = hashlib.sha256(document).digest()
    key = credential.private_key
    # what our signature signs: its signed attributes, re-tagged as the SET OF they are signed as
    signed_attrs = b"\x31" + cms.ContentInfo.load(signature)["content"]["signer_infos"][0]["signed_attrs"].dump()[1:]

    def raw_sign(data: bytes = to_sign) -> bytes:  # the private-key operation alone, through cryptography
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return key.sign(data, ec.ECDSA(hashes.SHA256()))

    def fair_baseline() -> bytes:  # the least any document signer does: hash it, sign attributes
        hashlib.sha256(document).digest()
        return raw_sign(signed_attrs)

    tasks: dict[str, tuple[str, Callable[[], object]]] = {
        "sign": ("sign_detached (100 KiB)", lambda: sign_detached(document, credential, at=SIGNED_AT)),
        "raw_sign": ("cryptography key.sign (32 B)", raw_sign),
        "fair": ("fair baseline: SHA-256 (100 KiB) + key.sign (signed attrs)", fair_baseline),
        "builder": ("PKCS7SignatureBuilder (100 KiB)", lambda: pkcs7_builder_sign(document, credential)),
        "minimal": ("minimal check", lambda: minimal_check(document, signature)),
        "full": ("Verifier.verify, reused", lambda: hub.verify(document, signature, at=VALIDATE_AT)),
        "cold": ("Verifier.verify, new each call",
                 lambda: new_verifier().verify(document, signature, at=VALIDATE_AT)),
    }

    agreement: list[Agreement] = []
    pyhanko_note = pyhanko_available()
    cases = [
        ("valid", document, signature),
        ("altered document", bytes(altered), signature),
        ("revoked before signing", document, revoked_before),
        ("revoked after signing", document, revoked_after),
    ]
    # pyHanko's validation is a coroutine: one event loop runs every call (the loop's own cost
    # per call is some microseconds against milliseconds of validation)
    loop = asyncio.new_event_loop()
    if pyhanko_note is None:
        logging.getLogger("pyhanko").setLevel(logging.ERROR)  # it logs each failure it finds
        logging.getLogger("pyhanko_certvalidator").setLevel(logging.ERROR)
        context = pyhanko_context(root_asn1, crl_asn1, at=VALIDATE_AT)
        tasks["pyhanko"] = ("pyHanko, context reused",
                            lambda: loop.run_until_complete(pyhanko_validate(document, signature, context)))
        tasks["pyhanko_cold"] = ("pyHanko, new context each call", lambda: loop.run_until_complete(
            pyhanko_validate(document, signature, pyhanko_context(root_asn1, crl_asn1, at=VALIDATE_AT))))
        for case, doc, sig in cases:
            status = loop.run_until_complete(
                pyhanko_validate(doc, sig, pyhanko_context(root_asn1, crl_asn1, at=VALIDATE_AT)))
            report = new_verifier().verify(doc, sig, at=VALIDATE_AT)
            ours = report.indication.value + (f"/{report.sub_indication.value}" if report.sub_indication else "")
            agreement.append(Agreement(case, ours, pyhanko_verdict(status), report.passed == status.bottom_line))

    # openssl speed runs in its own process, one slice per round between ours
    openssl_rates: list[float] = []
    openssl_note = ""

    def openssl_round() -> None:
        nonlocal openssl_note
        rate, openssl_note = openssl_speed(algorithm, seconds / rounds)
        if rate is not None:
            openssl_rates.append(rate)

    try:
        rates = measure(tasks, seconds=seconds, warmup=warmup, rounds=rounds, between_rounds=openssl_round)
    finally:
        loop.close()
    openssl_rate = sum(openssl_rates) / len(openssl_rates) if openssl_rates else None

    def ratio(a: str, b: str) -> float | None:
        return rates[a].per_second / rates[b].per_second if a in rates and b in rates else None

    ratios = {
        "sign / openssl speed sign": rates["sign"].per_second / openssl_rate if openssl_rate else None,
        "sign / raw key.sign": ratio("sign", "raw_sign"),
        "sign / fair baseline (hash + key.sign)": ratio("sign", "fair"),
        "raw key.sign / openssl speed sign": rates["raw_sign"].per_second / openssl_rate if openssl_rate else None,
        "PKCS7SignatureBuilder / openssl speed sign":
            rates["builder"].per_second / openssl_rate if openssl_rate else None,
        "full (reused) / minimal": ratio("full", "minimal"),
        "full (new each call) / minimal": ratio("cold", "minimal"),
        "pyHanko (reused) / minimal": ratio("pyhanko", "minimal"),
        "full (reused) / pyHanko (reused)": ratio("full", "pyhanko"),
    }
    return {
        "environment": environment(algorithm),
        "document_bytes": DOCUMENT_SIZE,
        "seconds_per_measurement": seconds,
        "rounds": rounds,
        "warmup_seconds": warmup,
        "openssl_speed": {"sign_per_second": openssl_rate, "command": openssl_note},
        "rates": {k: asdict(v) | {"microseconds": v.microseconds} for k, v in rates.items()},
        "ratios": ratios,
        "aims": {"sign / openssl speed sign": 0.7, "sign / fair baseline (hash + key.sign)": 0.7,
                 "full (reused) / minimal": 0.5},
        "agreement": [asdict(a) for a in agreement],
        "pyhanko_note": pyhanko_note,
    }


# -- printing ----------------------------------------------------------------------------


def print_text(result: dict[str, Any]) -> None:
    env = result["environment"]
    print(f"# bench_crypto — {env['algorithm']}, {result['document_bytes'] // 1024} KiB document, "
          f"{result['seconds_per_measurement']:g} s per measurement in {result['rounds']} interleaved rounds "
          f"(after {result['warmup_seconds']:g} s warm-up)")
    print(f"nproc {env['nproc']} · {env['cpu']}")
    print(f"Python {env['python']} · cryptography {env['cryptography']} ({env['cryptography_openssl']}) · "
          f"openssl CLI: {env['openssl_cli']}")
    print(f"asn1crypto {env['asn1crypto']} · pyHanko {env['pyHanko']} · "
          f"pyhanko-certvalidator {env['pyhanko-certvalidator']}")
    print()
    rows = [(r["name"], r["per_second"], r["microseconds"]) for r in result["rates"].values()]
    speed = result["openssl_speed"]
    if speed["sign_per_second"]:
        rows.insert(3, (f"openssl speed sign ({speed['command'].split()[-1]})", speed["sign_per_second"],
                        1e6 / speed["sign_per_second"]))
    width = max(len(r[0]) for r in rows)
    print(f"{'operation':<{width}}  {'ops/s':>10}  {'µs/op':>9}")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 9}")
    for name, per_second, micro in rows:
        print(f"{name:<{width}}  {per_second:>10,.1f}  {micro:>9,.1f}")
    print()
    aims = result["aims"]
    width = max(len(k) for k in result["ratios"])
    for name, value in result["ratios"].items():
        text = "n/a" if value is None else f"{value:.2f}×"
        aim = f"   (aim ≥ {aims[name]}×: {'met' if value is not None and value >= aims[name] else 'missed'})" \
            if name in aims else ""
        print(f"{name:<{width}}  {text:>7}{aim}")
    if speed["sign_per_second"] is None:
        print(f"openssl speed: {speed['command']}")
    print()
    if result["agreement"]:
        rows2 = result["agreement"]
        w = [max(len(str(r[k])) for r in rows2) for k in ("case", "ours", "pyhanko")]
        w = [max(a, b) for a, b in zip(w, (4, 4, 7), strict=True)]
        print(f"{'case':<{w[0]}}  {'ours':<{w[1]}}  {'pyHanko':<{w[2]}}  agree (pass/fail)")
        for r in rows2:
            print(f"{r['case']:<{w[0]}}  {r['ours']:<{w[1]}}  {r['pyhanko']:<{w[2]}}  {'yes' if r['agree'] else 'NO'}")
    else:
        print(f"pyHanko: {result['pyhanko_note']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="wall time of each measurement (default 2)")
    parser.add_argument("--algorithm", choices=[a.value for a in KeyAlgorithm], default=KeyAlgorithm.RSA2048.value)
    parser.add_argument("--bodies", type=Path, default=REPO / "samples" / "bodies.toml",
                        help="bodies file to take the handful of bodies from")
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleave the measurements in this many slices each (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    result = run(KeyAlgorithm(args.algorithm), args.seconds, args.bodies, rounds=args.rounds)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print_text(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
