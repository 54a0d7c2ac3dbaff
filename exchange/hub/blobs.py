"""Content-addressed storage of document bytes on disk: ``DATA/blobs/ab/cdef…`` by SHA-256.

Bytes are written to a temporary file and renamed into place, so a blob is either whole or
absent; the same content is stored once. Client-given file names are never used as paths.

Durability: with ``durable=True`` (the default) the temporary file is fsynced before the
rename and the folder after it, so a blob whose row was committed survives a power cut, not
only a crash. Everything is created owner-only (files 0600, folders 0700).

Several blobs can be stored as one group: :meth:`BlobStore.stage_stream` and
:meth:`BlobStore.stage_bytes` write each to a temporary file (readable at once, not yet
synced), and :meth:`BlobStore.place` then makes the group durable in two waves, each run in
parallel (the files' fsyncs, then after the renames their folders' fsyncs), so concurrent
uploads wait for the disk together rather than one after another.

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
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from exchange.errors import NotFoundError, TooLargeError

CHUNK = 1 << 20
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
#: the most fsyncs one group runs at once
SYNC_THREADS = 8


@dataclass(frozen=True)
class Staged:
    """Bytes written for the store but not yet in it (:meth:`BlobStore.place` puts them there,
    :meth:`BlobStore.discard` drops them): readable at ``path`` meanwhile. ``stored``: the
    store already held these bytes, and ``path`` is that blob."""

    sha256: str
    size: int
    path: Path
    stored: bool = False


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
        self._syncers: ThreadPoolExecutor | None = None
        self._syncers_lock = threading.Lock()

    def path(self, sha256: str) -> Path:
        """Where the blob *sha256* lives (whether or not it exists); NotFoundError for anything
        but 64 lower-case hex digits, so no client string becomes a path."""
        if _SHA256_HEX.fullmatch(sha256) is None:
            raise NotFoundError(f"no blob {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def put_stream(self, stream: BinaryIO, *, limit: int | None = None) -> tuple[str, int]:
        """Store *stream*; returns (sha256 hex, size). Raises TooLargeError past *limit*."""
        staged = self.stage_stream(stream, limit=limit)
        self.place([staged])
        return staged.sha256, staged.size

    def put_bytes(self, data: bytes) -> str:
        """Store *data*; returns its SHA-256 (hex). Storing the same bytes again writes nothing."""
        staged = self.stage_bytes(data)
        self.place([staged])
        return staged.sha256

    # -- storing as a group ----------------------------------------------------------------
    def stage_stream(self, stream: BinaryIO, *, limit: int | None = None) -> Staged:
        """Write *stream* to a temporary file, hashing it; TooLargeError past *limit* (and
        nothing left behind)."""
        first = stream.read(CHUNK)
        more = stream.read(CHUNK) if first else b""
        if not more:
            # A stream of one chunk is hashed in memory: no temporary file if it is stored already.
            if limit is not None and len(first) > limit:
                raise TooLargeError(f"the file is larger than the limit of {limit} bytes")
            return self.stage_bytes(first)
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
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        sha = digest.hexdigest()
        target = self.path(sha)
        if target.exists():
            Path(tmp).unlink(missing_ok=True)
            return Staged(sha, size, target, stored=True)
        return Staged(sha, size, Path(tmp))

    def stage_bytes(self, data: bytes) -> Staged:
        """Write *data* to a temporary file (none if the store holds it already)."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if target.exists():
            return Staged(sha, len(data), target, stored=True)
        fd, tmp = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Staged(sha, len(data), Path(tmp))

    def place(self, staged: Sequence[Staged]) -> None:
        """Put every staged blob in the store, durably when the store is durable: the files
        fsynced (in parallel), renamed into place, then their folders fsynced (in parallel).
        Bytes staged twice are stored once."""
        pending: dict[str, Staged] = {}
        for item in staged:
            if item.stored or item.sha256 in pending:
                if not item.stored:
                    item.path.unlink(missing_ok=True)
                continue
            pending[item.sha256] = item
        if not pending:
            return
        if self.durable:
            self._fsync_all([item.path for item in pending.values()], folders=False)
        folders: set[Path] = set()
        for item in pending.values():
            target = self.path(item.sha256)
            if target.exists():  # a concurrent writer stored the same bytes meanwhile
                item.path.unlink(missing_ok=True)
                continue
            self._ensure_fan(target, folders)
            try:
                os.replace(item.path, target)
            except FileNotFoundError:  # the directory was removed behind our back
                target.parent.mkdir(mode=0o700, exist_ok=True)
                os.replace(item.path, target)
            folders.add(target.parent)  # the rename is durable once its folder is synced
        if self.durable:
            self._fsync_all(sorted(folders), folders=True)

    def discard(self, staged: Iterable[Staged]) -> None:
        """Drop what was staged and will not be stored (the stored blobs are left alone)."""
        for item in staged:
            if not item.stored:
                item.path.unlink(missing_ok=True)

    def _ensure_fan(self, target: Path, folders: set[Path]) -> None:
        fan = target.parent.name
        if fan not in self._dirs:
            if not target.parent.is_dir():
                target.parent.mkdir(mode=0o700, exist_ok=True)
                folders.add(self.root)  # the new folder's name is durable too
            self._dirs.add(fan)

    def _fsync_all(self, paths: Sequence[Path], *, folders: bool) -> None:
        # fsync waits for the disk without the GIL: several at once share the device's (and
        # the file system journal's) flushes instead of queueing behind each other.
        sync = _fsync_folder if folders else _fsync_file
        if len(paths) == 1:
            sync(paths[0])
            return
        if self._syncers is None:
            with self._syncers_lock:
                if self._syncers is None:
                    self._syncers = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="blob-fsync")
        for _ in self._syncers.map(sync, paths):
            pass

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
        if self.durable and folders:
            self._fsync_all(sorted(folders), folders=True)

    def read(self, sha256: str) -> bytes:
        """The bytes of blob *sha256*; NotFoundError when it is not stored."""
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"no stored content {sha256}") from None

    def exists(self, sha256: str) -> bool:
        """Whether blob *sha256* is stored."""
        return self.path(sha256).is_file()


def _fsync_file(path: Path) -> None:
    # Linux (and the BSDs) flush a file's data through a read-only descriptor too.
    _fsync_opened(os.open(path, os.O_RDONLY))


def _fsync_folder(path: Path) -> None:
    _fsync_opened(os.open(path, os.O_RDONLY | os.O_DIRECTORY))


def _fsync_opened(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
