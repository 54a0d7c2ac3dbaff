"""Database engines: SQLite (WAL) by default, PostgreSQL through psycopg. No global engine."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

from exchange.domain.text import checked_text
from exchange.errors import InputError
from exchange.hub.store import (
    models,  # noqa: F401  (registers the tables)
    schema,
)

logger = logging.getLogger(__name__)


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of the SQLite database file at *path*."""
    return f"sqlite:///{Path(path)}"


def make_engine(url: str, *, durable: bool = True, scratch: bool = False) -> Engine:
    """An engine for *url* with the hub's pragmas, its schema migrated to the newest revision
    (:func:`exchange.hub.store.schema.upgrade`: safe with many processes starting at once).

    *durable* (the default): a commit returns only once it is on disk, so an acknowledged
    document survives a power cut: SQLite ``synchronous=FULL`` (WAL mode: the log is fsynced
    at every commit), PostgreSQL ``synchronous_commit=on``. ``durable=False`` (SQLite
    ``NORMAL``, PostgreSQL ``off``) survives a crash of the hub but may lose the last commits
    on power loss; the benchmark measures the difference. *scratch*: a database rebuilt from
    its inputs whenever needed (a simulation's), never synced at all (SQLite ``OFF``: its
    checkpoints do not wait for the disk either); a power cut may leave it unreadable.
    """
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            _owner_only_file(Path(url.removeprefix("sqlite:///")))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas(
            synchronous="OFF" if scratch else "FULL" if durable else "NORMAL"))
    elif url.startswith(("postgresql", "postgres")):
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        engine = create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, connect_args={
            "options": f"-c synchronous_commit={'on' if durable and not scratch else 'off'}"})
    else:
        raise InputError(f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql+psycopg://...")
    event.listen(engine, "before_cursor_execute", _refuse_unstorable_text)
    state = schema.upgrade(engine)
    if state.action != "current":
        logger.info("%s", state.summary())
    return engine


def _owner_only_file(path: Path) -> None:
    """Create the SQLite file mode 0600 before SQLite does (its -wal and -shm files take the
    database's mode): documents' metadata is no one else's to read."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _sqlite_pragmas(*, synchronous: str) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the writer; see make_engine for the synchronous level.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return on_connect


def _refuse_unstorable_text(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any,
                            executemany: bool) -> None:
    """The last line behind :func:`exchange.domain.text.checked_text`: no statement binds text
    that one of the databases would refuse or store differently (a NUL, a lone surrogate),
    whichever path it came by (a query's filter, a document id in a URL)."""
    for row in parameters if executemany else (parameters,):
        # a row is a dict or a sequence; an "insertmanyvalues" batch passes its values flat
        values = row.values() if isinstance(row, dict) else row if isinstance(row, list | tuple) else (row,)
        for value in values:
            # ASCII without a NUL is storable: the regular expression only for the rest
            if isinstance(value, str) and (not value.isascii() or "\x00" in value):
                checked_text(value, what="a text value")
