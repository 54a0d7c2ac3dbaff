"""Online backups of a hub and restoring them into a fresh database and data folder.

A backup is a folder::

    DIR/manifest.json     what it holds; written last, so a folder without it is incomplete
    DIR/hub.db            SQLite: a consistent copy made by SQLite's online backup API
    DIR/hub.pgdump        PostgreSQL: ``pg_dump --format=custom`` (one snapshot transaction)
    DIR/blobs/ab/cdef…    every blob a row of that snapshot names, checked against its SHA-256

It is taken while the hub serves. The database is copied first, as one snapshot; blobs are
written before the rows naming them commit, so every blob the snapshot names is already on
disk, and the backup holds the blob store's shared lock throughout so that ``exchange hub gc``
cannot remove one meanwhile. Each copied blob is hashed: a damaged blob fails the backup
rather than being saved as good. Restoring checks the manifest, the dump's SHA-256 and every
blob again, and refuses a database or data folder that is not empty.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Table, create_engine, func, inspect, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from exchange.errors import BackupError, InputError, InputFileError
from exchange.hub.blobs import CHUNK, BlobStore
from exchange.hub.store import repository as repo
from exchange.hub.store.db import make_engine
from exchange.hub.store.models import Document

FORMAT = "exchange-hub-backup/1"
MANIFEST = "manifest.json"
_DOCUMENTS: Table = Document.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Manifest:
    """What a backup holds: ``database`` is ``sqlite`` or ``postgresql``; ``dump`` its file."""

    format: str
    created_at: str
    database: str
    dump: str
    dump_sha256: str
    blobs: int
    blob_bytes: int
    documents: int

    def summary(self) -> str:
        """One line: the database kind, when the backup was made, and how many documents and blobs
        it holds."""
        return (f"{self.database} backup of {self.created_at}: {self.documents} documents, "
                f"{self.blobs} blobs ({self.blob_bytes} bytes)")


def backup(*, db_url: str, data_dir: Path, out: Path, at: datetime) -> Manifest:
    """Back up the hub whose database is *db_url* and data folder *data_dir* into *out* (a new
    or empty folder), while it serves. Raises InputError for a bad target, BackupError if a
    tool fails or a blob does not match its name."""
    _empty_folder(out, what="the backup folder")
    blobs = BlobStore(data_dir / "blobs", durable=True)
    kind = _kind(db_url)
    with blobs.writing():  # gc waits until the blobs the snapshot names are copied
        if kind == "sqlite":
            dump = out / "hub.db"
            _sqlite_backup(_sqlite_path(db_url), dump)
            snapshot_url = f"sqlite:///{dump}"
        else:
            dump = out / "hub.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump)], db_url, "pg_dump")
            snapshot_url = None
        names, documents = _snapshot_names(snapshot_url or db_url)
        copied = BlobStore(out / "blobs", durable=True)
        total = sum(_copy_blob(blobs, copied, sha) for sha in sorted(names))
    _fsync_file(dump)
    manifest = Manifest(format=FORMAT, created_at=at.isoformat(), database=kind, dump=dump.name,
                        dump_sha256=_sha256_file(dump), blobs=len(names), blob_bytes=total, documents=documents)
    _write_manifest(out, manifest)
    return manifest


def restore(*, source: Path, db_url: str, data_dir: Path) -> Manifest:
    """Restore the backup in *source* into the empty database *db_url* and the new or empty
    folder *data_dir*. Raises InputError for a target that is not fresh or a backup of the
    other kind of database, BackupError for a damaged backup."""
    manifest = read_manifest(source)
    kind = _kind(db_url)
    if kind != manifest.database:
        raise InputError(f"{source} is a {manifest.database} backup; restore it into a {manifest.database} "
                         f"database, not {kind}")
    dump = source / manifest.dump
    if _sha256_file(dump) != manifest.dump_sha256:
        raise BackupError(f"{dump} does not match the SHA-256 in its manifest: the backup is damaged")
    _empty_folder(data_dir, what="the data folder")
    if kind == "sqlite":
        target = _sqlite_path(db_url)
        if target.exists() and target.stat().st_size > 0:
            raise InputError(f"{target} already exists: restore into a new database file")
        _sqlite_backup(dump, target)
    else:
        _require_empty_postgres(db_url)
        _run(["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", str(dump)], db_url,
             "pg_restore")
    restored = BlobStore(data_dir / "blobs", durable=True)
    stored = BlobStore(source / "blobs", durable=False)
    count = 0
    for sha, _ in stored.stored():
        _copy_blob(stored, restored, sha)
        count += 1
    if count != manifest.blobs:
        raise BackupError(f"{source} holds {count} blobs, its manifest {manifest.blobs}: the backup is damaged")
    make_engine(db_url).dispose()  # the schema is whole (creates nothing on a complete restore)
    return manifest


def read_manifest(source: Path) -> Manifest:
    """The manifest of the backup in *source*; InputFileError if it is not a complete backup."""
    path = source / MANIFEST
    if not path.is_file():
        raise InputFileError(f"{source} is not a complete backup: it has no {MANIFEST}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(**data)
    except (ValueError, TypeError) as exc:
        raise InputFileError(f"{path} is not a backup manifest: {exc}") from None
    if manifest.format != FORMAT:
        raise InputFileError(f"{path}: unknown backup format {manifest.format!r}")
    return manifest


# -- the databases ----------------------------------------------------------------------------


def _kind(url: str) -> str:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return "sqlite"
    if url.startswith(("postgresql", "postgres")):
        return "postgresql"
    raise InputError(f"cannot back up or restore {url!r}: use sqlite:///FILE or postgresql+psycopg://...")


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _sqlite_backup(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while writers go on (it restarts the copy
    if a writer changes a page already copied)."""
    if not source.is_file():
        raise InputFileError(f"no SQLite database at {source}")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))  # owner-only before it holds anything
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup of {source} failed: {exc}") from None
    finally:
        dst.close()
        src.close()


