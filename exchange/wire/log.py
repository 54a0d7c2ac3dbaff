"""The evidence log as the hub's API shows it (``/api/log``): signed checkpoints, entries and
Merkle proofs, every hash and signature base64."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["CheckpointPublic", "ConsistencyProofPublic", "InclusionProofPublic", "LogEntriesPublic",
           "LogEntryPublic"]


class CheckpointPublic(BaseModel):
    """A checkpoint the hub signed: the log's name, size and root, as a C2SP signed note and a CMS."""

    origin: str
    size: int
    root_hash: str  # base64
    note: str  # the C2SP signed note: checkpoint text, blank line, signature line
    cms: str  # detached CMS over the checkpoint text (base64 DER)


class LogEntryPublic(BaseModel):
    """One entry of the log at its index."""

    index: int
    leaf: str  # the entry's exact bytes, base64 (the Merkle leaf)


class LogEntriesPublic(BaseModel):
    """A run of entries, in index order."""

    entries: list[LogEntryPublic]


class InclusionProofPublic(BaseModel):
    """The audit path proving entry *index* is in the tree of *size* entries (RFC 9162)."""

    index: int
    size: int
    proof: list[str]  # base64 hashes, leaf side first


class ConsistencyProofPublic(BaseModel):
    """The proof that the tree of *first* entries is a prefix of the tree of *second* (RFC 9162)."""

    first: int
    second: int
    proof: list[str]
