"""Offline verification of an evidence bundle or archive: no network, only the CA certificate.

The checks, numbered as the report names them:

Checkpoint (once per file)

1. checkpoint signature — the detached CMS over the checkpoint's text validates to the trust
   anchor (with the bundled CRL) and its signer is the hub's certificate
2. checkpoint note — the C2SP note carries a valid signature line by the same key

Each document

3. log entries — every entry is canonical, names this document, and its inclusion proof
   leads to the checkpoint's root
4. register record — the register's rows in the bundle say what the log says (sender,
   recipients, channel, digests, the hub's indication, each delivery's state and status)
5. document bytes — the bytes hash to the SHA-256 the log recorded at acceptance
6. signature — the stored signature is the one logged, and validates over the bytes with the
   verdict the hub logged (time-stamp tokens give proof of existence where present)
7. receipts — every logged receipt is in the bundle, byte for byte, and each validates: signed
   by its recipient, over this document's SHA-256
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exchange.audit.bundle import BundleReader, DocumentEvidence
from exchange.audit.report import AuditCheck, Verdict
from exchange.cms import Indication, Outcome, Verifier
from exchange.domain.documents import DeliveryState
from exchange.domain.receipts import ReceiptStatement
from exchange.errors import ExchangeError
from exchange.pki import PathValidator, load_certificate_file, load_crl
from exchange.tlog import (
    Checkpoint,
    EntryKind,
    MalformedCheckpointError,
    SignedCheckpoint,
    decode_leaf,
    leaf_hash,
    note_signature_valid,
    verify_inclusion,
)

HUB_ID = "hub"  # the UID of the hub's certificate


def _ok(name: str, detail: str) -> AuditCheck:
    return AuditCheck(name, Outcome.PASSED, detail)


def _bad(name: str, detail: str, *, indeterminate: bool = False) -> AuditCheck:
    return AuditCheck(name, Outcome.FAILED, detail, indeterminate)


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def bundle_verifier(reader: BundleReader, ca_file: Path) -> Verifier:
    """A verifier trusting *ca_file* and enforcing the CRLs the bundle carries (issuing CA's, root's)."""
    anchors = load_certificate_file(ca_file)
    crls = [load_crl(data, source=name) for name in ("pki/crl.pem", "pki/root-crl.pem")
            if (data := reader.read(name))]
    return Verifier(paths=PathValidator(trust_anchors=anchors, crls=crls, require_revocation=bool(crls)))


def verify_checkpoint(reader: BundleReader, verifier: Verifier) -> tuple[Verdict, Checkpoint | None]:
    """Checks 1-2 on the bundle's checkpoint; the checkpoint (None if it does not parse)."""
    note, cms = reader.checkpoint()
    if note is None or cms is None:
        return Verdict("checkpoint", (_bad("checkpoint signature", "the bundle has no signed checkpoint"),)), None
    try:
        signed = SignedCheckpoint.from_note(note, cms)
    except MalformedCheckpointError as exc:
        return Verdict("checkpoint", (_bad("checkpoint signature", str(exc)),)), None
    return check_signed_checkpoint(signed, verifier), signed.checkpoint


def check_signed_checkpoint(signed: SignedCheckpoint, verifier: Verifier) -> Verdict:
    """Checks 1-2: the CMS over the checkpoint's text is the hub's and validates; the note's
    signature line is by the same key."""
    checks: list[AuditCheck] = []
    try:
        # The checkpoint is validated at the time it says it was signed: the hub's certificate
        # must have been valid and unrevoked then (a later expiry does not undo it).
        at = verifier.parse(signed.cms).signing_time or datetime.now(UTC)
        report = verifier.verify(signed.checkpoint.text(), signed.cms, at=at)
    except ExchangeError as exc:
        return Verdict("checkpoint", (_bad("checkpoint signature", str(exc)),))
    signer_cert = None
    if report.signer is None or report.signer.body_id != HUB_ID:
        who = report.signer.body_id if report.signer else "nobody"
        checks.append(_bad("checkpoint signature", f"signed by {who}, not by the hub's certificate"))
    elif report.indication is not Indication.TOTAL_PASSED:
        checks.append(_bad("checkpoint signature", report.summary(),
                           indeterminate=report.indication is Indication.INDETERMINATE))
    else:
        checks.append(_ok("checkpoint signature", f"signed by the hub at {report.signing_time}"))
        signer_cert = verifier.parse(signed.cms).signer_certificate
    if signer_cert is not None and note_signature_valid(signed, signer_cert):
        checks.append(_ok("checkpoint note", f"{signed.checkpoint.origin}: {signed.checkpoint.size} entries"))
    elif signer_cert is not None:
        checks.append(_bad("checkpoint note", "the note has no valid signature line by the hub's key"))
    return Verdict("checkpoint", tuple(checks))


