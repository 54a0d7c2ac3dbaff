"""The people page (``/users``), for operators: the accounts, and forms to add one, disable or
enable it, or set a new password. The same operations as ``exchange users``
(:func:`exchange.hub.people.change_account`); every change is written to the access log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from exchange.errors import ExchangeError
from exchange.hub.deps import NowDep
from exchange.hub.errors import status_for
from exchange.hub.gate import AccessLogDep, AccountsDep, ViewerDep, check_csrf, client_of, require
from exchange.hub.people import (
    AccessRecord,
    AccountAction,
    Action,
    ActorKind,
    Permission,
    Role,
    Viewer,
    change_account,
)
from exchange.hub.web.routes import TemplatesDep, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(require(Permission.USERS))])
FORM = [Depends(check_csrf)]


def _page(request: Request, templates: TemplatesDep, accounts: AccountsDep, at: NowDep, *, status: int = 200,
          message: str | None = None, error: str | None = None) -> HTMLResponse:
    return render(request, templates, "users.html", status, title="People", accounts=accounts.list(), at=at,
                  roles=[r.value for r in Role], message=message, error=error)


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, templates: TemplatesDep, accounts: AccountsDep, at: NowDep) -> HTMLResponse:
    """The people page: every account with its role, body and state, and the forms to change
    them."""
    return _page(request, templates, accounts, at)


@router.post("/users", dependencies=FORM, response_class=HTMLResponse)
async def add_user(request: Request, templates: TemplatesDep, accounts: AccountsDep, log: AccessLogDep,
                   viewer: ViewerDep, at: NowDep, name: Annotated[str, Form(max_length=200)],
                   role: Annotated[str, Form(max_length=32)], password: Annotated[str, Form(max_length=2000)],
                   body: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Add an account from the form; the page says what was added, or why not (a bad name, a weak
    password, a name taken)."""
    def add() -> str:
        """Add the account; the line the page shows."""
        info = accounts.add(name=name, role=Role.parse(role), body=body or None, password=password, at=at)
        return f"added {info.name} ({info.role.value}{', ' + info.body if info.body else ''})"
    return await _change(request, templates, accounts, log, viewer, at, add, f"add {name}")


@router.post("/users/{name}/disable", dependencies=FORM, response_class=HTMLResponse)
async def disable(request: Request, name: str, templates: TemplatesDep, accounts: AccountsDep, log: AccessLogDep,
                  viewer: ViewerDep, at: NowDep) -> Response:
    """Disable account *name*: it can no longer log in, its sessions and tokens end now."""
    return await _account_change(request, templates, accounts, log, viewer, at, AccountAction.DISABLE, name)


@router.post("/users/{name}/enable", dependencies=FORM, response_class=HTMLResponse)
async def enable(request: Request, name: str, templates: TemplatesDep, accounts: AccountsDep, log: AccessLogDep,
                 viewer: ViewerDep, at: NowDep) -> Response:
    """Enable the disabled account *name* again."""
    return await _account_change(request, templates, accounts, log, viewer, at, AccountAction.ENABLE, name)


@router.post("/users/{name}/reset", dependencies=FORM, response_class=HTMLResponse)
async def reset(request: Request, name: str, templates: TemplatesDep, accounts: AccountsDep, log: AccessLogDep,
                viewer: ViewerDep, at: NowDep, password: Annotated[str, Form(max_length=2000)]) -> Response:
    """Set a new password for *name*: its sessions and tokens end and any lock-out is lifted."""
    return await _account_change(request, templates, accounts, log, viewer, at, AccountAction.RESET, name,
                                 password=password)


async def _account_change(request: Request, templates: TemplatesDep, accounts: AccountsDep, log: AccessLogDep,
                          viewer: Viewer, at: NowDep, action: AccountAction, name: str, *,
                          password: str | None = None) -> Response:
    def apply() -> str:
        return change_account(accounts, action, name, password=password).message()
    return await _change(request, templates, accounts, log, viewer, at, apply, action.target(name))


async def _change(request: Request, templates: TemplatesDep, accounts: AccountsDep, log: AccessLogDep,
                  viewer: Viewer, at: NowDep, change: Callable[[], str], what: str) -> Response:
    try:
        message = await run_in_threadpool(change)
    except ExchangeError as exc:  # the form's edge: the operator sees the reason on the page
        await run_in_threadpool(log.record, _entry(request, viewer, at, what, False, exc.code))
        return _page(request, templates, accounts, at, status=status_for(exc), error=exc.message)
    await run_in_threadpool(log.record, _entry(request, viewer, at, what, True, ""))
    return _page(request, templates, accounts, at, message=message)


def _entry(request: Request, viewer: Viewer, at: NowDep, what: str, allowed: bool, code: str) -> AccessRecord:
    return AccessRecord(at=at, actor=viewer.name, actor_kind=ActorKind.PERSON, role=viewer.role.value,
                        action=Action.USERS, target=what, allowed=allowed, code=code, client=client_of(request))
