"""Alembic revisions of the hub's schema (see docs/migrations.md and exchange.hub.store.schema)."""
