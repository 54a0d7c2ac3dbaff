"""Several hub processes behind several URLs: a request goes to the hub in use and, when that
one is down, to the next.

Hubs that share one database and one data folder (``exchange hub serve --db postgresql+psycopg://…
--data SHARED`` on several ports or machines) are one hub to a node: a token from one is good at
the others, and a document sent to one is fetched from another. :class:`FailoverTransport` sends
each request to the current hub; a connection refused or reset, a timeout, or a 502/503/504
answer moves it to the next hub at once, and it stays there (sessions are not bounced back and
forth). A pass that finds every hub down gives the last failure to the caller, whose retry
policy waits and tries again. A resent document keeps its message id, so the hub stores it once
whichever process receives it.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Sequence
from typing import Any

import httpx

from exchange.errors import InputError

#: answers that say "this hub process cannot serve now" (a proxy's, or an overloaded hub's)
FAILOVER_STATUSES = frozenset({502, 503, 504})


def hub_urls(urls: str | Sequence[str]) -> tuple[str, ...]:
    """The hub URLs in *urls*: a list, or one string of URLs separated by commas (as ``--hub`` and
    ``EXCHANGE_HUB`` take them). Raises InputError for none, or one that is not http(s)://."""
    items = urls.split(",") if isinstance(urls, str) else list(urls)
    found = tuple(url.strip().rstrip("/") for url in items if url.strip())
    if not found:
        raise InputError("no hub URL given (--hub URL[,URL…] or EXCHANGE_HUB)")
    for url in found:
        parsed = httpx.URL(url) if "://" in url else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise InputError(f"{url!r} is not a hub URL: give http://HOST:PORT or https://HOST:PORT")
    return found


def is_tls(urls: str | Sequence[str]) -> bool:
    """Whether any of *urls* is an https hub (then the client needs a TLS context)."""
    return any(url.lower().startswith("https:") for url in hub_urls(urls))


def hub_http(urls: str | Sequence[str], *, transport: httpx.BaseTransport | None = None,
             verify: ssl.SSLContext | bool = True, **options: Any) -> httpx.Client:
    """An ``httpx.Client`` for the hub at *urls*: plain for one URL, over a
    :class:`FailoverTransport` for several (its ``base_url`` is the first). *options* go to
    ``httpx.Client`` (timeout, headers)."""
    found = hub_urls(urls)
    if len(found) > 1:
        transport = FailoverTransport(found, verify=verify, transport=transport)
    return httpx.Client(base_url=found[0], transport=transport, verify=verify, **options)


def hub_in_use(client: httpx.Client) -> str:
    """The URL *client* (made by :func:`hub_http`) sends to now."""
    transport = client._transport
    return transport.current if isinstance(transport, FailoverTransport) else str(client.base_url).rstrip("/")


def tls_refusal(exc: httpx.TransportError) -> str | None:
    """The reason when *exc* is a TLS certificate verification failure (never worth a retry, nor
    a move to another hub: a hub that does not prove itself is refused)."""
    text = str(exc)
    cause = exc.__context__ or exc.__cause__
    if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
        detail = getattr(cause, "verify_message", None) or text
        return f"the hub's TLS certificate is not trusted: {detail}"
    return None


class FailoverTransport(httpx.BaseTransport):
    """Sends each request to the hub in use among *urls*, moving to the next one when it is down.

    A client built on it names the first URL as its ``base_url``; requests are rewritten to the
    hub in use (scheme, host, port and path prefix). *transport* (tests) replaces the HTTP
    transport to every hub; otherwise each hub gets its own connection pool with *verify*.
    """

    def __init__(self, urls: Sequence[str], *, verify: ssl.SSLContext | bool = True,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.urls = hub_urls(urls)
        self._targets = [httpx.URL(url) for url in self.urls]
        self._transports = [transport or httpx.HTTPTransport(verify=verify) for _ in self.urls]
        self._current = 0
        self._lock = threading.Lock()

    @property
    def current(self) -> str:
        """The URL of the hub requests go to now."""
        return self.urls[self._current]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send *request* to the current hub, then to each other once while they are down; the
        last failure (an exception, or a 502/503/504 answer) if all are."""
        start, original = self._current, request.url
        for step in range(len(self.urls)):
            index = (start + step) % len(self.urls)
            last = step == len(self.urls) - 1
            try:
                response = self._transports[index].handle_request(self._aimed(request, original, index))
            except httpx.TransportError as exc:
                if last or tls_refusal(exc) is not None:
                    raise
                self._move_from(index)
                continue
            if response.status_code in FAILOVER_STATUSES and not last:
                response.close()
                self._move_from(index)
                continue
            return response
        raise AssertionError("unreachable: the last hub's answer is returned or raised")

    def _move_from(self, index: int) -> None:
        with self._lock:  # threads that saw the same hub fail move on once, not twice
            if self._current == index:
                self._current = (index + 1) % len(self.urls)

    def _aimed(self, request: httpx.Request, original: httpx.URL, index: int) -> httpx.Request:
        """*request* (built against the first URL as *original*) aimed at hub *index*."""
        first, target = self._targets[0], self._targets[index]
        path = original.raw_path
        prefix = first.raw_path.rstrip(b"/")
        if prefix and path.startswith(prefix):
            path = path[len(prefix):]
        url = original.copy_with(scheme=target.scheme, host=target.host, port=target.port,
                                raw_path=target.raw_path.rstrip(b"/") + path)
        request.url = url
        request.headers["Host"] = url.netloc.decode("ascii")
        return request

    def close(self) -> None:
        """Close every hub's connection pool."""
        for transport in {id(t): t for t in self._transports}.values():
            transport.close()

