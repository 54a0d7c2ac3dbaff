"""Database engines: SQLite (WAL) by default, PostgreSQL through psycopg. No global engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine

from exchange.domain.text import checked_text
from exchange.errors import InputError
from exchange.hub.store import models  # noqa: F401  (registers the tables)


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path)}"


def make_engine(url: str) -> Engine:
    """An engine for *url* with the hub's pragmas; creates the tables if missing."""
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    elif url.startswith(("postgresql", "postgres")):
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        engine = create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
    else:
        raise InputError(f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql+psycopg://...")
    event.listen(engine, "before_cursor_execute", _refuse_unstorable_text)
    SQLModel.metadata.create_all(engine)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; NORMAL sync is durable across process crashes
    # (a power cut may lose the last transactions, never corrupt the file).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _refuse_unstorable_text(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any,
                            executemany: bool) -> None:
    """The last line behind :func:`exchange.domain.text.checked_text`: no statement binds text
    that one of the databases would refuse or store differently (a NUL, a lone surrogate),
    whichever path it came by (a query's filter, a document id in a URL)."""
    for row in parameters if executemany else (parameters,):
        for value in row.values() if isinstance(row, dict) else row or ():
            if isinstance(value, str):
                checked_text(value, what="a text value")
