"""The hub's JSON API routes, a few lines each: parse, call the service, return a model."""

from exchange.hub.routes import auth, documents, registry

__all__ = ["auth", "documents", "registry"]
