"""The node's tests: one body's credential from the session PKI, and a clock inside its validity."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from exchange.pki import Credential


@pytest.fixture(scope="session")
def credential(pki) -> Credential:  # type: ignore[no-untyped-def]
    """ha-noi's certificate and key (loaded once: a key load costs ~30 ms)."""
    return pki.store.credential("ha-noi")


@pytest.fixture
def now(pki) -> datetime:  # type: ignore[no-untyped-def]
    """The clients' clock: a few minutes after the test PKI was made."""
    return pki.created + timedelta(minutes=5)
