"""Reading multipart uploads: streamed to temporary files, size-limited, every part checked.

Starlette's parser spools each file part to disk past 1 MiB, so memory stays flat; the
:class:`BodyLimit` middleware stops a body larger than the limit while it streams in (413),
whether or not the client declared its length.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange.domain import jsontext
from exchange.errors import InputError, TooLargeError

# Room for the signature and metadata parts around the file itself.
_OVERHEAD = 2 * 1024 * 1024


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_upload`` (+ multipart overhead)."""

    def __init__(self, app: ASGIApp, *, max_upload: int) -> None:
        self.app = app
        self.limit = max_upload + _OVERHEAD

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _send_413(send, self.limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise TooLargeError(f"the upload is larger than the limit of {self.limit - _OVERHEAD} bytes")
            return message

        await self.app(scope, limited, send)


async def _send_413(send: Send, limit: int) -> None:
    body = json.dumps({"code": "too-large",
                       "message": f"the upload is larger than the limit of {limit - _OVERHEAD} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def read_form(request: Request) -> FormData:
    """The multipart form, or InputError(malformed-multipart) saying what is wrong."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise InputError("expected a multipart/form-data upload", code="malformed-multipart")
    try:
        return await request.form(max_files=4, max_fields=16, max_part_size=1024 * 1024)
    except MultiPartException as exc:
        raise InputError(f"malformed multipart upload: {exc.message}", code="malformed-multipart") from None
    except HTTPException as exc:
        # Inside an application Starlette re-raises the parser's errors as HTTPException(400).
        if exc.status_code != 400:
            raise
        raise InputError(f"malformed multipart upload: {exc.detail}", code="malformed-multipart") from None


def file_part(form: FormData, name: str) -> UploadFile:
    """The file part *name*; InputError(missing-part) if absent."""
    part = optional_file_part(form, name)
    if part is None:
        raise InputError(f"the upload lacks its {name!r} part", code="missing-part")
    return part


def optional_file_part(form: FormData, name: str) -> UploadFile | None:
    """The file part *name* of a multipart form, or None when absent or empty; InputError when it
    is a plain field."""
    part = form.get(name)
    if part is None or part == "":
        return None
    if not isinstance(part, UploadFile):
        raise InputError(f"the {name!r} part must be a file", code="malformed-multipart")
    return part


def json_part(form: FormData, name: str) -> Any:
    """The JSON value of form field *name*; InputError when it is missing, a file, or not JSON."""
    raw = form.get(name)
    if raw is None:
        raise InputError(f"the upload lacks its {name!r} part", code="missing-part")
    text = raw if isinstance(raw, str) else None
    if text is None:
        raise InputError(f"the {name!r} part must be a form field holding JSON", code="invalid-metadata")
    return jsontext.loads(text, what=f"the {name!r} part", code="invalid-metadata")


async def signed_statement(request: Request) -> tuple[bytes, bytes]:
    """A signed statement uploaded as multipart: its ``statement`` part (JSON) and its detached CMS
    ``signature`` part (DER), both read whole; InputError if the form or a part is malformed or
    missing. The receipts and the business operations (recall, update, replace) arrive so."""
    form = await read_form(request)
    statement, signature = file_part(form, "statement"), file_part(form, "signature")
    return await statement.read(), await signature.read()


async def single_file(request: Request, name: str) -> bytes:
    """The file part *name* of a multipart upload, read whole; InputError as :func:`file_part`."""
    form = await read_form(request)
    return await file_part(form, name).read()


def statement_body(statement: str) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of an upload read by :func:`signed_statement`; *statement*
    describes the statement part."""
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["statement", "signature"], "properties": {
            "statement": {"type": "string", "format": "binary", "description": statement},
            "signature": {"type": "string", "format": "binary", "description": "its detached CMS (DER)"},
        }}}}}}
