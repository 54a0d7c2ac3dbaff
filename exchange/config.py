"""Settings: where the keys, bodies, database and hub are. Built at the edge, passed down.

Environment variables give every command its defaults: ``EXCHANGE_KEYS`` (key directory),
``EXCHANGE_BODIES`` (bodies file), ``EXCHANGE_HUB`` (hub URL), ``EXCHANGE_DB`` (database
URL), ``EXCHANGE_DATA`` (hub data directory). There is no module-level instance.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HUB = "http://127.0.0.1:8000"


def default_bodies_file() -> Path:
    """``samples/bodies.toml`` of the checkout, else of the current directory."""
    bundled = _PACKAGE_ROOT / "samples" / "bodies.toml"
    return bundled if bundled.is_file() else Path("samples/bodies.toml")


@dataclass(frozen=True)
class Settings:
    """Where a command finds the keys, the bodies file, the hub, its database, its data and its clock.
    Built at the edge (:meth:`from_env`, with the CLI's options as overrides) and passed down: there
    is no module-level instance.

    ``keys_dir``: the demo PKI (``EXCHANGE_KEYS``); ``bodies_file``: the bodies
    (``EXCHANGE_BODIES``; None: :meth:`resolved_bodies_file` decides); ``hub_url``
    (``EXCHANGE_HUB``); ``db_url``: the hub's database (``EXCHANGE_DB``; None: SQLite in
    ``data_dir``); ``data_dir``: the hub's files (``EXCHANGE_DATA``); ``clock_file``: a simulated
    clock shared with the demo (``EXCHANGE_CLOCK``; None: real time).
    """

    keys_dir: Path = Path("keys")
    bodies_file: Path | None = None
    hub_url: str = DEFAULT_HUB
    db_url: str | None = None
    data_dir: Path = Path("data")
    clock_file: Path | None = None  # a simulated clock (exchange.clock.ClockFile); None: real time

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then the environment, then explicit non-None *overrides*."""
        env = os.environ if env is None else env
        base = cls(
            keys_dir=Path(env.get("EXCHANGE_KEYS", "keys")),
            bodies_file=Path(env["EXCHANGE_BODIES"]) if env.get("EXCHANGE_BODIES") else None,
            hub_url=env.get("EXCHANGE_HUB", DEFAULT_HUB),
            db_url=env.get("EXCHANGE_DB") or None,
            data_dir=Path(env.get("EXCHANGE_DATA", "data")),
            clock_file=Path(env["EXCHANGE_CLOCK"]) if env.get("EXCHANGE_CLOCK") else None,
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(base, **given)  # type: ignore[arg-type]

    def resolved_bodies_file(self) -> Path:
        """The bodies file: explicit, else the one the PKI was made from, else the sample."""
        if self.bodies_file is not None:
            return self.bodies_file
        manifest = self.keys_dir / "pki.json"
        if manifest.is_file():
            try:
                recorded = json.loads(manifest.read_text(encoding="utf-8")).get("bodies_file")
            except (OSError, ValueError):
                recorded = None
            if recorded and Path(recorded).is_file():
                return Path(recorded)
        return default_bodies_file()