def _require_empty_postgres(url: str) -> None:
    probe = _plain_engine(url)
    try:
        tables = inspect(probe).get_table_names()
    except SQLAlchemyError as exc:  # the server or database the user named cannot be opened
        raise InputError(f"cannot open {_redacted(url)}: {str(exc).splitlines()[0]}") from None
    finally:
        probe.dispose()
    if tables:
        raise InputError(f"{_redacted(url)} is not empty ({len(tables)} tables): restore into a new database")


def _run(command: list[str], url: str, tool: str) -> None:
    """Run a PostgreSQL client tool against *url* (password through the environment)."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    libpq = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    executable = _pg_tool(tool)
    done = subprocess.run([executable, *command[1:], "--dbname", libpq], env=env, capture_output=True, text=True,
                          timeout=3600)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise BackupError(f"{tool} failed: {last}")


def _pg_tool(name: str) -> str:
    """*name* from PATH, else from the newest ``/usr/lib/postgresql/*/bin`` (Debian's layout)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if not candidates:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return str(candidates[-1])


def _snapshot_names(url: str) -> tuple[set[str], int]:
    """The blobs a database names and its number of documents. For PostgreSQL the dump is not
    a database to query: the live one is read after it, naming a superset (rows committed
    since), which is harmless to copy and keeps every blob the dump names."""
    engine = _plain_engine(url)
    try:
        with Session(engine) as session:
            names = repo.referenced_blobs(session)
            documents = session.connection().execute(select(func.count()).select_from(_DOCUMENTS)).scalar_one()
    finally:
        engine.dispose()
    return names, int(documents)


def _plain_engine(url: str) -> Engine:
    """An engine that only reads: no schema created, no pragmas (a backup copy stays as made)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed)


# -- files ----------------------------------------------------------------------------------


def _copy_blob(source: BlobStore, target: BlobStore, sha: str) -> int:
    """Copy one blob, checking it still hashes to its name; its size."""
    path = source.path(sha)
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            stored = target.put_stream(_HashingReader(stream, digest))  # type: ignore[arg-type]
    except FileNotFoundError:
        raise BackupError(f"blob {sha} named by the database is missing from {source.root}") from None
    if digest.hexdigest() != sha or stored[0] != sha:
        raise BackupError(f"blob {path} does not hash to its name: it is damaged")
    return stored[1]


class _HashingReader:
    """Reads a stream, hashing what it reads (a blob is checked as it is copied, in one pass)."""

    def __init__(self, stream: object, digest: hashlib._Hash) -> None:
        self._stream = stream
        self._digest = digest

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self._stream.read(size)  # type: ignore[attr-defined]
        self._digest.update(chunk)
        return chunk


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_manifest(out: Path, manifest: Manifest) -> None:
    tmp = out / f".{MANIFEST}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        json.dump(asdict(manifest), stream, indent=2)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(tmp, out / MANIFEST)
    dir_fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _empty_folder(path: Path, *, what: str) -> None:
    """Create *path* owner-only, or accept it if it is an empty folder; InputError otherwise."""
    if path.exists() and not path.is_dir():
        raise InputFileError(f"{what} {path} is a file, not a folder")
    if path.is_dir() and any(path.iterdir()):
        raise InputError(f"{what} {path} is not empty: give a new or empty folder")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
