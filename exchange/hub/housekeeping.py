"""The hub's housekeeping while it serves: collecting blobs no row names.

Blobs are stored before the row that names them commits, so a refused or interrupted upload
can leave one behind (a message id reused, an empty file, a crash between the two). The
collector takes the blob store's exclusive lock — it waits for uploads between storing a blob
and committing its row, and holds new ones back while it works — then reads which blobs the
database names and removes the others, and every partial upload left in ``tmp/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from exchange.hub.blobs import BlobStore
from exchange.hub.store import repository as repo


@dataclass(frozen=True)
class Collected:
    """What a collection found and removed."""

    kept: int
    removed: int
    freed_bytes: int
    partial_uploads: int
    dry_run: bool = False

    def summary(self) -> str:
        """One line: what was (or would be) removed, bytes freed, partial uploads, and what was
        kept."""
        verb = "would remove" if self.dry_run else "removed"
        return (f"{verb} {self.removed} unreferenced blob(s) ({self.freed_bytes} bytes) and "
                f"{self.partial_uploads} partial upload(s); kept {self.kept}")


def collect_garbage(engine: Engine, blobs: BlobStore, *, dry_run: bool = False) -> Collected:
    """Remove every blob no row names, safely while the hub serves (see the module)."""
    with blobs.exclusive():
        with Session(engine) as session:
            named = repo.referenced_blobs(session)
        stored = list(blobs.stored())
        unreferenced = [(sha, path) for sha, path in stored if sha not in named]
        freed = sum(path.stat().st_size for _, path in unreferenced)
        partial = sum(1 for p in (blobs.root / "tmp").iterdir() if p.is_file())
        if not dry_run:
            blobs.remove([sha for sha, _ in unreferenced])
            blobs.sweep_tmp()
    return Collected(kept=len(stored) - len(unreferenced), removed=len(unreferenced), freed_bytes=freed,
                     partial_uploads=partial, dry_run=dry_run)
