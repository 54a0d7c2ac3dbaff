"""Replaying a hub's whole log against its register: what was edited, added or deleted.

The log says, entry by entry, what the register must hold: each document with its sender,
channel, digests and the hub's verdict, each recipient's row (delivered or refused, fetched,
latest status), each receipt and each incoming record. :func:`replay` rebuilds that expected
state from the entries, recomputes the tree's root, and compares both with what the hub holds
now (a :class:`Snapshot`, read from its database or its public API). Fields a source cannot
show (the API has no digests) are simply not compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from exchange.domain.documents import Channel, DeliveryState
from exchange.errors import ExchangeError
from exchange.tlog import Checkpoint, EntryKind, MemoryTree, decode_leaf, leaf_hash

_DOC_FIELDS = ("sender", "channel", "sha256", "signature_sha256", "indication", "sub_indication", "classification")


@dataclass
class Snapshot:
    """What the hub holds now, as plain values (absent keys are not compared).

    ``documents``: id -> fields of ``_DOC_FIELDS`` and ``deliveries``: recipient ->
    ``{"delivered": bool, "state": str, "fetched": bool, "status": str | None}``;
    ``receipts``: id -> document, recipient, status, statement_sha256, signature_sha256;
    ``incoming``: id -> body, from_agency, scanned, entered, sha256.
    """

    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    receipts: dict[int, dict[str, Any]] = field(default_factory=dict)
    incoming: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """One difference: ``edited``, ``added``, ``deleted`` or ``log`` (the log itself), what, why."""

    change: str
    subject: str
    detail: str

    def line(self) -> str:
        """The finding as one line: ``change: subject: detail``."""
        return f"{self.change}: {self.subject}: {self.detail}"


@dataclass
class ReplayResult:
    """What replaying a log against the database found: how many entries, the root they give, and
    every difference."""

    entries: int = 0
    root: bytes = b""
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Whether the replay found no difference: the database matches its log."""
        return not self.findings


def _expected(entries: Iterable[tuple[int, bytes]], tree: MemoryTree, result: ReplayResult,
              progress: Callable[[int], None] | None) -> Snapshot:
    state = Snapshot()
    for index, leaf in entries:
        if index != tree.size:
            result.findings.append(Finding("log", f"entry {tree.size}", f"the log jumps to entry {index}: "
                                                                        "entries were deleted"))
        tree.append_hashes([leaf_hash(leaf)])
        if progress and tree.size % 1000 == 0:
            progress(tree.size)
        try:
            entry = decode_leaf(leaf)
        except ExchangeError as exc:
            result.findings.append(Finding("log", f"entry {index}", str(exc)))
            continue
        kind = entry.get("kind")
        if kind in (EntryKind.ACCEPTED, EntryKind.REFUSED, EntryKind.PAPER):
            doc = {k: entry[k] for k in _DOC_FIELDS if k in entry}
            if kind == EntryKind.PAPER:
                doc["channel"] = Channel.PAPER.value
            row_state = {EntryKind.ACCEPTED: DeliveryState.DELIVERED,
                         EntryKind.REFUSED: DeliveryState.REFUSED}.get(kind, DeliveryState.PAPER).value
            doc["deliveries"] = {r: {"delivered": False, "state": row_state, "fetched": False, "status": None}
                                 for r in entry.get("recipients", [])}
            state.documents[entry["document"]] = doc
        elif kind in (EntryKind.DELIVERED, EntryKind.DOWNLOADED, EntryKind.RECEIPT):
            row = state.documents.get(entry["document"], {}).get("deliveries", {}).get(entry["recipient"])
            if row is None:
                result.findings.append(Finding("log", f"entry {index}", f"{kind} of a document the log never "
                                                                        "registered"))
                continue
            if kind == EntryKind.DELIVERED:
                row["delivered"] = True
            elif kind == EntryKind.DOWNLOADED:
                row["fetched"] = True
            else:
                row["status"] = entry["status"]
                state.receipts[int(entry["receipt"])] = {
                    "document": entry["document"], "recipient": entry["recipient"], "status": entry["status"],
                    "statement_sha256": entry["statement_sha256"], "signature_sha256": entry["signature_sha256"]}
        elif kind == EntryKind.INCOMING:
            state.incoming[entry["entry"]] = {k: entry[k] for k in ("body", "from_agency", "scanned", "entered",
                                                                    "sha256")}
    return state


def _compare(kind: str, expected: dict[Any, dict[str, Any]], actual: dict[Any, dict[str, Any]],
             findings: list[Finding]) -> None:
    for key in sorted(set(expected) | set(actual), key=str):
        subject = f"{kind} {key}"
        if key not in actual:
            findings.append(Finding("deleted", subject, "in the log, no longer in the register"))
        elif key not in expected:
            findings.append(Finding("added", subject, "in the register, never logged"))
        else:
            _compare_fields(subject, expected[key], actual[key], findings)


def _compare_fields(subject: str, expected: dict[str, Any], actual: dict[str, Any], findings: list[Finding]) -> None:
    for name in sorted(set(expected) & set(actual)):
        want, have = expected[name], actual[name]
        if name == "deliveries":
            _compare("recipient row", {f"{subject.split(' ', 1)[1]}→{r}": v for r, v in want.items()},
                     {f"{subject.split(' ', 1)[1]}→{r}": v for r, v in have.items()}, findings)
        elif want != have:
            findings.append(Finding("edited", subject, f"{name} is {have!r}, the log says {want!r}"))


def replay(entries: Iterable[tuple[int, bytes]], snapshot: Snapshot, *, checkpoints: Iterable[Checkpoint] = (),
           blob_problem: Callable[[str], str | None] | None = None,
           progress: Callable[[int], None] | None = None) -> ReplayResult:
    """Compare *snapshot* with the state the log's *entries* describe, the recomputed roots with
    *checkpoints* (signed earlier), and (given *blob_problem*) every logged digest's blob."""
    result = ReplayResult()
    tree = MemoryTree()
    wanted = sorted(checkpoints, key=lambda c: c.size)
    expected = _expected(entries, tree, result, progress)
    result.entries, result.root = tree.size, tree.root()
    for checkpoint in wanted:
        if checkpoint.size > tree.size:
            result.findings.append(Finding("log", f"checkpoint of size {checkpoint.size}",
                                           f"the log has only {tree.size} entries: entries were deleted"))
        elif tree.root(checkpoint.size) != checkpoint.root:
            result.findings.append(Finding("log", f"checkpoint of size {checkpoint.size}",
                                           "the entries do not hash to its signed root: the log was rewritten"))
    _compare("document", expected.documents, snapshot.documents, result.findings)
    _compare("receipt", expected.receipts, snapshot.receipts, result.findings)
    _compare("incoming", expected.incoming, snapshot.incoming, result.findings)
    if blob_problem is not None:
        digests = {(d.get(k), f"document {i}") for i, d in expected.documents.items()
                   for k in ("sha256", "signature_sha256")} | {(d.get("sha256"), f"incoming {i}")
                                                                for i, d in expected.incoming.items()}
        for digest, owner in sorted((d, o) for d, o in digests if d):
            problem = blob_problem(digest)
            if problem:
                result.findings.append(Finding("edited", f"blob {digest[:16]}… of {owner}", problem))
    return result
