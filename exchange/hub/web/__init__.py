"""The hub's web pages for trainers and auditors: server-rendered, nothing loaded from elsewhere.

``install(app)`` adds the pages (``/``, ``/bodies``, ``/documents``…), the live counts
(``/api/activity``), the training actions, the static files (``/static``) and error pages
for the pages (the API keeps its JSON errors).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from exchange.hub.web import access, errors, login, users
from exchange.hub.web.routes import live_router, router
from exchange.hub.web.templating import STATIC_DIR, make_templates

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Add the pages, their static files and their templates to *app*."""
    app.state.templates = make_templates()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(login.router)  # the only pages without a login
    app.include_router(access.api_router)
    app.include_router(live_router)
    app.include_router(router)
    app.include_router(access.router)
    app.include_router(users.router)
    errors.install(app)  # after the hub's JSON handlers, which it wraps
