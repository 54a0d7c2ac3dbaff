"""Asking an RFC 3161 time-stamping authority for a token over HTTP (RFC 3161 §3.4).

The request and the answer's checks are :mod:`exchange.cms.tsa`'s; this module only carries
them (``application/timestamp-query`` → ``application/timestamp-reply``), so that the
signature layer stays free of HTTP.
"""

from __future__ import annotations

import hashlib
import secrets

import httpx

from exchange.cms.tsa import (
    QUERY_MEDIA_TYPE,
    REPLY_MEDIA_TYPE,
    TimestampError,
    build_request,
    read_response,
)


def request_token(url: str, data: bytes, *, timeout: float = 30.0,
                  transport: httpx.BaseTransport | None = None) -> bytes:
    """Ask the RFC 3161 TSA at *url* for a token over SHA-256(*data*); returns the token (DER).

    The request carries a random nonce and ``certReq``; the answer must carry both back.
    Raises TimestampError when the TSA cannot be reached, refuses or answers badly.
    """
    hashed = hashlib.sha256(data).digest()
    nonce = secrets.randbits(63)
    try:
        with httpx.Client(timeout=timeout, transport=transport) as http:
            answer = http.post(url, content=build_request(hashed, nonce=nonce),
                               headers={"Content-Type": QUERY_MEDIA_TYPE, "Accept": REPLY_MEDIA_TYPE})
    except httpx.HTTPError as exc:
        raise TimestampError(f"cannot reach the TSA at {url}: {exc}") from None
    if answer.status_code != 200:
        raise TimestampError(f"the TSA at {url} answered HTTP {answer.status_code}")
    return read_response(answer.content, hashed_message=hashed, nonce=nonce)
