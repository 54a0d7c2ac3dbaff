"""A Merkle tree kept as stored levels, and its proofs, in O(log n) reads.

The log stores, for every *complete* subtree, its hash at ``(level, index)``: the subtree of
the ``2**level`` leaves starting at leaf ``index * 2**level`` (level 0 holds the leaf hashes).
Appending a leaf adds it and every subtree it completes (on average two hashes), so nothing
is ever rehashed. The hash of any range the RFC 6962 definitions ask for (``MTH(D[a:b])`` in
a root, an inclusion path or a consistency proof) is a right fold of at most ``log2 n`` of
these stored hashes, so a proof reads O(log² n) hashes in one batch, whatever the log's size.

The right border of the tree (the hashes of the complete subtrees that make up ``[0, n)``,
largest first) is its :class:`Frontier`: enough to append and to compute the current root.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from exchange.errors import InputError
from exchange.tlog.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash

#: (level, index) of a stored subtree hash
NodeKey = tuple[int, int]
#: reads stored hashes in one batch: every key asked for must be returned
NodeReader = Callable[[Collection[NodeKey]], Mapping[NodeKey, bytes]]


class ProofRangeError(InputError):
    """Raised when a proof or root is asked for a size or index outside the log."""

    code = "invalid-log-range"


@dataclass(frozen=True)
class Frontier:
    """The right border of a tree of ``size`` leaves: one hash per set bit of ``size``,
    the largest complete subtree first."""

    size: int
    hashes: tuple[bytes, ...]

    @classmethod
    def empty(cls) -> Frontier:
        """The frontier of the empty tree (size 0, no hashes)."""
        return cls(0, ())

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        """From :meth:`to_bytes` (the hashes concatenated); ValueError if they do not fit *size*."""
        count = bin(size).count("1")
        if len(data) != count * HASH_SIZE:
            raise ValueError(f"a frontier of size {size} holds {count} hashes, not {len(data) / HASH_SIZE:g}")
        return cls(size, tuple(data[i:i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)))

    def to_bytes(self) -> bytes:
        """The frontier's hashes concatenated, largest subtree first (how the hub stores it; the
        size is kept beside it)."""
        return b"".join(self.hashes)

    def root(self) -> bytes:
        """MTH of the whole tree (RFC 9162 §2.1.1): the right fold of the border's hashes."""
        if not self.hashes:
            return EMPTY_ROOT
        result = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            result = node_hash(left, result)
        return result

    def append(self, leaf_hashes: Iterable[bytes]) -> tuple[Frontier, list[tuple[int, int, bytes]]]:
        """The frontier after appending *leaf_hashes*, and the ``(level, index, hash)`` of every
        subtree the new leaves complete (the leaves themselves at level 0), to be stored."""
        border = list(self.hashes)
        size = self.size
        nodes: list[tuple[int, int, bytes]] = []
        for current in leaf_hashes:
            level, index = 0, size
            nodes.append((0, index, current))
            while index & 1:  # this subtree completes its parent: the left sibling is on the border
                current = node_hash(border.pop(), current)
                level, index = level + 1, index >> 1
                nodes.append((level, index, current))
            border.append(current)
            size += 1
        return Frontier(size, tuple(border)), nodes


def subtrees(start: int, end: int) -> list[NodeKey]:
    """The stored subtrees that make up leaves ``[start, end)``, left to right, for a range the
    RFC's recursion produces (``start`` a multiple of a power of two ≥ ``end - start``)."""
    keys: list[NodeKey] = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):  # not aligned: a smaller subtree first (never for RFC ranges)
            level -= 1
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def range_hash(start: int, end: int, stored: Mapping[NodeKey, bytes]) -> bytes:
    """``MTH(D[start:end])`` from the stored hashes of :func:`subtrees` (a right fold)."""
    keys = subtrees(start, end)
    result = stored[keys[-1]]
    for key in reversed(keys[:-1]):
        result = node_hash(stored[key], result)
    return result


def _largest_power_below(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1), as RFC 6962 splits."""
    return 1 << ((n - 1).bit_length() - 1)


def _path_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose MTH form PATH(index, D[0:size]) (RFC 6962 §2.1.1), leaf side first."""
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_below(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return list(reversed(ranges))


def _consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The ranges whose MTH form PROOF(first, D[0:second]) (RFC 6962 §2.1.2), leaf side first."""
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, second, first, True
    while m != end - start:
        k = _largest_power_below(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        ranges.append((start, end))
    return list(reversed(ranges))


def _hashes_of(ranges: Sequence[tuple[int, int]], read: NodeReader) -> list[bytes]:
    wanted = {key for start, end in ranges for key in subtrees(start, end)}
    stored = read(wanted) if wanted else {}
    return [range_hash(start, end, stored) for start, end in ranges]


def root_at(size: int, read: NodeReader) -> bytes:
    """The root of the first *size* leaves, from stored hashes (at most log2 size reads)."""
    if size < 0:
        raise ProofRangeError(f"a tree size cannot be negative ({size})")
    return _hashes_of([(0, size)], read)[0] if size else EMPTY_ROOT


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    """The audit path of leaf *index* in the tree of *size* leaves (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ProofRangeError(f"leaf {index} is not in a tree of {size} leaves")
    return _hashes_of(_path_ranges(index, size), read)


def consistency_proof(first: int, second: int, read: NodeReader) -> list[bytes]:
    """The proof that the tree of *first* leaves is a prefix of the one of *second* (§2.1.4.1)."""
    if not 0 <= first <= second:
        raise ProofRangeError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    return _hashes_of(_consistency_ranges(first, second), read)


class MemoryTree:
    """Stored levels in a dict: for tests, benchmarks and offline replays of a log."""

    def __init__(self) -> None:
        self.nodes: dict[NodeKey, bytes] = {}
        self.frontier = Frontier.empty()

    @property
    def size(self) -> int:
        """How many leaves the tree holds."""
        return self.frontier.size

    def append(self, leaf: bytes) -> None:
        """Append one leaf (its exact bytes; the tree stores its RFC 6962 leaf hash)."""
        self.append_hashes([leaf_hash(leaf)])

    def append_hashes(self, hashes: Iterable[bytes]) -> None:
        """Append leaves already hashed (RFC 6962 leaf hashes), keeping every complete subtree's
        node."""
        self.frontier, nodes = self.frontier.append(hashes)
        self.nodes.update(((level, index), value) for level, index, value in nodes)

    def read(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        """The stored nodes at *keys* ((level, index) pairs); KeyError for one never stored."""
        return {key: self.nodes[key] for key in keys}

    def root(self, size: int | None = None) -> bytes:
        """The tree head over the first *size* leaves (default: all of them)."""
        return self.frontier.root() if size is None or size == self.size else root_at(size, self.read)
