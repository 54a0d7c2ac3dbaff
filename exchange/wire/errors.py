"""The hub's error answer, both ways: the one JSON body of every 4xx (:class:`ErrorBody`), and
the one mapping of such an answer back to the project's errors (:func:`hub_error`).

The hub turns a project error into a status and a body (``exchange.hub.errors``); a client
turns them back here, so a refusal keeps its class and its stable ``code`` across the wire:

====  =========================  ====  ========================
400   InputError                 409   ConflictError
401   NotAuthenticatedError      413   TooLargeError
403   NotAuthorizedError         422   RejectedError
404   NotFoundError              else  TransportError
====  =========================  ====  ========================

The message names the hub and the path, the status, what the hub said and its code in
brackets; ``code`` and ``detail`` are the hub's own (``detail`` holds a validation report
where there is one).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from exchange.errors import (
    ConflictError,
    ExchangeError,
    InputError,
    NotAuthenticatedError,
    NotAuthorizedError,
    NotFoundError,
    RejectedError,
    TooLargeError,
    TransportError,
)

__all__ = ["ErrorBody", "hub_error"]

_BY_STATUS: dict[int, type[ExchangeError]] = {
    400: InputError, 401: NotAuthenticatedError, 403: NotAuthorizedError, 404: NotFoundError,
    409: ConflictError, 413: TooLargeError, 422: RejectedError,
}


class ErrorBody(BaseModel):
    """Every error the hub answers: a stable machine-readable ``code`` and a ``message`` in words."""

    code: str = Field(description="stable, e.g. invalid-signature, message-id-reused, too-large")
    message: str = Field(description="what is wrong, in words")
    detail: Any | None = Field(None, description="more, where there is more: a validation report, a document id")


def hub_error(status: int, content: bytes | str, *, hub: str, path: str) -> ExchangeError:
    """The project error for the hub's answer *status* with body *content* to a request for
    *path* at *hub* (its URL): the class by status (see the table above), the hub's ``code`` and
    ``detail`` when the body is an :class:`ErrorBody`, else the start of the body as the message."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    code: str | None = None
    detail: Any = None
    message = ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = body.get("code") if isinstance(body.get("code"), str) else None
        message = str(body.get("message") or "")
        detail = body.get("detail")
    message = message or text.strip()[:200] or f"HTTP {status}"
    kind = _BY_STATUS.get(status, TransportError)
    said = f"{message} [{code}]" if code else message
    return kind(f"the hub at {hub} refused {path} ({status}): {said}", code=code, detail=detail)