def verify_document(doc: DocumentEvidence, checkpoint: Checkpoint, verifier: Verifier) -> Verdict:
    """Checks 3-7 for one document of a bundle whose checkpoint passed checks 1-2."""
    checks: list[AuditCheck] = []
    entries: list[dict[str, Any]] = []
    # 3. log entries
    problems = []
    for logged in doc.entries:
        try:
            entry = decode_leaf(logged.leaf)
        except ExchangeError as exc:
            problems.append(f"entry {logged.index}: {exc}")
            continue
        if entry.get("document") != doc.document_id:
            problems.append(f"entry {logged.index} is about {entry.get('document')}, not this document")
        if not verify_inclusion(logged.index, checkpoint.size, leaf_hash(logged.leaf), logged.proof, checkpoint.root):
            problems.append(f"entry {logged.index} is not in the checkpoint's tree (its inclusion proof fails)")
        entries.append(entry)
    if not doc.entries:
        problems.append("the bundle has no log entry for this document")
    checks.append(_bad("log entries", "; ".join(problems)) if problems else
                  _ok("log entries", f"{len(doc.entries)} entries included in the tree of {checkpoint.size}"))
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_kind.setdefault(entry["kind"], []).append(entry)
    found = by_kind.get(EntryKind.ACCEPTED) or by_kind.get(EntryKind.REFUSED) or by_kind.get(EntryKind.PAPER)
    registered = found[0] if found else None
    if registered is None:
        checks.append(_bad("register record", "the log never registered this document"))
        return Verdict(doc.document_id, tuple(checks))
    # 4. register record
    checks.append(_record_check(doc.record, registered, by_kind))
    if registered["kind"] == EntryKind.PAPER:
        return Verdict(doc.document_id, tuple(checks))
    # 5. document bytes
    content_sha = hashlib.sha256(doc.content).hexdigest() if doc.content is not None else None
    if content_sha is None:
        checks.append(_bad("document bytes", "the bundle lacks the document's bytes"))
    elif content_sha != registered.get("sha256"):
        checks.append(_bad("document bytes", f"the bytes hash to {content_sha[:16]}…, the log recorded "
                                             f"{str(registered.get('sha256'))[:16]}… at acceptance: altered"))
    else:
        checks.append(_ok("document bytes", f"SHA-256 {content_sha} as logged"))
    # 6. signature (the bytes were hashed once, above)
    checks.append(_signature_check(doc, registered, verifier, content_sha))
    # 7. receipts
    checks.append(_receipts_check(doc, by_kind.get(EntryKind.RECEIPT, []), registered, verifier))
    return Verdict(doc.document_id, tuple(checks))


def _record_check(record: dict[str, Any], registered: dict[str, Any], by_kind: dict[str, list[dict[str, Any]]]
                  ) -> AuditCheck:
    name = "register record"
    if not record:
        return _bad(name, "the bundle lacks the register's record")
    differences = []
    for field in ("sender", "channel", "sha256", "indication", "sub_indication", "classification"):
        if field in registered and record.get(field) != registered[field]:
            differences.append(f"{field} is {record.get(field)!r} in the register, {registered[field]!r} in the log")
    states = {d.get("recipient"): d for d in record.get("deliveries", [])}
    if sorted(states) != sorted(registered.get("recipients", [])):
        differences.append(f"recipients are {sorted(states)} in the register, {registered.get('recipients')} in the log")
    expected_state = {EntryKind.ACCEPTED: DeliveryState.DELIVERED, EntryKind.REFUSED: DeliveryState.REFUSED,
                      EntryKind.PAPER: DeliveryState.PAPER}[EntryKind(registered["kind"])]
    delivered = {e["recipient"] for e in by_kind.get(EntryKind.DELIVERED, [])}
    downloaded = {e["recipient"] for e in by_kind.get(EntryKind.DOWNLOADED, [])}
    last_status: dict[str, str] = {}
    for receipt in by_kind.get(EntryKind.RECEIPT, []):
        last_status[receipt["recipient"]] = receipt["status"]
    for recipient, row in sorted(states.items()):
        if row.get("state") != expected_state or (expected_state is DeliveryState.DELIVERED
                                                  and recipient not in delivered):
            differences.append(f"{recipient}: state {row.get('state')!r} in the register, "
                               f"{expected_state.value!r} in the log")
        if bool(row.get("fetched_at")) != (recipient in downloaded):
            differences.append(f"{recipient}: downloaded {'yes' if row.get('fetched_at') else 'no'} in the register, "
                               f"{'yes' if recipient in downloaded else 'no'} in the log")
        if row.get("status") != last_status.get(recipient):
            differences.append(f"{recipient}: status {row.get('status')!r} in the register, "
                               f"{last_status.get(recipient)!r} in the log")
    if differences:
        return _bad(name, "the register was changed: " + "; ".join(differences))
    return _ok(name, f"{len(states)} recipient rows agree with the log")


