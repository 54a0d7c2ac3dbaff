"""The node's HTTP client for the hub (httpx): authentication, retries, typed errors.

A client takes an ``httpx`` transport, so unit tests use ``httpx.MockTransport``, in-process
tests ``httpx.ASGITransport`` and end-to-end tests a real server. Connection errors and 5xx
answers are retried with jittered exponential backoff over a window that covers a hub restart
(:class:`RetryPolicy`); a retried send reuses its message id, so the hub stores it once. Given
several hub URLs (processes sharing one database), a client moves to the next one when the hub
in use is down (:mod:`exchange.node.failover`). Every failure becomes a project error (a 4xx
keeps the hub's code: :func:`exchange.wire.hub_error`), and every answer a typed model of
:mod:`exchange.wire`.
"""

from __future__ import annotations

import base64
import json
import random
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Self, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from exchange.cms import sign_detached
from exchange.domain.business import BusinessStatement
from exchange.domain.documents import DocumentMetadata, ReceiptStatus
from exchange.domain.receipts import ReceiptStatement
from exchange.errors import InputError, InputFileError, PKIError, TransportError
from exchange.node.failover import hub_http, hub_in_use, hub_urls, is_tls, tls_refusal
from exchange.pki import KeyStore
from exchange.pki.certificates import Credential, body_id_of
from exchange.pki.tls import client_certificate
from exchange.wire import (
    BodyCertificates,
    BodyPublic,
    BusinessEventPublic,
    Challenge,
    DocumentPublic,
    EdxmlImportPublic,
    IncomingPublic,
    ReceiptPublic,
    RegisterPublic,
    Token,
    hub_error,
)

#: how long a client keeps a body's published certificates (see HubClient.certificates)
CERTIFICATES_TTL = timedelta(minutes=5)

M = TypeVar("M")


def utc_now() -> datetime:
    """The real time, UTC (a client's default clock)."""
    return datetime.now(UTC)


def hub_trust(url: str | Sequence[str], root: Path, *, client_cert: tuple[Path, Path] | None = None
              ) -> ssl.SSLContext | bool:
    """How to verify the hub at *url* (or hubs: see :func:`~exchange.node.failover.hub_urls`): for
    ``https``, a TLS context trusting *root* alone (the
    demo PKI's root, not the system's CAs), so a hub whose certificate does not chain to it is
    refused; presenting *client_cert* (certificate chain file, key file) when the hub asks for
    one (mutual TLS). Raises InputFileError if a file cannot be read."""
    if not is_tls(url):
        return True
    if not root.is_file():
        raise InputFileError(f"no CA certificate at {root} to verify the hub's TLS certificate (give --ca ROOT.pem)")
    try:
        context = ssl.create_default_context(cafile=str(root))
        if client_cert is not None:
            context.load_cert_chain(str(client_cert[0]), str(client_cert[1]))
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise InputFileError(f"cannot use {root} / the TLS client certificate: {exc}") from None
    return context


