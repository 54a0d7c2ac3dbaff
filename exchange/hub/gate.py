"""The gate for people: who is behind a request (a login cookie or a person's bearer token),
what their role lets through, CSRF on forms, and the access log's entries for refusals,
logins and document views.

Bodies (nodes) keep their certificate-based tokens (:mod:`exchange.hub.auth`); this module is
only for people (:mod:`exchange.hub.people`). Use the ``Annotated`` aliases in routes:

- ``ViewerDep``: the person, or 401 ``not-logged-in`` (a page then redirects to ``/login``);
- ``dependencies=[Depends(require(Permission.X))]``: 403 ``role-not-allowed`` unless granted;
- ``dependencies=[Depends(check_csrf)]`` on every form a logged-in person posts.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from exchange.errors import AuthError, NotAuthenticatedError, NotAuthorizedError
from exchange.hub.deps import NowDep, clock
from exchange.hub.people import (
    AccessLog,
    AccessRecord,
    Accounts,
    Action,
    ActorKind,
    Permission,
    Viewer,
)
from exchange.hub.people.accounts import TOKEN_PREFIX

SESSION_COOKIE = "exchange_session"
LOGIN_CSRF_COOKIE = "exchange_login_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


async def get_accounts(request: Request) -> Accounts:
    """The hub's accounts (a dependency: ``AccountsDep``)."""
    return request.app.state.accounts  # type: ignore[no-any-return]


async def get_access_log(request: Request) -> AccessLog:
    """The hub's access log (a dependency: ``AccessLogDep``)."""
    return request.app.state.access_log  # type: ignore[no-any-return]


AccountsDep = Annotated[Accounts, Depends(get_accounts)]
AccessLogDep = Annotated[AccessLog, Depends(get_access_log)]


def credential_of(request: Request) -> str | None:
    """A person's secret from the request: a bearer token ``xp_…``, else the session cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip().startswith(TOKEN_PREFIX):
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


async def current_viewer(request: Request, accounts: AccountsDep, at: NowDep) -> Viewer:
    """The person behind the request; NotAuthenticatedError (401) if nobody is logged in."""
    secret = credential_of(request)
    if not secret:
        raise NotAuthenticatedError("log in first (a page: /login; a script: a token from "
                                    "`exchange users token NAME` as 'Authorization: Bearer …')",
                                    code="not-logged-in")
    viewer = await run_in_threadpool(accounts.viewer, secret, at=at)
    request.state.viewer = viewer
    return viewer


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


def require(permission: Permission) -> Callable[[Viewer], Awaitable[Viewer]]:
    """A dependency: the viewer, if their role grants *permission*; 403 otherwise."""

    async def allowed(viewer: ViewerDep) -> Viewer:
        """The viewer, once it holds the permission (403 otherwise)."""
        viewer.require(permission)
        return viewer

    return allowed


async def check_csrf(request: Request, viewer: ViewerDep) -> None:
    """Refuse a form posted with a login cookie but without this session's CSRF token (a form
    field ``csrf`` or the header ``X-CSRF-Token``). A bearer token carries no cookie: no CSRF."""
    if viewer.via != "session":
        return
    given = request.headers.get(CSRF_HEADER, "")
    if not given:
        form = await request.form()  # Starlette caches it: the route reads the same form
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else ""
    if not given or not hmac.compare_digest(given.encode(), viewer.csrf.encode()):
        raise NotAuthorizedError("this form is not from your session (missing or wrong CSRF token): "
                                 "reload the page and try again", code="csrf-refused")


# -- the access log --------------------------------------------------------------------------


def client_of(request: Request) -> str:
    """The client's address for the access log (empty when the server does not know it)."""
    return request.client.host if request.client else ""


def actor_of(request: Request) -> tuple[str, ActorKind, str]:
    """(name, kind, role) of whoever the request proved to be so far."""
    viewer = getattr(request.state, "viewer", None)
    if isinstance(viewer, Viewer):
        return viewer.name, ActorKind.PERSON, viewer.role.value
    body = getattr(request.state, "body", None)
    if isinstance(body, str):
        return body, ActorKind.BODY, ""
    return "anonymous", ActorKind.ANONYMOUS, ""


async def record_refusal(request: Request, exc: AuthError) -> None:
    """Log a request answered 401/403 with its code: the one place refusals are recorded."""
    log: AccessLog | None = getattr(request.app.state, "access_log", None)
    if log is None:
        return
    at = await clock(request)
    name, kind, role = actor_of(request)
    await run_in_threadpool(log.record, AccessRecord(
        at=at, actor=name, actor_kind=kind, role=role, action=Action.REFUSED,
        target=f"{request.method} {request.url.path}", allowed=False, code=exc.code, client=client_of(request)))


async def record_view(request: Request, log: AccessLog, viewer: Viewer, document_id: str, *, at: datetime) -> None:
    """Log that *viewer* was shown document *document_id*."""
    await run_in_threadpool(log.record, AccessRecord(
        at=at, actor=viewer.name, actor_kind=ActorKind.PERSON, role=viewer.role.value, action=Action.VIEW,
        target=document_id, allowed=True, client=client_of(request)))


def body_view(request: Request, body_id: str, document_id: str, *, at: datetime) -> AccessRecord:
    """The access log's entry for a body (a node) fetching a document's content."""
    return AccessRecord(at=at, actor=body_id, actor_kind=ActorKind.BODY, action=Action.VIEW, target=document_id,
                        allowed=True, client=client_of(request))


def set_session_cookie(request: Request, response: Response, secret: str, *, max_age: int) -> None:
    """The login cookie: HttpOnly (no script reads it), SameSite=Lax (no cross-site form carries
    it), Secure whenever the hub is reached over HTTPS."""
    response.set_cookie(SESSION_COOKIE, secret, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")


def clear_session_cookie(request: Request, response: Response) -> None:
    """Remove the login cookie from the browser (logout, or a session that ended)."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
