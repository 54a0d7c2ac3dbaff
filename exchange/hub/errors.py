"""The hub's one error edge: project errors become a 4xx JSON body with a stable code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from exchange.domain.text import printable
from exchange.errors import (
    AuthError,
    ConflictError,
    ExchangeError,
    InputError,
    NotAuthenticatedError,
    NotFoundError,
    PKIError,
    RejectedError,
    TooLargeError,
    TransportError,
)
from exchange.hub.gate import actor_of, record_refusal
from exchange.hub.people import ActorKind

_STATUS: tuple[tuple[type[ExchangeError], int], ...] = (
    (NotAuthenticatedError, 401),
    (AuthError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (TooLargeError, 413),
    (RejectedError, 422),
    (InputError, 400),
    (PKIError, 503),
    (TransportError, 502),
)


def status_for(exc: ExchangeError) -> int:
    """The HTTP status of a project error (400 bad input, 401/403, 404, 409, 413, 422 refused,
    503 PKI, 502 upstream; 500 for none of these: a bug)."""
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    # A message may quote what the client sent: a lone surrogate in it could not be encoded.
    """The JSON body of an error answer: ``code``, a printable ``message`` and, when given,
    ``detail``."""
    body: dict[str, Any] = {"code": code, "message": printable(message)}
    if detail is not None:
        body["detail"] = detail
    return body


def install(app: FastAPI) -> None:
    """Register the handlers on *app*."""

    @app.exception_handler(ExchangeError)
    async def _project(request: Request, exc: ExchangeError) -> JSONResponse:
        status = status_for(exc)
        if isinstance(exc, AuthError):
            await record_refusal(request, exc)
            await _log_refusal(request, exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(error_body(exc.code, exc.message, exc.detail), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return JSONResponse(error_body("invalid-request", problems or "invalid request"), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        # Starlette's 405 carries ``Allow`` (RFC 9110: the methods the path takes): keep it.
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))


async def _log_refusal(request: Request, exc: AuthError) -> None:
    """Append "access refused" (who asked for what) to the evidence log; the answer goes out
    even if the log cannot be written (a 5xx would tell the client nothing more)."""
    service = getattr(request.app.state, "service", None)
    if service is None:
        return
    at = datetime.now(UTC)
    name, kind, _ = actor_of(request)
    actor = None if kind is ActorKind.ANONYMOUS else name
    revoked = exc.detail.get("serial") if isinstance(exc.detail, dict) and exc.code == "certificate-revoked" else None
    try:
        await run_in_threadpool(service.record_refusal, actor=actor, method=request.method, path=request.url.path,
                                code=exc.code, at=at, revoked_serial=revoked)
    except SQLAlchemyError:
        pass
