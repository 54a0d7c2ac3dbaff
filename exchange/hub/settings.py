"""The hub's settings: one frozen object, built at the edge and given to ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from argon2 import Parameters

from exchange.clock import Clock, SystemClock
from exchange.config import Settings, default_bodies_file
from exchange.hub.auth import TOKEN_TTL
from exchange.hub.evidence_log import DEFAULT_ORIGIN
from exchange.hub.people.passwords import PRODUCTION_COST
from exchange.hub.service import DEFAULT_MAX_UPLOAD


@dataclass(frozen=True)
class HubSettings:
    """Everything a hub is built from, given to ``create_app`` (nothing is read from the
    environment after that): its PKI (``keys_dir``), its files (``data_dir``: blobs, and SQLite's
    ``hub.db`` unless ``db_url`` names another database), its bodies, upload and token limits,
    how often it re-reads CRLs and signs checkpoints, the log's origin, durability, mTLS-bound
    tokens, training mode, its clock, and the cost of its password hashes."""

    keys_dir: Path
    data_dir: Path
    db_url: str | None = None  # None: SQLite file DATA/hub.db
    bodies_file: Path | None = None
    max_upload: int = DEFAULT_MAX_UPLOAD
    token_ttl: timedelta = TOKEN_TTL
    crl_reload_interval: float = 1.0
    training: bool = False
    checkpoint_interval: float = 2.0  # seconds: the most often a new log checkpoint is signed
    log_origin: str = DEFAULT_ORIGIN  # the log's name in its checkpoints
    durable: bool = True  # fsync blobs and commits (see exchange.hub.store.db.make_engine)
    scratch: bool = False  # a database rebuilt on demand (a simulation's): never synced
    mtls: bool = False  # bind tokens to TLS client certificates (hub serve --mtls)
    #: where the hub's "now" comes from: the real time, or the demo's simulated calendar
    #: (every request's time, token lifetimes, the CA's revocation checks)
    clock: Clock = field(default_factory=SystemClock)
    #: argon2id's cost for people's passwords: always PRODUCTION_COST but in test suites
    password_cost: Parameters = field(default_factory=lambda: PRODUCTION_COST)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> HubSettings:
        """The hub's settings from the command's *settings*, with *overrides* (None ignored) for
        the options ``hub serve`` adds."""
        base = cls(keys_dir=settings.keys_dir, data_dir=settings.data_dir, db_url=settings.db_url,
                   bodies_file=settings.resolved_bodies_file())
        given = {k: v for k, v in overrides.items() if v is not None}
        return cls(**{**base.__dict__, **given})  # type: ignore[arg-type]

    @property
    def database_url(self) -> str:
        """The database to use: ``db_url``, else SQLite at ``DATA/hub.db``."""
        return self.db_url or f"sqlite:///{self.data_dir / 'hub.db'}"

    @property
    def resolved_bodies_file(self) -> Path:
        """The bodies file: the one given, else the checkout's ``samples/bodies.toml``."""
        return self.bodies_file or default_bodies_file()
