"""The evidence file an auditor checks offline: one zip, for one document or a whole period.

Layout (``format: exchange-evidence/1``)::

    manifest.json                    format, origin, creation time, the documents' ids
    checkpoint.note  checkpoint.p7s  the hub's signed checkpoint (C2SP note) and its detached CMS
    pki/crl.pem  pki/chain.pem       the CRL and CA certificates the hub enforced at export
    pki/root-crl.pem                 the root's CRL (the issuing CA's status), when the PKI has one
    documents/ID/record.json         the register's rows of the document (metadata, deliveries)
    documents/ID/content.bin         the document's bytes as the hub stores them (absent on paper)
    documents/ID/signature.p7s       its detached CMS signature, as the hub stores it
    documents/ID/receipts/N.json     each signed status statement, exactly as received,
    documents/ID/receipts/N.p7s        and its detached CMS signature
    documents/ID/log.json            the log entries about it: index, leaf (base64), inclusion
                                     proof (base64 hashes) in the checkpoint's tree

Reading never loads more than one document's files at a time.
"""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from exchange.errors import InputFileError
from exchange.tlog import SignedCheckpoint

FORMAT = "exchange-evidence/1"


@dataclass(frozen=True)
class LoggedEntry:
    """A log entry as a bundle carries it: its index, exact leaf bytes and inclusion proof."""

    index: int
    leaf: bytes
    proof: tuple[bytes, ...]

    def to_dict(self) -> dict[str, Any]:
        """The entry as a bundle's ``log.json`` holds it: index, leaf and proof hashes in base64."""
        return {"index": self.index, "leaf": _b64(self.leaf), "proof": [_b64(p) for p in self.proof]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoggedEntry:
        """An entry read back from ``log.json`` (the inverse of :meth:`to_dict`); KeyError or
        ValueError when malformed."""
        return cls(int(data["index"]), base64.b64decode(data["leaf"]),
                   tuple(base64.b64decode(p) for p in data["proof"]))


@dataclass(frozen=True)
class ReceiptFiles:
    """One signed receipt in a bundle: its name, the statement's exact bytes and its detached CMS
    signature."""

    name: str
    statement: bytes
    signature: bytes


@dataclass(frozen=True)
class DocumentEvidence:
    """Everything a bundle holds about one document."""

    document_id: str
    record: dict[str, Any]
    content: bytes | None
    signature: bytes | None
    receipts: tuple[ReceiptFiles, ...]
    entries: tuple[LoggedEntry, ...]


class BundleWriter:
    """Writes an evidence zip to *target* (a path or a binary stream), one document at a time."""

    def __init__(self, target: str | Path | IO[bytes], *, origin: str, created_at: str) -> None:
        self._zip = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED)
        self._ids: list[str] = []
        self._manifest = {"format": FORMAT, "origin": origin, "created_at": created_at}

    def add_checkpoint(self, signed: SignedCheckpoint, *, crl_pem: bytes, chain_pem: bytes,
                       root_crl_pem: bytes | None = None) -> None:
        """Add the signed checkpoint every proof in the bundle leads to, with the CRLs and the chain
        that validate its signature."""
        self._zip.writestr("checkpoint.note", signed.note)
        self._zip.writestr("checkpoint.p7s", signed.cms)
        self._zip.writestr("pki/crl.pem", crl_pem)
        if root_crl_pem is not None:  # the root's CRL (the issuing CA's status): required too
            self._zip.writestr("pki/root-crl.pem", root_crl_pem)
        self._zip.writestr("pki/chain.pem", chain_pem)

    def add_document(self, document_id: str, *, record: dict[str, Any], content: Path | None,
                     signature: bytes | None, receipts: list[ReceiptFiles], entries: list[LoggedEntry]) -> None:
        """Add one document's evidence: its record, content, signature, signed receipts and the log
        entries with their inclusion proofs."""
        base = f"documents/{document_id}/"
        self._zip.writestr(base + "record.json", json.dumps(record, ensure_ascii=False, default=str))
        # Documents (PDFs, ciphertext) and DER signatures barely compress: stored as they are,
        # they cost an auditor's tool no inflating.
        if content is not None:
            self._zip.write(content, base + "content.bin", compress_type=zipfile.ZIP_STORED)  # streamed
        if signature is not None:
            self._zip.writestr(base + "signature.p7s", signature, compress_type=zipfile.ZIP_STORED)
        for receipt in receipts:
            self._zip.writestr(f"{base}receipts/{receipt.name}.json", receipt.statement)
            self._zip.writestr(f"{base}receipts/{receipt.name}.p7s", receipt.signature,
                               compress_type=zipfile.ZIP_STORED)
        self._zip.writestr(base + "log.json", json.dumps([e.to_dict() for e in entries], indent=1))
        self._ids.append(document_id)

    def close(self) -> None:
        """Write the manifest (origin, creation time, the documents added) and finish the zip; call
        it once, last."""
        self._zip.writestr("manifest.json", json.dumps({**self._manifest, "documents": self._ids}, indent=1))
        self._zip.close()


class BundleReader:
    """Reads an evidence zip; InputFileError if it is not one."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
            self.manifest = json.loads(self._zip.read("manifest.json"))
        except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise InputFileError(f"{path}: not an evidence bundle ({exc})") from None
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != FORMAT:
            raise InputFileError(f"{path}: not an {FORMAT} file")
        self._names = set(self._zip.namelist())
        # each document's receipt statements, found once (not by scanning every name per document)
        self._receipts: dict[str, list[str]] = {}
        for name in sorted(self._names):
            head, sep, tail = name.partition("/receipts/")
            if sep and head.startswith("documents/") and tail.endswith(".json"):
                self._receipts.setdefault(head[len("documents/"):], []).append(name)

    def close(self) -> None:
        """Close the zip file."""
        self._zip.close()

    def __enter__(self) -> BundleReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def document_ids(self) -> list[str]:
        """The ids of the documents the manifest lists, in the order they were added."""
        return [str(d) for d in self.manifest.get("documents", [])]

    def read(self, name: str) -> bytes | None:
        """The bytes of member *name*, or None when the bundle lacks it (a missing file is a
        finding, not an error)."""
        return self._zip.read(name) if name in self._names else None

    def checkpoint(self) -> tuple[bytes | None, bytes | None]:
        """The checkpoint note and its CMS signature, each None when missing."""
        return self.read("checkpoint.note"), self.read("checkpoint.p7s")

    def document(self, document_id: str) -> DocumentEvidence:
        """What the bundle holds for *document_id*: each part None or empty when missing."""
        base = f"documents/{document_id}/"
        record = self.read(base + "record.json")
        log = self.read(base + "log.json")
        receipts = tuple(
            ReceiptFiles(name[len(base) + 9:-5], self._zip.read(name), self.read(name[:-5] + ".p7s") or b"")
            for name in self._receipts.get(document_id, ()))
        return DocumentEvidence(
            document_id=document_id,
            record=json.loads(record) if record else {},
            content=self.read(base + "content.bin"),
            signature=self.read(base + "signature.p7s"),
            receipts=receipts,
            entries=tuple(LoggedEntry.from_dict(e) for e in json.loads(log)) if log else (),
        )

    def iter_documents(self) -> Iterator[DocumentEvidence]:
        """Each document's evidence in manifest order, read one at a time (archives are large)."""
        for document_id in self.document_ids:
            yield self.document(document_id)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
