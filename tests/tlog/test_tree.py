"""Our roots and proofs against RFC 6962 §2.1 computed here from the RFC's own definitions.

The reference below is a literal transcription of the RFC's recursive MTH, PATH and
PROOF/SUBPROOF over the list of entries (it rehashes everything and shares no code with
exchange.tlog), checked for every index and pair of sizes up to 70 leaves and a few larger.
"""

from __future__ import annotations

import hashlib

import pytest

from exchange.tlog import (
    EMPTY_ROOT,
    Frontier,
    MemoryTree,
    ProofRangeError,
    consistency_proof,
    inclusion_proof,
    root_at,
    verify_consistency,
    verify_inclusion,
)


# -- RFC 6962 §2.1, written from the text -------------------------------------------------------
def _k(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(n)
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    return subproof(m, d, True)


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = _k(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


# -- the tests ------------------------------------------------------------------------------------
def _entries(n: int) -> list[bytes]:
    return [f'{{"i":{i}}}'.encode() for i in range(n)]


@pytest.fixture(scope="module")
def tree() -> MemoryTree:
    t = MemoryTree()
    for leaf in _entries(70):
        t.append(leaf)
    return t


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert MemoryTree().root() == EMPTY_ROOT == mth([])


def test_roots_equal_the_rfc_for_every_size(tree: MemoryTree) -> None:
    data = _entries(70)
    for size in range(71):
        assert root_at(size, tree.read) == mth(data[:size]), size
    grown = MemoryTree()
    for size, leaf in enumerate(data, start=1):
        grown.append(leaf)
        assert grown.root() == mth(data[:size])  # the frontier's root as it grows


def test_inclusion_proofs_equal_the_rfc_and_verify(tree: MemoryTree) -> None:
    data = _entries(70)
    for size in range(1, 71):
        root = mth(data[:size])
        for index in range(size):
            ours = inclusion_proof(index, size, tree.read)
            assert ours == path(index, data[:size]), (index, size)
            leaf = hashlib.sha256(b"\x00" + data[index]).digest()
            assert verify_inclusion(index, size, leaf, ours, root)
            if ours:  # any altered proof element fails
                bad = [ours[0][:-1] + bytes([ours[0][-1] ^ 1]), *ours[1:]]
                assert not verify_inclusion(index, size, leaf, bad, root)
            assert not verify_inclusion(index, size, hashlib.sha256(b"\x00x").digest(), ours, root)


def test_consistency_proofs_equal_the_rfc_and_verify(tree: MemoryTree) -> None:
    data = _entries(70)
    for second in range(1, 71):
        for first in range(0, second + 1):
            ours = consistency_proof(first, second, tree.read)
            expected = [] if first == 0 else proof(first, data[:second])
            assert ours == expected, (first, second)
            assert verify_consistency(first, second, mth(data[:first]), mth(data[:second]), ours)
            if 0 < first < second:  # a rewritten first tree is caught
                other = mth([b"rewritten", *data[1:first]])
                assert not verify_consistency(first, second, other, mth(data[:second]), ours)
                assert not verify_consistency(first, second, mth(data[:first]), mth(data[:second]), ours[:-1])


def test_larger_sizes_against_the_rfc() -> None:
    data = _entries(1100)
    t = MemoryTree()
    for leaf in data:
        t.append(leaf)
    for size in (1024, 1025, 1099, 1100):
        root = mth(data[:size])
        assert root_at(size, t.read) == root
        for index in (0, 511, 512, size - 1):
            assert inclusion_proof(index, size, t.read) == path(index, data[:size])
        for first in (1, 512, 777, size - 1):
            assert consistency_proof(first, size, t.read) == proof(first, data[:size])


def test_a_proof_reads_few_stored_hashes() -> None:
    t = MemoryTree()
    t.append_hashes(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(5000))
    asked: list[int] = []

    def counting(keys):  # type: ignore[no-untyped-def]
        asked.append(len(keys))
        return t.read(keys)

    inclusion_proof(1234, 4999, counting)
    assert len(asked) == 1 and asked[0] <= 13 * 13  # one batch, O(log² n) at most


def test_frontier_round_trips_and_rejects_a_wrong_length() -> None:
    t = MemoryTree()
    for leaf in _entries(13):
        t.append(leaf)
    again = Frontier.from_bytes(13, t.frontier.to_bytes())
    assert again == t.frontier and len(again.hashes) == 3
    with pytest.raises(ValueError):
        Frontier.from_bytes(12, t.frontier.to_bytes())


def test_out_of_range_requests_are_input_errors(tree: MemoryTree) -> None:
    with pytest.raises(ProofRangeError):
        inclusion_proof(5, 5, tree.read)
    with pytest.raises(ProofRangeError):
        consistency_proof(6, 5, tree.read)
    assert not verify_inclusion(5, 5, b"\x00" * 32, [], b"\x00" * 32)
    assert not verify_consistency(3, 2, b"", b"", [])