def body_trust(url: str | Sequence[str], store: KeyStore, body_id: str, *, ca: Path | None = None,
               at: datetime) -> ssl.SSLContext | bool:
    """:func:`hub_trust` for *body_id*: trusting *ca* (default the key folder's root) and
    presenting the body's TLS client certificate (issued at *at*, the real time, if the key
    folder can issue one), for hubs that require mutual TLS."""
    if not is_tls(url):
        return True
    try:
        files = client_certificate(store, body_id, at=at)
        client: tuple[Path, Path] | None = (files.cert_path, files.key_path)
    except PKIError:
        client = None  # a key folder without the CA's key: no client certificate to offer
    return hub_trust(url, ca or store.root_path, client_cert=client)


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying when the hub cannot be reached or answers 5xx.

    Retries go on until *window* seconds have passed since the first attempt (the default 30 s
    covers a hub restart, which takes 1-5 s, with room to spare), or *attempts* were made if
    given. Waits start at *backoff*, double up to *max_backoff*, and are jittered by ±*jitter*
    (a fraction) so that many nodes cut off by one restart do not all come back at once.
    A retried send repeats its message id, so the hub stores it once.
    """

    attempts: int | None = None
    backoff: float = 0.2  # seconds, doubled each attempt
    max_backoff: float = 5.0
    window: float = 30.0
    jitter: float = 0.5

    def pause(self, delay: float) -> float:
        """The wait before the next attempt: *delay*, jittered."""
        return delay * random.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else delay

    def exhausted(self, attempt: int, elapsed: float) -> bool:
        """True once no further attempt may start."""
        return (self.attempts is not None and attempt >= self.attempts) or elapsed >= self.window


class HubReader:
    """Reads a hub's API as a person (a bearer *token* from ``exchange users token NAME``) or
    anonymously: the transport, the retries and the one mapping of the hub's answers to typed
    models (:mod:`exchange.wire`) and project errors (:func:`exchange.wire.hub_error`).
    :class:`HubClient` is the same for a body, which proves its identity with its key.

    *base_url*: the hub's URL, or several (a list, or one string separated by commas) for hub
    processes that share one database: requests go to the first until it is down, then to the
    next (:class:`~exchange.node.failover.FailoverTransport`). One retry attempt is one pass
    over them.
    """

    def __init__(
        self,
        base_url: str | Sequence[str],
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 60.0,
        clock: Callable[[], datetime] = utc_now,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.retry = retry
        self.clock = clock
        #: every hub this client may talk to, in the order it tries them
        self.hub_urls = hub_urls(base_url)
        #: how messages name the hub: its URL, or its URLs
        self.url = " or ".join(self.hub_urls)
        self._http = hub_http(self.hub_urls, transport=transport, timeout=timeout, verify=verify)
        self._token = token

    @property
    def hub_in_use(self) -> str:
        """The URL requests go to now (the next one once it is down)."""
        return hub_in_use(self._http)

    def close(self) -> None:
        """Close the connections to every hub."""
        self._http.close()

    def __enter__(self) -> Self:
        """The reader itself; leaving the ``with`` block closes it."""
        return self

    def __exit__(self, *_: object) -> None:
        """Close the connections."""
        self.close()

    # -- the register (a person's reads) --------------------------------------------------
    def register(self, *, start: datetime | None = None, end: datetime | None = None) -> RegisterPublic:
        """The register's rows sent in [start, end) and the documents received from outside then."""
        params = {"end": end.isoformat()} if end is not None else {}
        if start is not None:
            params["start"] = start.isoformat()
        return self._typed(RegisterPublic, "GET", "/api/register", params=params)

    def bodies(self, *, period: str | None = None) -> list[BodyPublic]:
        """The bodies the hub serves; with *period* (a label), those the register served then."""
        return self._typed(_BODIES, "GET", "/api/bodies", params={"period": period} if period else None)

    def measures_period(self) -> str:
        """The label of the period the hub's pages show by default (``/api/measures``)."""
        return self._typed(_MeasuresPeriod, "GET", "/api/measures").period.label

    def crl_pem(self) -> bytes:
        """The CRLs the hub enforces, PEM (the issuing CA's, then the root's)."""
        return self._request("GET", "/api/pki/crl", auth=False).content

    # -- plumbing -------------------------------------------------------------------------
    def _auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def _reauthenticate(self) -> bool:
        """Forget the token and prove identity again before one more try; False: cannot."""
        return False

    def _typed(self, model: type[M] | TypeAdapter[M], method: str, path: str, **kwargs: Any) -> M:
        """The answer to *method* *path* as *model*; TransportError if it is not one."""
        response = self._request(method, path, **kwargs)
        adapter = model if isinstance(model, TypeAdapter) else _adapter(model)
        try:
            return adapter.validate_json(response.content)
        except ValidationError as exc:
            problem = exc.errors()[0]
            if problem["type"] == "json_invalid":
                raise TransportError(f"the hub at {self.url} answered {path} with something that is not JSON "
                                     "(is this an exchange hub?)") from None
            where = ".".join(str(p) for p in problem["loc"])
            raise TransportError(f"the hub at {self.url} sent an unreadable answer to {path}: "
                                 f"{where + ': ' if where else ''}{problem['msg']}") from None

    def _request(self, method: str, path: str, *, auth: bool = True, files: Callable[[], dict[str, Any]]
                 | None = None, sink: Path | None = None, multipart: bool = False, **kwargs: Any) -> httpx.Response:
        delay = self.retry.backoff
        reauthenticated = False
        attempt = 0
        started = time.monotonic()
        while True:
            attempt += 1
            headers = self._auth_header() if auth else {}
            parts: dict[str, Any] | None = None
            try:
                parts = files() if files is not None else None
                if multipart and not parts:
                    parts = {"_": ("", b"", "application/octet-stream")}
                request = self._http.build_request(method, path, headers=headers, files=parts, **kwargs)
                response = self._http.send(request, stream=sink is not None)
                try:
                    if response.status_code < 400 and sink is not None:
                        with sink.open("wb") as out:
                            for chunk in response.iter_bytes(1 << 20):
                                out.write(chunk)
                    else:
                        response.read()
                finally:
                    response.close()
            except httpx.TransportError as exc:
                refusal = tls_refusal(exc)
                if refusal is not None:
                    raise TransportError(f"{refusal} ({self.hub_in_use})", code="tls-untrusted") from None
                if self.retry.exhausted(attempt, time.monotonic() - started):
                    raise TransportError(f"cannot reach the hub at {self.url}: {exc or type(exc).__name__} (tried "
                                         f"{attempt} time(s) over {time.monotonic() - started:.0f} s)") from None
            else:
                if response.status_code < 400:
                    return response
                if response.status_code == 401 and auth and not reauthenticated and self._reauthenticate():
                    # Expired token (or a hub restarted with a new secret): prove identity again,
                    # once; that is not a retry of a failure, so it does not use up an attempt.
                    reauthenticated = True
                    attempt -= 1
                    continue
                if response.status_code < 500 or self.retry.exhausted(attempt, time.monotonic() - started):
                    raise hub_error(response.status_code, response.content, hub=self.hub_in_use, path=path)
            finally:
                _close_parts(parts)
            remaining = self.retry.window - (time.monotonic() - started)
            time.sleep(max(0.0, min(self.retry.pause(delay), remaining)))
            delay = min(delay * 2, self.retry.max_backoff)


