"""The hub in-process: ``create_app(settings)`` with its lifespan running, reached through
``httpx.ASGITransport`` by synchronous clients (``HubClient`` and plain ``httpx.Client``).

``httpx.ASGITransport`` is asynchronous; :class:`InProcessHub` runs the application in an
anyio blocking portal (an event loop in its own thread, as uvicorn would run it) and offers a
synchronous transport that forwards each request there. No socket is opened.

People: :meth:`InProcessHub.person` gives an ``httpx.Client`` with the bearer token of a person
of a role (the pages and the read API need one); :meth:`InProcessHub.add_person` and
:meth:`InProcessHub.login` (the login form, a session cookie, ``client.csrf``) for tests of
the login itself. Bodies keep :meth:`InProcessHub.client`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime
from typing import Any

import anyio.from_thread
import httpx
from fastapi import FastAPI

from exchange.domain.documents import DocumentMetadata
from exchange.hub import ExchangeService, HubSettings, create_app
from exchange.hub.auth import TokenService
from exchange.hub.people import AccessLog, Accounts, Role
from exchange.node import HubClient, RetryPolicy
from exchange.pki import Credential, KeyStore

BASE_URL = "http://hub.test"
TEST_PASSWORD = "correct horse battery staple"
NO_RETRY = RetryPolicy(attempts=1, backoff=0.0)


class _Bridge(httpx.BaseTransport):
    """A synchronous transport that runs each request through ``httpx.ASGITransport``."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, app: FastAPI) -> None:
        self._portal = portal
        self._asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def round_trip() -> tuple[int, httpx.Headers, bytes]:
            inner = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            response = await self._asgi.handle_async_request(inner)
            return response.status_code, response.headers, await response.aread()

        status, headers, content = self._portal.call(round_trip)
        return httpx.Response(status, headers=headers, content=content, request=request)


class InProcessHub:
    """A running hub application: its transport, its service, and clients for its bodies."""

    def __init__(self, settings: HubSettings, store: KeyStore, *,
                 credentials: dict[str, Credential] | None = None) -> None:
        self.settings = settings
        self.store = store
        # Loading an RSA key checks it (~30 ms): tests share one cache per key directory.
        self.credentials = credentials if credentials is not None else {}
        self.app = create_app(settings)
        self._stack = ExitStack()
        self._clients: list[httpx.Client | HubClient] = []

    def __enter__(self) -> InProcessHub:
        portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        self._stack.enter_context(portal.wrap_async_context_manager(self.app.router.lifespan_context(self.app)))
        self.transport = _Bridge(portal, self.app)
        return self

    def __exit__(self, *_: object) -> None:
        for client in self._clients:
            client.close()
        self._stack.close()

    @property
    def service(self) -> ExchangeService:
        return self.app.state.service  # type: ignore[no-any-return]

    @property
    def tokens(self) -> TokenService:
        return self.app.state.tokens  # type: ignore[no-any-return]

    def client(self, body_id: str, *, retry: RetryPolicy = NO_RETRY, **kwargs: Any) -> HubClient:
        """A HubClient acting as *body_id* with the body's key from the hub's key directory."""
        client = HubClient(BASE_URL, credential=self.credential(body_id), transport=self.transport,
                           retry=retry, **kwargs)
        self._clients.append(client)
        return client

    def credential(self, body_id: str) -> Credential:
        if body_id not in self.credentials:
            self.credentials[body_id] = self.store.credential(body_id)
        return self.credentials[body_id]

    @property
    def accounts(self) -> Accounts:
        return self.app.state.accounts  # type: ignore[no-any-return]

    @property
    def access_log(self) -> AccessLog:
        return self.app.state.access_log  # type: ignore[no-any-return]

    def add_person(self, name: str, role: str, *, body: str | None = None, password: str = TEST_PASSWORD) -> str:
        self.accounts.add(name=name, role=Role(role), body=body, password=password, at=datetime.now(UTC))
        return name

    def person(self, role: str, *, body: str | None = None, name: str | None = None) -> httpx.Client:
        """A client with the bearer token of a person of *role* (created on first use)."""
        name = name or f"test-{role}" + (f"-{body}" if body else "")
        if name not in {a.name for a in self.accounts.list()}:
            self.add_person(name, role, body=body)
        return self.http(self.accounts.issue_token(name, at=datetime.now(UTC)).secret)

    def login(self, name: str, password: str = TEST_PASSWORD) -> httpx.Client:
        """A client logged in through the login form (session cookie; ``client.csrf``)."""
        from e2e.harness import login_form

        client = self.http()
        client.csrf = login_form(client, name, password)  # type: ignore[attr-defined]
        return client

    def http(self, token: str | None = None) -> httpx.Client:
        """A plain httpx client (for requests HubClient would never make), with a bearer token."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=BASE_URL, transport=self.transport, headers=headers)
        self._clients.append(client)
        return client


def metadata(*recipients: str, message_id: str | None = None, **fields: Any) -> DocumentMetadata:
    """Document metadata for *recipients* with a fresh message id unless one is given."""
    data: dict[str, Any] = {
        "recipients": list(recipients),
        "subject": "Báo cáo kết quả ứng dụng CNTT 6 tháng đầu năm",
        "number": "12-BC/TU",
        "doc_type": "bao-cao",
        "doc_date": date(2015, 6, 30).isoformat(),
        "message_id": message_id or str(uuid.uuid4()),
    }
    data.update(fields)
    return DocumentMetadata.from_dict(data)


def document_bytes(label: str = "", size: int = 4096) -> bytes:
    """A document whose content is unique to this call (so blobs never collide by accident)."""
    head = f"%PDF-1.4 {label} {uuid.uuid4()}\n".encode()
    return head + b"x" * max(0, size - len(head))


def running(settings: HubSettings, store: KeyStore, *,
            credentials: dict[str, Credential] | None = None) -> Iterator[InProcessHub]:
    with InProcessHub(settings, store, credentials=credentials) as hub:
        yield hub
