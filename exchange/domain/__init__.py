"""The domain in plain Python: bodies, documents, receipts. No framework imports."""

from exchange.domain.bodies import Body, BodyKind, BodyRegistry

__all__ = ["Body", "BodyKind", "BodyRegistry"]
