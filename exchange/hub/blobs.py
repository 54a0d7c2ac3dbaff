"""Content-addressed storage of document bytes on disk: ``DATA/blobs/ab/cdef…`` by SHA-256.

Bytes are written to a temporary file and renamed into place, so a blob is either whole or
absent; the same content is stored once. Client-given file names are never used as paths.

Durability: with ``durable=True`` (the default) the temporary file is fsynced before the
rename and the folder after it, so a blob whose row was committed survives a power cut, not
only a crash. Everything is created owner-only (files 0600, folders 0700).

Garbage collection runs while the hub serves: writers hold :meth:`BlobStore.writing` (a
shared ``flock`` on the blobs folder) from storing a blob until the row naming it commits;
:meth:`BlobStore.exclusive` waits for them, so a collector never sees a blob of an upload in
flight as unreferenced, and no temporary file under it belongs to a live upload.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from exchange.errors import NotFoundError, TooLargeError

CHUNK = 1 << 20
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class BlobStore:
    """Document bytes on disk under *root*, named by their SHA-256 (see the module docstring):
    written whole or not at all, stored once, owner-only, fsynced when *durable*. Creates *root*
    and its ``tmp/`` folder; raises NotFoundError for a blob it does not hold."""

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self.root = root
        self.durable = durable
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        (root / "tmp").mkdir(mode=0o700, exist_ok=True)
        self._tmp = str(root / "tmp")
        # Fan-out directories (``ab/``) known to exist: each is created once, not stat'ed per blob.
        self._dirs: set[str] = set()

    def path(self, sha256: str) -> Path:
        """Where the blob *sha256* lives (whether or not it exists); NotFoundError for anything
        but 64 lower-case hex digits, so no client string becomes a path."""
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
                self._sync(out)
            return self._commit(Path(tmp), digest.hexdigest()), size
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_bytes(self, data: bytes) -> str:
        """Store *data*; returns its SHA-256 (hex). Storing the same bytes again writes nothing."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=self._tmp)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                self._sync(out)
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
            if not target.parent.is_dir():
                target.parent.mkdir(mode=0o700, exist_ok=True)
                self._sync_dir(self.root)  # the new folder's name is durable too
            self._dirs.add(fan)
        try:
            os.replace(tmp, target)
        except FileNotFoundError:  # the directory was removed behind our back
            target.parent.mkdir(mode=0o700, exist_ok=True)
            os.replace(tmp, target)
        self._sync_dir(target.parent)  # the rename itself is durable once its folder is synced

    def _sync(self, out: BinaryIO) -> None:
        if self.durable:
            out.flush()
            os.fsync(out.fileno())

    def _sync_dir(self, folder: Path) -> None:
        if self.durable:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    # -- sharing the store with a garbage collector -----------------------------------------
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold from storing blobs until the rows naming them are committed (or given up)."""
        with _flock(self.root, fcntl.LOCK_SH):
            yield

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """No writer is between storing a blob and committing its row while this is held."""
        with _flock(self.root, fcntl.LOCK_EX):
            yield

    def sweep_tmp(self) -> int:
        """Remove what crashed uploads left in ``tmp/``; the number of files removed.
        Call it holding :meth:`exclusive` while other writers may run."""
        removed = 0
        for leftover in Path(self._tmp).iterdir():
            if leftover.is_file():
                leftover.unlink(missing_ok=True)
                removed += 1
        return removed

    def stored(self) -> Iterator[tuple[str, Path]]:
        """Every blob on disk: (its SHA-256, its path)."""
        for fan in sorted(self.root.iterdir()):
            if len(fan.name) != 2 or not fan.is_dir():
                continue
            for path in sorted(fan.iterdir()):
                sha = fan.name + path.name
                if _SHA256_HEX.fullmatch(sha):
                    yield sha, path

    def remove(self, shas: list[str]) -> None:
        """Delete these blobs (hold :meth:`exclusive`); their folders are synced after."""
        folders = set()
        for sha in shas:
            path = self.path(sha)
            path.unlink(missing_ok=True)
            folders.add(path.parent)
        for folder in folders:
            self._sync_dir(folder)

    def read(self, sha256: str) -> bytes:
        """The bytes of blob *sha256*; NotFoundError when it is not stored."""
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"no stored content {sha256}") from None

    def exists(self, sha256: str) -> bool:
        """Whether blob *sha256* is stored."""
        return self.path(sha256).is_file()


def _chunks(head: tuple[bytes, ...], stream: BinaryIO) -> Iterator[bytes]:
    yield from head
    while chunk := stream.read(CHUNK):
        yield chunk


@contextmanager
def _flock(folder: Path, mode: int) -> Iterator[None]:
    # flock on the folder itself: shared between threads (each holds its own descriptor) and
    # processes (uvicorn workers, ``exchange hub gc``); released by the kernel if one dies.
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)
