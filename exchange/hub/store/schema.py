"""The hub's schema: made and upgraded by Alembic migrations, safely from many processes at once.

Every hub process calls :func:`upgrade` when it opens its database. It costs one query when the
schema is current. Otherwise the first process takes the migration lock (a PostgreSQL advisory
lock, a ``flock`` beside a SQLite file) and runs ``alembic upgrade head``; the others wait for
the lock, then find the schema current. A database made before migrations (by
``SQLModel.metadata.create_all``: hub tables, no ``alembic_version``) is checked against the
baseline revision's tables and columns and stamped with it, never recreated. A database that
names a revision this code does not know (made by a newer hub) is refused, not touched.

A change of the schema is a new revision in ``migrations/versions/`` (docs/migrations.md).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine

from exchange.errors import SchemaError

MIGRATIONS = Path(__file__).with_name("migrations")
#: the revision equal to the schema ``create_all`` made before migrations
BASELINE = "0001_baseline"
#: the advisory lock every hub process takes to migrate a PostgreSQL database (b"exchange")
_PG_LOCK = int.from_bytes(b"exchange", "big") & 0x7FFF_FFFF_FFFF_FFFF


@dataclass(frozen=True)
class SchemaState:
    """What :func:`upgrade` found and did: ``current``, ``created`` (an empty database),
    ``upgraded`` (from *previous*) or ``adopted`` (made before migrations: checked, stamped
    with the baseline, then upgraded)."""

    revision: str
    action: str
    previous: str | None = None

    def summary(self) -> str:
        """One line for the hub's log."""
        if self.action == "upgraded":
            return f"database schema upgraded from {self.previous} to {self.revision}"
        if self.action == "adopted":
            return (f"database made before migrations: its tables match {BASELINE}; stamped and "
                    f"brought to {self.revision}")
        return f"database schema {self.action} at {self.revision}"


def head() -> str:
    """The newest revision this code knows."""
    revision = _script().get_current_head()
    assert revision is not None  # the package always holds the baseline
    return revision


def current(connection: Connection) -> str | None:
    """The revision the database is at (None: no ``alembic_version`` table, or it is empty)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> SchemaState:
    """Bring *engine*'s database to :func:`head` under the migration lock; see the module's doc.

    Raises SchemaError for a database of a newer hub, or one made before migrations whose
    tables lack what the baseline has (it was made by a much older version).
    """
    target = head()
    with engine.connect() as connection:
        found = current(connection)
    if found == target:
        return SchemaState(target, "current")
    with _migration_lock(engine) as connection:
        return _upgrade_locked(connection, target)


def _upgrade_locked(connection: Connection, target: str) -> SchemaState:
    found = current(connection)  # again: another process may have migrated while we waited
    if found == target:
        return SchemaState(target, "current")
    if found is not None and not _known(found):
        raise SchemaError(f"the database is at schema revision {found!r}, which this version of the hub "
                          f"does not know (its newest is {target!r}): it was upgraded by a newer hub; "
                          "run that version", code="schema-too-new")
    action = "upgraded" if found else "created"
    config = _config(connection)
    if found is None and _has_hub_tables(connection):
        _check_baseline_tables(connection)
        command.stamp(config, BASELINE)
        connection.commit()
        action, found = "adopted", BASELINE
    command.upgrade(config, "head")
    connection.commit()
    return SchemaState(target, action, previous=found if action == "upgraded" else None)


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection held under the lock that serialises migrations between processes."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            # Session-level: held across the migration's transactions, released by the server
            # if this process dies.
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK})
            connection.commit()
            try:
                yield connection
            finally:
                connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK})
                connection.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        with engine.connect() as connection:  # private to this process: nothing to serialise
            yield connection
        return
    lock = Path(f"{database}-migrate.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel if this process dies
        with engine.connect() as connection:
            yield connection
    finally:
        os.close(fd)


def _has_hub_tables(connection: Connection) -> bool:
    tables = set(inspect(connection).get_table_names())
    return bool(tables and tables & set(_baseline_columns()))


def _check_baseline_tables(connection: Connection) -> None:
    """Raise SchemaError unless the database has every table and column of the baseline."""
    inspector = inspect(connection)
    present = set(inspector.get_table_names())
    missing: list[str] = []
    for table, columns in sorted(_baseline_columns().items()):
        if table not in present:
            missing.append(f"table {table}")
            continue
        have = {column["name"] for column in inspector.get_columns(table)}
        missing.extend(f"{table}.{name}" for name in sorted(columns - have))
    if missing:
        shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        raise SchemaError(f"the database was made before schema migrations by an older hub and lacks {shown}: "
                          "it cannot be stamped as the baseline; restore it into a hub of its own version, or "
                          "start from a new database", code="schema-unknown")


@cache
def _baseline_columns() -> dict[str, frozenset[str]]:
    """Per table, the columns the baseline revision creates (found by running it on a scratch
    in-memory database: the revision file is the only statement of the baseline)."""
    scratch = create_engine("sqlite://")
    try:
        with scratch.connect() as connection:
            command.upgrade(_config(connection), BASELINE)
            inspector = inspect(connection)
            return {table: frozenset(c["name"] for c in inspector.get_columns(table))
                    for table in inspector.get_table_names() if table != "alembic_version"}
    finally:
        scratch.dispose()


def _known(revision: str) -> bool:
    try:
        return _script().get_revision(revision) is not None
    except (CommandError, RevisionError):  # an unknown or malformed id
        return False


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config(None))


def _config(connection: Connection | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config
