"""The access log page (``/access``) and its JSON (``/api/access``), for auditors and operators:
who logged in, failed to, was refused or viewed which document, and who is refused repeatedly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from exchange.errors import InputError
from exchange.hub.deps import NowDep
from exchange.hub.gate import AccessLogDep, require
from exchange.hub.openapi import errors
from exchange.hub.people import AccessLog, AccessRecord, Action, Permission, RepeatedRefusals
from exchange.hub.people.access_log import REPEAT_THRESHOLD, REPEAT_WINDOW
from exchange.hub.web.routes import TemplatesDep, render

PAGE_SIZE = 50
MAX_PAGE = 10**6
OUTCOMES = ("allowed", "refused")

router = APIRouter(include_in_schema=False, dependencies=[Depends(require(Permission.ACCESS_LOG))])
api_router = APIRouter(prefix="/api", tags=["access"], dependencies=[Depends(require(Permission.ACCESS_LOG))],
                       responses=errors(400, 401, 403))


@dataclass(frozen=True)
class AccessPage:
    """One page of the access log, filtered by actor, action and outcome."""

    entries: list[AccessRecord]
    total: int
    page: int
    pages: int
    actor: str
    action: str
    outcome: str
    repeated: list[RepeatedRefusals]
    error: str | None

    actions = [a.value for a in Action]
    outcomes = OUTCOMES
    threshold = REPEAT_THRESHOLD
    window_hours = int(REPEAT_WINDOW.total_seconds() // 3600)

    def query(self, **changes: object) -> str:
        """The access page's query string with *changes* applied, for links that keep the other
        filters."""
        values = {"actor": self.actor, "action": self.action, "outcome": self.outcome, "page": self.page, **changes}
        return urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})

    @classmethod
    def build(cls, log: AccessLog, *, at: datetime, actor: str = "", action: str = "", outcome: str = "",
              page: int = 1) -> AccessPage:
        """The log filtered by *actor*, *action* and *outcome* (unknown values ignored, with the reason)."""
        error = None
        chosen: Action | None = None
        if action:
            try:
                chosen = Action(action)
            except ValueError:
                error, action = f"unknown action {action!r}: ignored", ""
        if outcome and outcome not in OUTCOMES:
            error, outcome = f"unknown outcome {outcome!r}: ignored", ""
        page = min(max(page, 1), MAX_PAGE)
        entries, total = log.entries(actor=actor.strip() or None, action=chosen,
                                     allowed=None if not outcome else outcome == "allowed",
                                     offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        pages = max(1, -(-total // PAGE_SIZE))
        return cls(entries, total, min(page, pages), pages, actor.strip(), action, outcome,
                   log.repeated_refusals(at=at), error)


def entry_dict(entry: AccessRecord) -> dict[str, Any]:
    """An access record as the JSON of ``GET /api/access`` and its CSV."""
    return {"at": entry.at.isoformat(), "actor": entry.actor, "actor_kind": entry.actor_kind.value,
            "role": entry.role, "action": entry.action.value, "target": entry.target, "outcome": entry.outcome,
            "code": entry.code, "client": entry.client}


@router.get("/access", response_class=HTMLResponse)
async def access(request: Request, templates: TemplatesDep, log: AccessLogDep, at: NowDep, actor: str = "",
                 action: str = "", outcome: str = "", page: int = 1) -> HTMLResponse:
    """The access log page (operators and auditors): who did what, when, allowed or refused,
    filtered and paged."""
    view = await run_in_threadpool(AccessPage.build, log, at=at, actor=actor, action=action, outcome=outcome,
                                   page=page)
    return render(request, templates, "access.html", 400 if view.error else 200, page=view, title="Access")


@api_router.get("/access")
def access_json(log: AccessLogDep, at: NowDep,
                actor: Annotated[str, Query(max_length=64, description="a person's name or a body id")] = "",
                action: Annotated[Action | None, Query(description="only this kind of entry")] = None,
                outcome: Annotated[Literal["allowed", "refused"] | None, Query()] = None,
                page: Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"{PAGE_SIZE} entries a page")] = 1,
                ) -> dict[str, Any]:
    """The access log, newest first, and who was refused repeatedly in the last 24 h (auditors
    and operators)."""
    view = AccessPage.build(log, at=at, actor=actor, action=action.value if action else "", outcome=outcome or "",
                            page=page)
    if view.error:  # pragma: no cover - the query's types admit only known values
        raise InputError(view.error, code="invalid-filter")
    return {"total": view.total, "page": view.page, "pages": view.pages,
            "entries": [entry_dict(e) for e in view.entries],
            "repeated_refusals": [{"actor": r.actor, "actor_kind": r.actor_kind.value, "count": r.count,
                                   "last_at": r.last_at.isoformat(), "codes": list(r.codes)}
                                  for r in view.repeated]}
