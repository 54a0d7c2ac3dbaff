"""RFC 6962 / RFC 9162 hashing: SHA-256 with a one-byte prefix for leaves and for nodes.

``leaf_hash(d) = SHA-256(0x00 || d)`` and ``node_hash(l, r) = SHA-256(0x01 || l || r)``; the
empty tree's hash is ``SHA-256()``. The prefixes keep a leaf from passing for a node (the
second-preimage attack RFC 6962 §2.1 names), so any CT or tlog implementation given the same
leaves computes the same roots.
"""

from __future__ import annotations

import hashlib

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    """The Merkle leaf hash of one entry's exact bytes."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node from its two children's hashes."""
    return hashlib.sha256(b"\x01" + left + right).digest()
