"""The hub: a FastAPI server on :mod:`exchange.cms` and :mod:`exchange.pki`, storage by SQLModel."""

from exchange.hub.app import build_service, create_app
from exchange.hub.service import ExchangeService, Upload
from exchange.hub.settings import HubSettings

__all__ = ["ExchangeService", "HubSettings", "Upload", "build_service", "create_app"]
