"""A tamper-evident log: RFC 6962/9162 Merkle hashing, stored levels, proofs, checkpoints.

Depends on :mod:`exchange.cms` and :mod:`exchange.pki` (to sign checkpoints); knows nothing of
HTTP or databases: the hub stores the levels, an auditor's tool checks the proofs.
"""

from exchange.tlog.checkpoint import (
    Checkpoint,
    MalformedCheckpointError,
    SignedCheckpoint,
    key_id,
    note_signature_valid,
)
from exchange.tlog.entries import EntryKind, canonical_json, decode_leaf
from exchange.tlog.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from exchange.tlog.proof import root_from_inclusion, verify_consistency, verify_inclusion
from exchange.tlog.tree import (
    Frontier,
    MemoryTree,
    NodeKey,
    NodeReader,
    ProofRangeError,
    consistency_proof,
    inclusion_proof,
    root_at,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Checkpoint",
    "EntryKind",
    "Frontier",
    "MalformedCheckpointError",
    "MemoryTree",
    "NodeKey",
    "NodeReader",
    "ProofRangeError",
    "SignedCheckpoint",
    "canonical_json",
    "consistency_proof",
    "decode_leaf",
    "inclusion_proof",
    "key_id",
    "leaf_hash",
    "node_hash",
    "note_signature_valid",
    "root_at",
    "root_from_inclusion",
    "verify_consistency",
    "verify_inclusion",
]
