"""Accounts and the access log over a real SQLite database of their own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchange.hub.people import AccessLog, Accounts
from exchange.hub.store.db import make_engine

#: the moment every test starts from: time is a parameter, the wall clock is never read
T0 = datetime(2015, 6, 30, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def accounts(pki, tmp_path: Path) -> Iterator[Accounts]:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        yield Accounts(engine, bodies=pki.bodies)
    finally:
        engine.dispose()


@pytest.fixture
def access_log(accounts: Accounts) -> AccessLog:
    return AccessLog(accounts.engine)
