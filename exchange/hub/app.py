"""``create_app(settings)``: the hub as a FastAPI application. Nothing is created at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

from fastapi import FastAPI

from exchange.domain.bodies import BodyRegistry
from exchange.hub import errors, openapi, roster, web
from exchange.hub.auth import CHALLENGE_TTL, TokenService
from exchange.hub.blobs import BlobStore
from exchange.hub.evidence import Evidence
from exchange.hub.evidence_log import EvidenceLog
from exchange.hub.intake import Intake
from exchange.hub.jsonbody import JsonBodyLimit
from exchange.hub.people import AccessLog, Accounts, Passwords
from exchange.hub.people.accounts import LoginPolicy
from exchange.hub.routes import audit, auth, documents, edxml, log, measures, registry, tsa
from exchange.hub.service import ExchangeService
from exchange.hub.settings import HubSettings
from exchange.hub.store.db import make_engine
from exchange.hub.trust import Trust
from exchange.hub.upload import BodyLimit
from exchange.pki import KeyStore

logger = logging.getLogger(__name__)


def build_service(settings: HubSettings) -> ExchangeService:
    """The service with its engine, blob store and trust, as the app and the simulator use it."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # hub.db, blobs, secret: owner-only
    trust = Trust(KeyStore.at(settings.keys_dir), reload_interval=settings.crl_reload_interval)
    engine = make_engine(settings.database_url, durable=settings.durable, scratch=settings.scratch)
    bodies = BodyRegistry.from_toml(settings.resolved_bodies_file)
    # The register keeps the list of bodies it serves (K2's denominator), dated by the clock.
    roster.record(engine, bodies, at=settings.clock.now())
    return ExchangeService(
        engine=engine,
        blobs=BlobStore(settings.data_dir / "blobs", durable=settings.durable),
        trust=trust,
        bodies=bodies,
        max_upload=settings.max_upload,
        log=EvidenceLog(engine, origin=settings.log_origin,
                        interval=timedelta(seconds=settings.checkpoint_interval)),
    )


def create_app(settings: HubSettings) -> FastAPI:
    """The hub application for *settings*; storage opens when the app starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """Build what the hub serves with when the server starts (the service, after sweeping
        partial uploads a crash left; tokens, accounts, the access log) and release it when it
        stops."""
        service = build_service(settings)
        with service.blobs.exclusive():  # waits for any other worker's upload in flight
            swept = service.blobs.sweep_tmp()
        if swept:
            logger.warning("removed %d partial upload(s) left in %s/tmp by an earlier crash", swept,
                           service.blobs.root)
        app.state.service = service
        app.state.intake = Intake(service.submit_many)
        app.state.trust = service.trust
        app.state.evidence = Evidence(service)
        app.state.clock = settings.clock
        # Lifetimes are real minutes: on a fast simulated clock they last as many clock hours.
        app.state.tokens = TokenService.from_file(settings.data_dir / "hub-secret",
                                                  token_ttl=settings.clock.scale(settings.token_ttl),
                                                  challenge_ttl=settings.clock.scale(CHALLENGE_TTL))
        app.state.settings = settings
        # People's lifetimes too are real ones (a login lasts 8 real hours on any clock).
        scale, base = settings.clock.scale, LoginPolicy()
        policy = replace(base, window=scale(base.window), lockout=scale(base.lockout),
                         session_ttl=scale(base.session_ttl), token_ttl=scale(base.token_ttl))
        app.state.accounts = Accounts(service.engine, bodies=service.bodies, policy=policy,
                                      passwords=Passwords.at_cost(settings.password_cost))
        app.state.access_log = AccessLog(service.engine)
        try:
            yield
        finally:
            app.state.intake.close()
            service.engine.dispose()

    app = FastAPI(
        title="Document exchange hub",
        summary="Signed electronic document exchange between Party bodies (Decision 260-QĐ/TW)",
        version="0.1.0",
        lifespan=lifespan,
    )
    errors.install(app)
    app.add_middleware(BodyLimit, max_upload=settings.max_upload)
    app.add_middleware(JsonBodyLimit)
    for router in (auth.router, documents.router, registry.router, measures.router, edxml.router, log.router,
                   audit.router, tsa.router):
        app.include_router(router)
    web.install(app)  # the pages for trainers and auditors, after the JSON API
    openapi.install(app)
    return app
