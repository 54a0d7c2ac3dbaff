"""A running hub's public log and evidence endpoints, as ``exchange audit`` reads them.

No credential is needed (the log is public, like a CT log); *transport* as for any httpx client.
Every failure to reach the hub or to read its answer becomes one TransportError; a refusal the
project error :func:`exchange.wire.hub_error` makes of it, as for every other client of the hub.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from exchange.audit.replay import Snapshot
from exchange.errors import TransportError
from exchange.node.failover import hub_http, hub_urls
from exchange.tlog import SignedCheckpoint
from exchange.wire import hub_error

PAGE = 1000


class HubLog:
    """A client of one hub's log and evidence endpoints at *url*: the log (checkpoint, entries,
    proofs) is public, evidence needs a person's *token*; *verify* checks the hub's TLS."""

    def __init__(self, url: str, *, transport: httpx.BaseTransport | None = None, timeout: float = 120.0,
                 token: str | None = None, verify: ssl.SSLContext | bool = True) -> None:
        self.url = ", ".join(hub_urls(url))  # several: the next is used when one is down
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = hub_http(self.url, transport=transport, timeout=timeout, verify=verify, headers=headers)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> HubLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _get(self, path: str, **params: Any) -> httpx.Response:
        try:
            response = self._http.get(path, params=params)
        except httpx.TransportError as exc:
            raise TransportError(f"cannot reach the hub at {self.url}: {exc or type(exc).__name__}") from None
        if response.status_code >= 400:
            raise hub_error(response.status_code, response.content, hub=self.url, path=path)
        return response

    def _json(self, path: str, **params: Any) -> Any:
        try:
            return self._get(path, **params).json()
        except ValueError:
            raise TransportError(f"the hub at {self.url} answered {path} with something that is not JSON "
                                 "(is this an exchange hub?)") from None

    def checkpoint(self) -> SignedCheckpoint:
        """The hub's latest signed checkpoint, parsed; TransportError when its answer does not parse
        (its signature is checked by the caller)."""
        data = self._json("/api/log/checkpoint")
        try:
            return SignedCheckpoint.from_note(str(data["note"]).encode(), base64.b64decode(data["cms"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise TransportError(f"the hub at {self.url} sent an unreadable checkpoint: {exc}") from None

    def entries(self, size: int) -> Iterator[tuple[int, bytes]]:
        """The first *size* entries, page by page."""
        start = 0
        while start < size:
            page = self._json("/api/log/entries", start=start, end=min(size, start + PAGE))["entries"]
            if not page:
                return
            for entry in page:
                yield int(entry["index"]), base64.b64decode(entry["leaf"])
            start = int(page[-1]["index"]) + 1

    def consistency(self, first: int, second: int) -> list[bytes]:
        """The consistency proof from the tree of *first* entries to the tree of *second* (RFC 6962
        §2.1.2)."""
        data = self._json("/api/log/proof/consistency", first=first, second=second)
        return [base64.b64decode(p) for p in data["proof"]]

    def snapshot(self) -> Snapshot:
        """The register as ``/api/register`` shows it (no digests: those are not compared)."""
        data = self._json("/api/register")
        state = Snapshot()
        for row in data["entries"]:
            doc = state.documents.setdefault(row["document_id"], {"sender": row["sender"], "channel": row["channel"],
                                                                  "deliveries": {}})
            doc["deliveries"][row["recipient"]] = {"delivered": bool(row["delivered"]),
                                                   "status": row.get("receipt_status")}
        for row in data["incoming"]:
            state.incoming[row["entry_id"]] = {"body": row["body"], "from_agency": row["from_agency"],
                                               "scanned": row["scanned"], "entered": row["entered"]}
        return state

    def download(self, path: str, target: Path, **params: Any) -> None:
        """Save the file the hub answers at *path* to *target* (streamed, written whole or not at all)."""
        partial = target.with_name(target.name + ".part")
        try:
            with self._http.stream("GET", path, params=params) as response:
                if response.status_code >= 400:
                    raise hub_error(response.status_code, response.read(), hub=self.url, path=path)
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes(1 << 16):
                        out.write(chunk)
        except httpx.TransportError as exc:
            partial.unlink(missing_ok=True)
            raise TransportError(f"cannot reach the hub at {self.url}: {exc or type(exc).__name__}") from None
        partial.replace(target)
