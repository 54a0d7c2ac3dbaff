"""In-process hubs over the session's test PKI: one per test, in its own data directory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from exchange.hub import ExchangeService, HubSettings, build_service
from exchange.hub.people.passwords import TEST_COST
from exchange.pki import Credential

from hub.inprocess import InProcessHub, running


@pytest.fixture(scope="session")
def credentials() -> dict[str, Credential]:
    """The session PKI's credentials, loaded once each (a key load costs ~30 ms)."""
    return {}


@pytest.fixture
def hub_settings(pki, tmp_path: Path) -> HubSettings:  # type: ignore[no-untyped-def]
    # people's passwords at argon2's test cost: the production cost is 0.2 s of CPU a hash
    return HubSettings(keys_dir=pki.dir, data_dir=tmp_path / "hub", bodies_file=pki.bodies_file,
                       password_cost=TEST_COST)


@pytest.fixture
def hub(hub_settings: HubSettings, pki, credentials) -> Iterator[InProcessHub]:  # type: ignore[no-untyped-def]
    """A running hub application (lifespan started), reached in-process."""
    yield from running(hub_settings, pki.store, credentials=credentials)


@pytest.fixture
def service(hub_settings: HubSettings) -> Iterator[ExchangeService]:
    """The hub's service on its own database, called directly (as the simulator does)."""
    service = build_service(hub_settings)
    yield service
    service.engine.dispose()


@pytest.fixture
def at(pki) -> datetime:  # type: ignore[no-untyped-def]
    """A pinned clock: a few minutes after the test PKI was made."""
    return pki.created + timedelta(minutes=5)
