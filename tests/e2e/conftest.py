"""Real hub processes over the session's test PKI, each test module on SQLite and PostgreSQL.

PostgreSQL comes from ``EXCHANGE_TEST_PG`` (``.ci/start-postgres`` starts one): without it the
PostgreSQL variant is skipped with the reason, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from e2e.harness import RunningHub, fresh_database, start_hub

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=DATABASES)
def database_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def hub(pki, database_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:  # type: ignore[no-untyped-def]
    """One hub process per test module and database, shared by tests that do not interfere."""
    root = tmp_path_factory.mktemp(f"hub-{database_kind}")
    with fresh_database(database_kind, root) as url:
        running = start_hub(keys=pki.dir, data=root / "data", db_url=url)
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture
def start(database_kind: str, tmp_path: Path) -> Iterator[Callable[..., RunningHub]]:
    """Start a hub of the test's own (own keys or options, own database); stopped after the test."""
    numbers = itertools.count(1)
    with ExitStack() as stack:

        def start_one(*, keys: Path, args: tuple[str, ...] = ()) -> RunningHub:
            root = tmp_path / f"hub-{next(numbers)}"
            root.mkdir()
            url = stack.enter_context(fresh_database(database_kind, root))
            running = start_hub(keys=keys, data=root / "data", db_url=url, args=args)
            stack.callback(running.stop)
            return running

        yield start_one


@pytest.fixture(scope="module")
def start_for_module(database_kind: str, tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[Callable[..., RunningHub]]:
    """As ``start``, for hubs with options of their own that the tests of one module share (each
    start costs a process and ~1.5 s of CPU); stopped at the end of the module."""
    numbers = itertools.count(1)
    with ExitStack() as stack:

        def start_one(*, keys: Path, args: tuple[str, ...] = ()) -> RunningHub:
            root = tmp_path_factory.mktemp(f"hub-{database_kind}-{next(numbers)}")
            url = stack.enter_context(fresh_database(database_kind, root))
            running = start_hub(keys=keys, data=root / "data", db_url=url, args=args)
            stack.callback(running.stop)
            return running

        yield start_one


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """Where CLI commands run (and write what they fetch)."""
    path = tmp_path / "work"
    path.mkdir()
    return path
