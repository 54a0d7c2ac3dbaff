"""Accounts and the access log over a real SQLite database of their own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchange.hub.people import AccessLog, Accounts, Passwords
from exchange.hub.people.passwords import TEST_COST
from exchange.hub.store.db import make_engine

#: the moment every test starts from: time is a parameter, the wall clock is never read
T0 = datetime(2015, 6, 30, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def accounts(pki, tmp_path: Path) -> Iterator[Accounts]:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        # argon2 at its test cost (the production cost is 0.2 s of CPU a hash); test_accounts
        # checks the production cost on accounts of its own
        yield Accounts(engine, bodies=pki.bodies, passwords=Passwords.at_cost(TEST_COST))
    finally:
        engine.dispose()


@pytest.fixture
def access_log(accounts: Accounts) -> AccessLog:
    return AccessLog(accounts.engine)
