"""Fixtures of the CMS tests beyond the session PKI: a PKI alive across 1 January 2050.

RFC 5652 §11.3 encodes a signing time as UTCTime up to 2049 and as GeneralizedTime from
2050: the session PKI (made today) cannot sign on both sides of that line with valid
certificates. ``boundary_pki`` is two small demo PKIs (RSA-2048 and ECDSA P-256, one body
each) created a day before the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from exchange.pki import KeyAlgorithm, KeyStore, init_pki

if TYPE_CHECKING:
    from conftest import TestPKI


@dataclass(frozen=True)
class BoundaryPKI:
    """Two key directories made at ``created``, a day before ``boundary`` (2050-01-01)."""

    __test__ = False  # a fixture value, not a test class

    rsa: KeyStore
    ecdsa: KeyStore
    body_id: str = "nghe-an"
    boundary: datetime = datetime(2050, 1, 1, tzinfo=UTC)

    @property
    def created(self) -> datetime:
        return self.boundary - timedelta(days=1)

    def store(self, algorithm: str) -> KeyStore:
        return self.rsa if algorithm == "rsa" else self.ecdsa


@pytest.fixture(scope="session")
def boundary_pki(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> BoundaryPKI:
    """PKIs whose certificates are valid on both sides of 2050-01-01T00:00:00Z."""
    created = BoundaryPKI.boundary - timedelta(days=1)
    stores = {}
    for name, algorithm in (("rsa", KeyAlgorithm.RSA2048), ("ecdsa", KeyAlgorithm.ECDSA_P256)):
        store = KeyStore(tmp_path_factory.mktemp(f"pki-2050-{name}") / "keys")
        init_pki(store, [pki.bodies.get(BoundaryPKI.body_id)], at=created, algorithm=algorithm)
        stores[name] = store
    return BoundaryPKI(rsa=stores["rsa"], ecdsa=stores["ecdsa"])
