"""The hub's storage: tables, engines, and the one repository module that writes them."""

from exchange.hub.store.db import make_engine

__all__ = ["make_engine"]
