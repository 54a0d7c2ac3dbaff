"""Content-addressed storage of document bytes on disk: ``DATA/blobs/ab/cdef…`` by SHA-256.

Bytes are written to a temporary file and renamed into place, so a blob is either whole or
absent; the same content is stored once. Client-given file names are never used as paths.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from exchange.errors import NotFoundError, TooLargeError

CHUNK = 1 << 20
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "tmp").mkdir(parents=True, exist_ok=True)
        self._tmp = str(root / "tmp")
        # Fan-out directories (``ab/``) known to exist: each is created once, not stat'ed per blob.
        self._dirs: set[str] = set()

    def path(self, sha256: str) -> Path:
        if _SHA256_HEX.fullmatch(sha256) is None:
            raise NotFoundError(f"no blob {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def put_stream(self, stream: BinaryIO, *, limit: int | None = None) -> tuple[str, int]:
        """Store *stream*; returns (sha256 hex, size). Raises TooLargeError past *limit*."""
        first = stream.read(CHUNK)
        more = stream.read(CHUNK) if first else b""
        if not more:
            # A stream of one chunk is hashed in memory: no temporary file if it is stored already.
            if limit is not None and len(first) > limit:
                raise TooLargeError(f"the file is larger than the limit of {limit} bytes")
            return self.put_bytes(first), len(first)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in _chunks((first, more), stream):
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise TooLargeError(f"the file is larger than the limit of {limit} bytes")
                    digest.update(chunk)
                    out.write(chunk)
            return self._commit(Path(tmp), digest.hexdigest()), size
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_bytes(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=self._tmp)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            # Just checked absent: place it (a concurrent writer of the same bytes is harmless).
            self._place(tmp, target, sha)
        return sha

    def _commit(self, tmp: Path, sha: str) -> str:
        target = self.path(sha)
        if target.exists():
            tmp.unlink(missing_ok=True)
        else:
            self._place(tmp, target, sha)
        return sha

    def _place(self, tmp: str | Path, target: Path, sha: str) -> None:
        fan = sha[:2]
        if fan not in self._dirs:
            target.parent.mkdir(exist_ok=True)
            self._dirs.add(fan)
        try:
            os.replace(tmp, target)
        except FileNotFoundError:  # the directory was removed behind our back
            target.parent.mkdir(exist_ok=True)
            os.replace(tmp, target)

    def read(self, sha256: str) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"no stored content {sha256}") from None

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()


def _chunks(head: tuple[bytes, ...], stream: BinaryIO) -> Iterator[bytes]:
    yield from head
    while chunk := stream.read(CHUNK):
        yield chunk
