"""Bounds on JSON request bodies, before FastAPI parses them.

FastAPI reads a JSON body with ``json.loads`` and catches only decoding errors: a body nested
thousands of levels deep raised ``RecursionError`` (a 500). :class:`JsonBodyLimit` reads a JSON
body whole (it is small: at most :data:`exchange.domain.jsontext.MAX_SIZE`), checks its size and
depth with the domain's rule, and hands it on unchanged; too large is 413, too deep 400.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange.domain import jsontext
from exchange.errors import ExchangeError, TooLargeError
from exchange.hub.errors import error_body, status_for


class JsonBodyLimit:
    """ASGI middleware: JSON bodies over the size or depth limit never reach the routes."""

    def __init__(self, app: ASGIApp, *, max_size: int = jsontext.MAX_SIZE) -> None:
        self.app = app
        self.max_size = max_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        size = 0
        try:
            while True:
                message = await receive()
                received.append(message)
                if message["type"] != "http.request":  # the client went away: let the app see it
                    break
                size += len(message.get("body", b""))
                if size > self.max_size:
                    raise TooLargeError(f"the JSON body is over {self.max_size} bytes")
                if not message.get("more_body", False):
                    body = b"".join(m.get("body", b"") for m in received)
                    jsontext.check_json(body, what="the JSON body", max_size=self.max_size)
                    received = [{"type": "http.request", "body": body, "more_body": False}]
                    break
        except ExchangeError as exc:
            await _send_error(send, exc)
            return
        await self.app(scope, _replay(received, receive), send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers") or ():
        if name == b"content-type":
            kind = value.split(b";", 1)[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return False


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """*messages* first, then the client's own (a later disconnect still reaches the app)."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


async def _send_error(send: Send, exc: ExchangeError) -> None:
    body = json.dumps(error_body(exc.code, exc.message)).encode()
    await send({"type": "http.response.start", "status": status_for(exc),
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
