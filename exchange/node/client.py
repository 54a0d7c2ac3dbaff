"""The node's HTTP client for the hub (httpx): authentication, retries, typed errors.

A client takes an ``httpx`` transport, so unit tests use ``httpx.MockTransport``, in-process
tests ``httpx.ASGITransport`` and end-to-end tests a real server. Connection errors and 5xx
answers are retried with jittered exponential backoff over a window that covers a hub restart
(:class:`RetryPolicy`); a retried send reuses its message id, so the hub stores it once. Given
several hub URLs (processes sharing one database), a client moves to the next one when the hub
in use is down (:mod:`exchange.node.failover`). Every failure becomes a project error (a 4xx
keeps the hub's code).
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
from typing import Any, BinaryIO

import httpx

from exchange.cms import sign_detached
from exchange.domain.business import BusinessStatement
from exchange.domain.documents import DocumentMetadata, ReceiptStatus
from exchange.domain.receipts import ReceiptStatement
from exchange.errors import (
    ConflictError,
    ExchangeError,
    InputError,
    InputFileError,
    NotAuthenticatedError,
    NotAuthorizedError,
    NotFoundError,
    PKIError,
    RejectedError,
    TooLargeError,
    TransportError,
)
from exchange.node.failover import hub_http, hub_in_use, hub_urls, is_tls, tls_refusal
from exchange.pki import KeyStore
from exchange.pki.certificates import Credential, body_id_of
from exchange.pki.tls import client_certificate

#: how long a client keeps a body's published certificates (see HubClient.certificates)
CERTIFICATES_TTL = timedelta(minutes=5)

_ERRORS: dict[int, type[ExchangeError]] = {
    400: InputError, 401: NotAuthenticatedError, 403: NotAuthorizedError, 404: NotFoundError,
    409: ConflictError, 413: TooLargeError, 422: RejectedError,
}


def utc_now() -> datetime:
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


class HubClient:
    """Talks to the hub as one body (the owner of *credential*).

    *base_url*: the hub's URL, or several (a list, or one string separated by commas) for hub
    processes that share one database: requests go to the first until it is down, then to the
    next (:class:`~exchange.node.failover.FailoverTransport`). One retry attempt is one pass
    over them.
    """

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
        self.body_id = body
        self.credential = credential
        self.retry = retry
        self.clock = clock
        #: every hub this client may talk to, in the order it tries them
        self.hub_urls = hub_urls(base_url)
        self._http = hub_http(self.hub_urls, transport=transport, timeout=timeout, verify=verify)
        self._token: str | None = None
        self._token_expires = datetime.min.replace(tzinfo=UTC)
        self._published: dict[str, tuple[datetime, dict[str, Any]]] = {}

    @property
    def hub_in_use(self) -> str:
        """The URL requests go to now (the next one once it is down)."""
        return hub_in_use(self._http)

    def close(self) -> None:
        """Close the connections to every hub."""
        self._http.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- authentication -------------------------------------------------------------------
    def authenticate(self) -> str:
        """Sign the hub's challenge with the body's key; returns (and caches) a bearer token."""
        challenge = self._json("POST", "/api/auth/challenge", json={"body": self.body_id}, auth=False)["challenge"]
        signature = sign_detached(challenge.encode(), self.credential, at=self.clock())
        answer = self._json("POST", "/api/auth/token", auth=False,
                            json={"challenge": challenge, "signature": base64.b64encode(signature).decode()})
        self._token = answer["token"]
        self._token_expires = datetime.fromisoformat(answer["expires"])
        return self._token

    def _auth_header(self) -> dict[str, str]:
        if self._token is None or self.clock() > self._token_expires - timedelta(seconds=30):
            self.authenticate()
        return {"Authorization": f"Bearer {self._token}"}

    # -- documents ------------------------------------------------------------------------
    def send(self, content: Path | bytes, *, metadata: DocumentMetadata, sign: bool = True,
             filename: str | None = None, signature: bytes | None = None) -> dict[str, Any]:
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

        return self._json("POST", "/api/documents", files=files,
                          data={"metadata": _dumps(metadata.to_dict())})

    def send_paper(self, *, metadata: DocumentMetadata) -> dict[str, Any]:
        return self._json("POST", "/api/documents/paper", json=metadata.to_dict())

    def register_incoming(self, *, from_agency: str, scan: Path | None = None, subject: str = "",
                          number: str = "", entered: bool = True) -> dict[str, Any]:
        meta = {"from_agency": from_agency, "subject": subject, "number": number, "entered": entered}

        def files() -> dict[str, Any]:
            return {"scan": (scan.name, scan.open("rb"), "application/octet-stream")} if scan else {}

        return self._json("POST", "/api/incoming", files=files, data={"metadata": _dumps(meta)},
                          multipart=True)

    def inbox(self, *, include_all: bool = False) -> list[dict[str, Any]]:
        return self._json("GET", "/api/inbox", params={"all": str(include_all).lower()})  # type: ignore[return-value]

    def document(self, document_id: str) -> dict[str, Any]:
        return self._json("GET", f"/api/documents/{_id(document_id)}")

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
        return self._request("GET", f"/api/documents/{_id(document_id)}/signature").content

    def acknowledge(self, document_id: str, *, sha256: str, status: ReceiptStatus, reason: str = "",
                    verification: str = "") -> dict[str, Any]:
        """Sign and send a receipt statement for the bytes whose SHA-256 is *sha256*."""
        at = self.clock()
        statement = ReceiptStatement(document_id=document_id, sha256=sha256, status=status,
                                     time=at.replace(microsecond=0), receiver=self.body_id, reason=reason,
                                     verification=verification).to_bytes()
        signature = sign_detached(statement, self.credential, at=at)
        return self._json("POST", f"/api/documents/{_id(document_id)}/receipts", files=lambda: {
            "statement": ("receipt.json", statement, "application/json"),
            "signature": ("receipt.json.p7s", signature, "application/pkcs7-signature"),
        })

    def business(self, statement: BusinessStatement) -> dict[str, Any]:
        """Sign and send a recall, update or replacement of a document this body sent."""
        data = statement.to_bytes()
        signature = sign_detached(data, self.credential, at=self.clock())
        return self._json("POST", f"/api/documents/{_id(statement.document_id)}/business", files=lambda: {
            "statement": ("statement.json", data, "application/json"),
            "signature": ("statement.json.p7s", signature, "application/pkcs7-signature"),
        })

    def business_events(self, document_id: str) -> list[dict[str, Any]]:
        return self._json("GET", f"/api/documents/{_id(document_id)}/business-events")  # type: ignore[return-value]

    def register_edxml(self, package: bytes, *, filename: str = "package.edxml") -> dict[str, Any]:
        """Register an edXML package from an outside agency (a document or a status)."""
        return self._json("POST", "/api/incoming/edxml",
                          files=lambda: {"package": (filename, package, "application/xml")})

    def status(self, document_id: str) -> list[dict[str, Any]]:
        return self._json("GET", f"/api/documents/{_id(document_id)}/status")  # type: ignore[return-value]

    def certificates(self, body_id: str) -> dict[str, Any]:
        """A body's current certificates as the hub publishes them (check before trusting).

        Kept for ``CERTIFICATES_TTL``, as a directory lookup is: whoever uses one checks it
        again each time against its own root and current CRL, so a revocation still counts at
        once; only a renewal reaches this client up to that much later.
        """
        now = self.clock()
        cached = self._published.get(body_id)
        if cached is not None and now - cached[0] < CERTIFICATES_TTL:
            return cached[1]
        published = self._json("GET", f"/api/bodies/{_id(body_id)}/certificates")
        self._published[body_id] = (now, published)
        return published

    def crl_pem(self) -> bytes:
        return self._request("GET", "/api/pki/crl", auth=False).content

    def get(self, path: str, **params: Any) -> Any:
        return self._json("GET", path, params=params or None)

    # -- plumbing -------------------------------------------------------------------------
    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._request(method, path, **kwargs).json()

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
                    where = "the hub at " + " or ".join(self.hub_urls)
                    raise TransportError(f"cannot reach {where} (tried {attempt} time(s) over "
                                         f"{time.monotonic() - started:.0f} s): {exc}") from None
            else:
                if response.status_code < 400:
                    return response
                if response.status_code == 401 and auth and not reauthenticated:
                    # Expired token (or a hub restarted with a new secret): prove identity again,
                    # once; that is not a retry of a failure, so it does not use up an attempt.
                    self._token, reauthenticated = None, True
                    attempt -= 1
                    continue
                if response.status_code < 500 or self.retry.exhausted(attempt, time.monotonic() - started):
                    raise _error(response)
            finally:
                _close_parts(parts)
            remaining = self.retry.window - (time.monotonic() - started)
            time.sleep(max(0.0, min(self.retry.pause(delay), remaining)))
            delay = min(delay * 2, self.retry.max_backoff)


def _close_parts(parts: dict[str, Any] | None) -> None:
    """Close the files a multipart body opened (each attempt opens its own)."""
    for part in (parts or {}).values():
        stream = part[1] if isinstance(part, tuple) and len(part) > 1 else None
        if stream is not None and hasattr(stream, "close"):
            stream.close()


def _error(response: httpx.Response) -> ExchangeError:
    try:
        body = response.json()
        code, message, detail = body.get("code"), body.get("message"), body.get("detail")
    except ValueError:
        code, message, detail = None, response.text[:200], None
    kind = _ERRORS.get(response.status_code, TransportError)
    text = message or f"HTTP {response.status_code}"
    return kind(f"hub refused ({response.status_code} {code or ''}): {text}".replace(" )", ")"), code=code,
                detail=detail)


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


def _id(document_id: str) -> str:
    """A document id safe to put in a URL path (ids are UUIDs; anything else is refused)."""
    if not document_id or any(c in document_id for c in "/?#%\\") or document_id in (".", ".."):
        raise InputError(f"{document_id!r} is not a document id")
    return document_id
