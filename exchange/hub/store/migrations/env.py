"""Alembic's environment for the hub's schema.

The hub runs it through :func:`exchange.hub.store.schema.upgrade`, which passes the connection
(holding the migration lock) in ``config.attributes["connection"]``. A developer writing a new
revision runs alembic itself (see docs/migrations.md); the URL then comes from ``EXCHANGE_DB``.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from exchange.hub.store.models import (  # also registers the tables autogenerate compares
    EnumText,
    UTCDateTime,
)

config = context.config


def _render_item(kind: str, obj: Any, _autogen: AutogenContext) -> str | Literal[False]:
    """Write the models' column types as plain SQLAlchemy ones: a revision must not import the
    models it freezes (they will have changed by the time it runs on an old database)."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if kind == "type" and isinstance(obj, EnumText):  # an enum kept as its value in a VARCHAR
        return f"sa.String(length={obj.length})"
    if kind == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _run(connection: Connection) -> None:
    # SQLite alters a table by copying it: autogenerate then writes batch operations.
    context.configure(connection=connection, target_metadata=SQLModel.metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                      render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    url = os.environ.get("EXCHANGE_DB") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set EXCHANGE_DB to the database to migrate (e.g. sqlite:///data/hub.db)")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()
