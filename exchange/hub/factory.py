"""An app factory for uvicorn's multi-worker mode, reading the settings from the environment."""

from __future__ import annotations

import os

from fastapi import FastAPI

from exchange.clock import clock_from_option
from exchange.config import Settings
from exchange.hub.app import create_app
from exchange.hub.people.passwords import PRODUCTION_COST, TEST_COST
from exchange.hub.settings import HubSettings


def app_from_env() -> FastAPI:
    """Called by uvicorn in each worker process (``exchange hub serve --workers N``)."""
    max_upload = os.environ.get("EXCHANGE_MAX_UPLOAD")
    return create_app(HubSettings.from_settings(
        Settings.from_env(),
        max_upload=int(max_upload) if max_upload else None,
        training=bool(os.environ.get("EXCHANGE_TRAINING")),
        checkpoint_interval=float(os.environ.get("EXCHANGE_CHECKPOINT_INTERVAL") or 2.0),
        durable=os.environ.get("EXCHANGE_DURABLE", "1") != "0",
        clock=clock_from_option(os.environ.get("EXCHANGE_CLOCK")),
        mtls=bool(os.environ.get("EXCHANGE_MTLS")),
        password_cost=TEST_COST if os.environ.get("EXCHANGE_TEST_PASSWORD_COST") else PRODUCTION_COST,
    ))
