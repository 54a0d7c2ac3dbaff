"""The hub's schema comes from Alembic migrations: equal to the models, safe to start at once.

Each test runs on SQLite and on PostgreSQL (``EXCHANGE_TEST_PG``; skipped without it, as the
end-to-end tests are).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from e2e.harness import fresh_database
from exchange.errors import SchemaError
from exchange.hub.store import schema
from exchange.hub.store.db import make_engine

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of each kind."""
    with fresh_database(str(request.param), tmp_path) as url:
        yield url


def _plain(url: str) -> Engine:
    """An engine that creates nothing (to build databases as older versions did)."""
    return create_engine(url)


def _created_by_create_all(url: str) -> None:
    """A database as the hub made it before migrations, with one account in it."""
    engine = _plain(url)
    try:
        SQLModel.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO account (name, role, password_hash, active, failures, created_at) "
                                    "VALUES ('old-trainer', 'trainer', 'x', true, 0, :at)"),
                               {"at": datetime(2015, 1, 5, tzinfo=UTC)})
    finally:
        engine.dispose()


def _revision(url: str) -> list[str]:
    engine = _plain(url)
    try:
        with engine.connect() as connection:
            return [row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))]
    finally:
        engine.dispose()


def _ddl(url: str) -> dict[str, Any]:
    """Every table's columns, keys, constraints and indexes as the database reports them."""
    engine = _plain(url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            out: dict[str, Any] = {}
            for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
                out[table] = {
                    "columns": [(c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                                for c in inspector.get_columns(table)],
                    "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                    "foreign_keys": sorted((tuple(fk["constrained_columns"]), fk["referred_table"],
                                            tuple(fk["referred_columns"])) for fk in inspector.get_foreign_keys(table)),
                    "unique": sorted((u["name"], tuple(u["column_names"]))
                                     for u in inspector.get_unique_constraints(table)),
                    "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                      for i in inspector.get_indexes(table)),
                }
                if connection.dialect.name == "sqlite":  # SQLite keeps the very statement
                    out[table]["sql"] = connection.execute(
                        text("SELECT sql FROM sqlite_master WHERE tbl_name = :t ORDER BY type, name"), {"t": table}
                    ).scalars().all()
            return out
    finally:
        engine.dispose()


def test_the_migrated_schema_is_the_models_schema(database):
    # A model changed without a migration (or a migration that differs from the models) fails
    # here: alembic's own comparison, the one `revision --autogenerate` would write from.
    make_engine(database).dispose()
    engine = _plain(database)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                           SQLModel.metadata)
    finally:
        engine.dispose()
    assert differences == [], "the models differ from the migrations: add a revision (docs/migrations.md)"
    assert _revision(database) == [schema.head()]


def test_the_baseline_makes_what_create_all_made(database, tmp_path):
    # Same tables, columns, types, keys, constraints and indexes (on SQLite: the same CREATE
    # statements) as the schema the hub created before migrations.
    make_engine(database).dispose()
    kind = "sqlite" if database.startswith("sqlite") else "postgresql"
    with fresh_database(kind, tmp_path / "reference") as reference:
        (tmp_path / "reference").mkdir(exist_ok=True)
        _plain_create_all(reference)
        assert _ddl(database) == _ddl(reference)


def _plain_create_all(url: str) -> None:
    engine = _plain(url)
    try:
        SQLModel.metadata.create_all(engine)
    finally:
        engine.dispose()


def test_a_database_made_before_migrations_is_stamped_and_keeps_its_rows(database):
    _created_by_create_all(database)

    engine = make_engine(database)
    try:
        with engine.connect() as connection:
            names = connection.execute(text("SELECT name FROM account")).scalars().all()
    finally:
        engine.dispose()
    assert names == ["old-trainer"]
    assert _revision(database) == [schema.head()]
    engine = _plain(database)
    try:
        assert schema.upgrade(engine).action == "current"
    finally:
        engine.dispose()


def test_a_database_lacking_baseline_columns_is_refused_untouched(database):
    _created_by_create_all(database)
    engine = _plain(database)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE incoming DROP COLUMN electronic"))
    engine.dispose()

    with pytest.raises(SchemaError, match=r"older hub and lacks incoming\.electronic"):
        make_engine(database)
    assert "alembic_version" not in _ddl(database) and "electronic" not in str(_ddl(database)["incoming"])


def test_a_database_of_a_newer_hub_is_refused(database):
    make_engine(database).dispose()
    engine = _plain(database)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()

    with pytest.raises(SchemaError, match="does not know") as refused:
        make_engine(database)
    assert refused.value.code == "schema-too-new"
    assert _revision(database) == ["9999_from_the_future"]


# Each process imports first, then waits for the others, so that all open the database at once.
_OPEN = """
import pathlib, sys, time
from exchange.hub.store.db import make_engine
folder = pathlib.Path(sys.argv[2])
(folder / f"ready-{sys.argv[3]}").touch()
while not (folder / "go").exists():
    time.sleep(0.002)
make_engine(sys.argv[1]).dispose()
"""
PROCESSES = 4


@pytest.mark.parametrize("existing", [False, True], ids=["empty", "made-before-migrations"])
def test_many_processes_starting_at_once_migrate_once(database, existing, tmp_path):
    # What `hub serve` does at start, in several processes at once: none may fail, and the
    # schema is made (or the old database stamped) exactly once.
    if existing:
        _created_by_create_all(database)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    processes = [subprocess.Popen([sys.executable, "-c", _OPEN, database, str(barrier), str(n)],
                                  stderr=subprocess.PIPE) for n in range(PROCESSES)]
    try:
        deadline = time.monotonic() + 120
        while len(list(barrier.glob("ready-*"))) < PROCESSES and time.monotonic() < deadline:
            assert all(p.poll() is None for p in processes), "a process died before the start"
            time.sleep(0.01)
        (barrier / "go").touch()
        failures = [p.stderr.read().decode() for p in processes if p.wait(timeout=120) != 0]  # type: ignore[union-attr]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    assert failures == []
    assert _revision(database) == [schema.head()]
    engine = _plain(database)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM account")).scalar_one() == (1 if existing else 0)
    finally:
        engine.dispose()
