"""The pages' error edge: a page that fails answers with a readable page and a 4xx status.

The hub's JSON handlers (:mod:`exchange.hub.errors`) stay in charge of everything that is not
a page: ``/api/`` (nodes and scripts parse those errors), the OpenAPI pages, the static files
and the training actions (``/training/…`` answers 404 JSON when training mode is off).
:func:`install` wraps those handlers and hands only page requests to a template.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from exchange.errors import AuthError, ExchangeError, NotAuthenticatedError
from exchange.hub.errors import status_for
from exchange.hub.gate import record_refusal
from exchange.hub.web.routes import get_templates, render

#: paths that keep the JSON errors of the API
NOT_PAGES = ("/api/", "/api", "/static/", "/docs", "/redoc", "/openapi.json", "/training/")
TITLES = {400: "Not understood", 403: "Not allowed", 404: "Not found", 405: "Not allowed"}


def is_page(request: Request) -> bool:
    """A browser asking for a page (GET or HEAD) or posting one of the pages' forms, on a path
    that is not part of the API."""
    if request.url.path.startswith(NOT_PAGES):
        return False
    return request.method in ("GET", "HEAD") or (
        request.method == "POST"
        and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"))


def login_redirect(request: Request) -> Response:
    """To the login page, coming back here afterwards (a GET page; a form goes to the overview)."""
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = "/login" if request.method != "GET" or back == "/" else f"/login?{urlencode({'next': back})}"
    return RedirectResponse(target, status_code=303)


def error_page(request: Request, status: int, message: str) -> Response:
    """The error page with HTTP *status* and the reason in *message* (for a browser; API calls
    get JSON)."""
    title = TITLES.get(status, "Not shown")
    return render(request, get_templates(request), "error.html", status, title=title, status=status,
                  message=message)


def install(app: FastAPI) -> None:
    """Route page errors to :func:`error_page`; leave every other error to the JSON handlers."""
    json_project = app.exception_handlers[ExchangeError]
    json_http = app.exception_handlers[StarletteHTTPException]
    json_validation = app.exception_handlers[RequestValidationError]

    async def project(request: Request, exc: Exception) -> Response:
        """A project error as a page for a browser (a login redirect for 401), as JSON for the
        API."""
        if not is_page(request) or not isinstance(exc, ExchangeError):
            return await json_project(request, exc)  # type: ignore[no-any-return,misc]
        if isinstance(exc, AuthError):
            await record_refusal(request, exc)
        if isinstance(exc, NotAuthenticatedError):
            return login_redirect(request)
        return error_page(request, status_for(exc), exc.message)

    async def http(request: Request, exc: Exception) -> Response:
        """An HTTP error (e.g. no such page) as a page for a browser, as JSON for the API."""
        if not is_page(request) or not isinstance(exc, StarletteHTTPException):
            return await json_http(request, exc)  # type: ignore[no-any-return,misc]
        message = "there is no page at this address" if exc.status_code == 404 else str(exc.detail)
        return error_page(request, exc.status_code, message)

    async def validation(request: Request, exc: Exception) -> Response:
        """Bad query or form values as a 400 page naming each field, as JSON for the API."""
        if not is_page(request) or not isinstance(exc, RequestValidationError):
            return await json_validation(request, exc)  # type: ignore[no-any-return,misc]
        problems = "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in exc.errors())
        return error_page(request, 400, f"the address has a value the page cannot read ({problems})")

    app.add_exception_handler(ExchangeError, project)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(RequestValidationError, validation)