def _signature_check(doc: DocumentEvidence, registered: dict[str, Any], verifier: Verifier,
                     content_sha: str | None) -> AuditCheck:
    name = "signature"
    logged = registered.get("signature_sha256")
    if doc.signature is None:
        if logged:
            return _bad(name, "the log recorded a signature the bundle lacks")
        return _ok(name, "sent unsigned (as logged)")
    stored = hashlib.sha256(doc.signature).hexdigest()
    if stored != logged:
        return _bad(name, f"the signature file hashes to {stored[:16]}…, the log recorded {str(logged)[:16]}…")
    if doc.content is None:
        return _bad(name, "no document bytes to check the signature over")
    try:
        report = verifier.verify(doc.content, doc.signature, at=_time(registered["at"]),
                                 sha256=bytes.fromhex(content_sha) if content_sha else None)
    except ExchangeError as exc:
        return _bad(name, f"{exc}")
    hub_said = registered.get("indication")
    if report.indication.value == hub_said and (
            report.sub_indication.value if report.sub_indication else None) == registered.get("sub_indication"):
        return _ok(name, f"{report.summary()} (as the hub logged)")
    if report.indication is Indication.INDETERMINATE:
        return _bad(name, report.summary(), indeterminate=True)
    return _bad(name, f"{report.summary()}; the hub logged {hub_said}")


def _receipts_check(doc: DocumentEvidence, logged: list[dict[str, Any]], registered: dict[str, Any],
                    verifier: Verifier) -> AuditCheck:
    name = "receipts"
    files = {hashlib.sha256(r.statement).hexdigest(): r for r in doc.receipts}
    problems: list[str] = []
    for entry in logged:
        receipt = files.pop(entry["statement_sha256"], None)
        if receipt is None:
            problems.append(f"{entry['recipient']}'s receipt {entry['receipt']} (status {entry['status']}) is "
                            "missing or altered in the bundle")
            continue
        if hashlib.sha256(receipt.signature).hexdigest() != entry["signature_sha256"]:
            problems.append(f"{entry['recipient']}'s receipt signature is not the one logged")
            continue
        try:
            statement = ReceiptStatement.from_bytes(receipt.statement)
            report = verifier.verify(receipt.statement, receipt.signature, at=_time(entry["at"]))
        except ExchangeError as exc:
            problems.append(f"{entry['recipient']}'s receipt: {exc}")
            continue
        signer = report.signer.body_id if report.signer else None
        if not report.passed:
            problems.append(f"{entry['recipient']}'s receipt signature: {report.summary()}")
        elif signer != entry["recipient"]:
            problems.append(f"{entry['recipient']}'s receipt is signed by {signer}")
        elif statement.sha256 != registered.get("sha256") or statement.document_id != doc.document_id:
            problems.append(f"{entry['recipient']}'s receipt acknowledges other bytes or another document")
    for receipt in files.values():
        problems.append(f"receipt {receipt.name} is in the bundle but not in the log")
    if problems:
        return _bad(name, "; ".join(problems))
    return _ok(name, f"{len(logged)} signed receipts as logged" if logged else "no receipts")


# -- a whole file, in parallel ---------------------------------------------------------------

@dataclass(frozen=True)
class _Job:
    path: Path
    ca_file: Path


_worker: tuple[BundleReader, Verifier, Checkpoint] | None = None


def _init_worker(job: _Job, checkpoint: Checkpoint) -> None:
    global _worker
    reader = BundleReader(job.path)
    _worker = (reader, bundle_verifier(reader, job.ca_file), checkpoint)


def _verify_one(document_id: str) -> Verdict:
    assert _worker is not None
    reader, verifier, checkpoint = _worker
    return verify_document(reader.document(document_id), checkpoint, verifier)


def verify_file(path: Path, ca_file: Path, *, workers: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> Iterator[Verdict]:
    """The checkpoint's verdict first, then each document's, checked on *workers* processes
    (default: every core). Each worker opens the file itself and holds one document at a time,
    so memory does not grow with the file. Raises InputFileError if *path* is no bundle."""
    reader = BundleReader(path)
    verifier = bundle_verifier(reader, ca_file)
    verdict, checkpoint = verify_checkpoint(reader, verifier)
    yield verdict
    ids = reader.document_ids
    if checkpoint is None or verdict.indication is Indication.TOTAL_FAILED:
        reader.close()
        return  # nothing can be proven against a checkpoint that is not the hub's
    total = len(ids)
    workers = workers or os.cpu_count() or 1
    if workers == 1 or total < 8:
        for done, document_id in enumerate(ids, start=1):
            yield verify_document(reader.document(document_id), checkpoint, verifier)
            if progress:
                progress(done, total)
        reader.close()
        return
    reader.close()
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(_Job(Path(path), Path(ca_file)), checkpoint)) as pool:
        for done, result in enumerate(pool.map(_verify_one, ids, chunksize=8), start=1):
            yield result
            if progress:
                progress(done, total)
