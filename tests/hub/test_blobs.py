"""BlobStore: document bytes stored once, by SHA-256, whole or not at all."""

from __future__ import annotations

import hashlib
import io

import pytest

from exchange.errors import NotFoundError, TooLargeError
from exchange.hub.blobs import BlobStore


def test_content_is_stored_once_under_its_sha256(tmp_path):
    blobs = BlobStore(tmp_path / "blobs")
    sha, size = blobs.put_stream(io.BytesIO(b"content"))
    assert (sha, size) == (hashlib.sha256(b"content").hexdigest(), 7)
    assert blobs.put_stream(io.BytesIO(b"content"))[0] == sha == blobs.put_bytes(b"content")
    assert blobs.path(sha) == tmp_path / "blobs" / sha[:2] / sha[2:]
    assert blobs.read(sha) == b"content" and blobs.exists(sha)
    assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == [blobs.path(sha)]


def test_a_stream_over_the_limit_leaves_nothing(tmp_path):
    blobs = BlobStore(tmp_path / "blobs")
    with pytest.raises(TooLargeError):
        blobs.put_stream(io.BytesIO(b"x" * 11), limit=10)
    assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("name", ["../../etc/passwd", "g" * 64, "A" * 64, "", "0" * 63])
def test_only_a_sha256_names_a_blob(tmp_path, name):
    blobs = BlobStore(tmp_path / "blobs")
    with pytest.raises(NotFoundError):
        blobs.path(name)


def test_reading_an_absent_blob_is_not_found(tmp_path):
    with pytest.raises(NotFoundError):
        BlobStore(tmp_path / "blobs").read("0" * 64)