class HubClient(HubReader):
    """Talks to the hub as one body (the owner of *credential*): signs in with its key, sends,
    fetches and acknowledges documents. Every answer is a typed model of :mod:`exchange.wire`;
    *base_url* as for :class:`HubReader` (one URL, or several hub processes)."""

    def __init__(
        self,
        base_url: str | Sequence[str],
        *,
        credential: Credential,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 60.0,
        clock: Callable[[], datetime] = utc_now,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        body = body_id_of(credential.certificate)
        if body is None:
            raise InputError("the credential's certificate names no body (no UID)")
        super().__init__(base_url, transport=transport, retry=retry, timeout=timeout, clock=clock, verify=verify)
        self.body_id = body
        self.credential = credential
        self._token_expires = datetime.min.replace(tzinfo=UTC)
        self._published: dict[str, tuple[datetime, BodyCertificates]] = {}

    # -- authentication -------------------------------------------------------------------
    def authenticate(self) -> str:
        """Sign the hub's challenge with the body's key; returns (and caches) a bearer token."""
        challenge = self._typed(Challenge, "POST", "/api/auth/challenge", json={"body": self.body_id},
                                auth=False).challenge
        signature = sign_detached(challenge.encode(), self.credential, at=self.clock())
        answer = self._typed(Token, "POST", "/api/auth/token", auth=False,
                             json={"challenge": challenge, "signature": base64.b64encode(signature).decode()})
        self._token = answer.token
        self._token_expires = answer.expires
        return answer.token

    def _auth_header(self) -> dict[str, str]:
        if self._token is None or self.clock() > self._token_expires - timedelta(seconds=30):
            self.authenticate()
        return {"Authorization": f"Bearer {self._token}"}

    def _reauthenticate(self) -> bool:
        self._token = None
        return True

    # -- documents ------------------------------------------------------------------------
    def send(self, content: Path | bytes, *, metadata: DocumentMetadata, sign: bool = True,
             filename: str | None = None, signature: bytes | None = None) -> DocumentPublic:
        """Send a document (signed with the body's key unless ``sign=False``); the hub's record."""
        if sign and signature is None:
            signature = sign_detached(content, self.credential, at=self.clock())
        name = filename or (content.name if isinstance(content, Path) else "document.bin")

        def files() -> dict[str, Any]:
            stream: BinaryIO | bytes = content.open("rb") if isinstance(content, Path) else content
            parts: dict[str, Any] = {"file": (name, stream, "application/octet-stream")}
            if signature is not None:
                parts["signature"] = ("signature.p7s", signature, "application/pkcs7-signature")
            return parts

        return self._typed(DocumentPublic, "POST", "/api/documents", files=files,
                           data={"metadata": _dumps(metadata.to_dict())})

    def send_paper(self, *, metadata: DocumentMetadata) -> DocumentPublic:
        """Register a document this body sent on paper (no file): it counts in the register."""
        return self._typed(DocumentPublic, "POST", "/api/documents/paper", json=metadata.to_dict())

    def register_incoming(self, *, from_agency: str, scan: Path | None = None, subject: str = "",
                          number: str = "", entered: bool = True) -> IncomingPublic:
        """Record a document that arrived from an outside agency, with its scan if there is one (K3)."""
        meta = {"from_agency": from_agency, "subject": subject, "number": number, "entered": entered}

        def files() -> dict[str, Any]:
            return {"scan": (scan.name, scan.open("rb"), "application/octet-stream")} if scan else {}

        return self._typed(IncomingPublic, "POST", "/api/incoming", files=files, data={"metadata": _dumps(meta)},
                           multipart=True)

    def inbox(self, *, include_all: bool = False) -> list[DocumentPublic]:
        """Documents delivered to this body: new (not yet acknowledged), or all."""
        return self._typed(_DOCUMENTS, "GET", "/api/inbox", params={"all": str(include_all).lower()})

    def document(self, document_id: str) -> DocumentPublic:
        """A document this body sent or received, with the hub's validation report."""
        return self._typed(DocumentPublic, "GET", f"/api/documents/{_id(document_id)}")

    def download(self, document_id: str, target: Path) -> Path:
        """Stream the document's bytes into *target* (written whole or not at all)."""
        tmp = target.with_name(f".{target.name}.part")
        try:
            self._request("GET", f"/api/documents/{_id(document_id)}/file", sink=tmp)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def signature(self, document_id: str) -> bytes:
        """The document's detached CMS signature (DER); NotFoundError if it is unsigned."""
        return self._request("GET", f"/api/documents/{_id(document_id)}/signature").content

    def acknowledge(self, document_id: str, *, sha256: str, status: ReceiptStatus, reason: str = "",
                    verification: str = "") -> ReceiptPublic:
        """Sign and send a receipt statement for the bytes whose SHA-256 is *sha256*."""
        at = self.clock()
        statement = ReceiptStatement(document_id=document_id, sha256=sha256, status=status,
                                     time=at.replace(microsecond=0), receiver=self.body_id, reason=reason,
                                     verification=verification).to_bytes()
        signature = sign_detached(statement, self.credential, at=at)
        return self._typed(ReceiptPublic, "POST", f"/api/documents/{_id(document_id)}/receipts", files=lambda: {
            "statement": ("receipt.json", statement, "application/json"),
            "signature": ("receipt.json.p7s", signature, "application/pkcs7-signature"),
        })

    def business(self, statement: BusinessStatement) -> BusinessEventPublic:
        """Sign and send a recall, update or replacement of a document this body sent."""
        data = statement.to_bytes()
        signature = sign_detached(data, self.credential, at=self.clock())
        return self._typed(BusinessEventPublic, "POST", f"/api/documents/{_id(statement.document_id)}/business",
                           files=lambda: {
                               "statement": ("statement.json", data, "application/json"),
                               "signature": ("statement.json.p7s", signature, "application/pkcs7-signature"),
                           })

    def business_events(self, document_id: str) -> list[BusinessEventPublic]:
        """Every signed recall, update and replacement naming the document."""
        return self._typed(_BUSINESS_EVENTS, "GET", f"/api/documents/{_id(document_id)}/business-events")

    def register_edxml(self, package: bytes, *, filename: str = "package.edxml") -> EdxmlImportPublic:
        """Register an edXML package from an outside agency (a document or a status)."""
        return self._typed(EdxmlImportPublic, "POST", "/api/incoming/edxml",
                           files=lambda: {"package": (filename, package, "application/xml")})

    def status(self, document_id: str) -> list[ReceiptPublic]:
        """The document's signed status trail: all recipients' for its sender, one's own otherwise."""
        return self._typed(_RECEIPTS, "GET", f"/api/documents/{_id(document_id)}/status")

    def certificates(self, body_id: str) -> BodyCertificates:
        """A body's current certificates as the hub publishes them (check before trusting).

        Kept for ``CERTIFICATES_TTL``, as a directory lookup is: whoever uses one checks it
        again each time against its own root and current CRL, so a revocation still counts at
        once; only a renewal reaches this client up to that much later.
        """
        now = self.clock()
        cached = self._published.get(body_id)
        if cached is not None and now - cached[0] < CERTIFICATES_TTL:
            return cached[1]
        published = self._typed(BodyCertificates, "GET", f"/api/bodies/{_id(body_id)}/certificates")
        self._published[body_id] = (now, published)
        return published


class _Period(BaseModel):
    label: str


class _MeasuresPeriod(BaseModel):
    """The part of ``/api/measures`` a reader needs: which period it covers."""

    period: _Period


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(model: type[M]) -> TypeAdapter[M]:
    """One validator per model class, made on first use."""
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(model)
    return _ADAPTERS[model]


_DOCUMENTS = TypeAdapter(list[DocumentPublic])
_RECEIPTS = TypeAdapter(list[ReceiptPublic])
_BUSINESS_EVENTS = TypeAdapter(list[BusinessEventPublic])
_BODIES = TypeAdapter(list[BodyPublic])


def _close_parts(parts: dict[str, Any] | None) -> None:
    """Close the files a multipart body opened (each attempt opens its own)."""
    for part in (parts or {}).values():
        stream = part[1] if isinstance(part, tuple) and len(part) > 1 else None
        if stream is not None and hasattr(stream, "close"):
            stream.close()


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


def _id(document_id: str) -> str:
    """A document id safe to put in a URL path (ids are UUIDs; anything else is refused)."""
    if not document_id or any(c in document_id for c in "/?#%\\") or document_id in (".", ".."):
        raise InputError(f"{document_id!r} is not a document id")
    return document_id
