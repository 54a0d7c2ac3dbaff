"""The login page, logging in and out.

The login form is protected against CSRF by a double-submit cookie (a random value in an
HttpOnly, SameSite=Strict cookie that the form must repeat); once logged in, forms carry the
session's own token (:func:`exchange.hub.gate.check_csrf`). Every login, failed login and
logout is written to the access log.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from exchange.errors import NotAuthenticatedError
from exchange.hub.deps import NowDep
from exchange.hub.gate import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    AccessLogDep,
    AccountsDep,
    ViewerDep,
    check_csrf,
    clear_session_cookie,
    client_of,
    set_session_cookie,
)
from exchange.hub.people import AccessRecord, Action, ActorKind
from exchange.hub.web.routes import TemplatesDep, render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """A local path to go back to after logging in (never another site: ``//x`` or ``/\\x``)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target:
        return target
    return "/"


def _login_page(request: Request, templates: TemplatesDep, *, next_path: str, status: int = 200,
                error: str | None = None, name: str = "") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, templates, "login.html", status, title="Log in", login_csrf=token,
                      next_path=next_path, error=error, login_name=name)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, path="/login", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, templates: TemplatesDep, next: str | None = None) -> HTMLResponse:
    """The login form; after logging in the person goes to *next* if it is a path on this hub."""
    return _login_page(request, templates, next_path=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, templates: TemplatesDep, accounts: AccountsDep, log: AccessLogDep, at: NowDep,
                name: Annotated[str, Form(max_length=200)] = "", password: Annotated[str, Form(max_length=2000)] = "",
                csrf: Annotated[str, Form(max_length=200)] = "",
                next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    """Check the name and password; on success a session cookie and back to *next*."""
    target = safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf or not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
        await _record(log, request, at, name or "anonymous", Action.LOGIN_FAILED, False, "csrf-refused")
        return _login_page(request, templates, next_path=target, status=403, name=name,
                           error="This form had expired or did not come from this hub: please log in again.")
    try:
        opened = await run_in_threadpool(accounts.login, name, password, at=at)
    except NotAuthenticatedError as exc:
        await _record(log, request, at, name.strip().lower()[:64] or "anonymous", Action.LOGIN_FAILED, False,
                      exc.code)
        return _login_page(request, templates, next_path=target, status=401, error=exc.message, name=name)
    await _record(log, request, at, opened.viewer.name, Action.LOGIN, True, "", role=opened.viewer.role.value)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, opened.secret, max_age=int((opened.expires - at).total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", dependencies=[Depends(check_csrf)])
async def logout(request: Request, viewer: ViewerDep, accounts: AccountsDep, log: AccessLogDep,
                 at: NowDep) -> Response:
    """End the person's session (written to the access log) and return to the login page."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await run_in_threadpool(accounts.logout, secret)
    await _record(log, request, at, viewer.name, Action.LOGOUT, True, "", role=viewer.role.value, target="/logout")
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response


async def _record(log: AccessLogDep, request: Request, at: NowDep, actor: str, action: Action, allowed: bool,
                  code: str, *, role: str = "", target: str = "/login") -> None:
    await run_in_threadpool(log.record, AccessRecord(
        at=at, actor=actor, actor_kind=ActorKind.PERSON, role=role, action=action, target=target,
        allowed=allowed, code=code, client=client_of(request)))
