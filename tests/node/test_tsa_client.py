"""Asking a TSA for a token over HTTP: the nonce goes out and must come back, and every way the
answer can fail is a TimestampError saying which."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
import pytest

from exchange.cms import (
    TimeStampAuthority,
    TimestampError,
    TimestampToken,
    add_timestamp,
    sign_detached,
)
from exchange.cms.tokens import signature_value
from exchange.cms.tsa import build_request, read_response
from exchange.node.tsa_client import request_token

if TYPE_CHECKING:
    from conftest import TestPKI

DOCUMENT = "Công văn số 7 — Văn phòng Trung ương Đảng\r\n".encode()


def _transport(tsa: TimeStampAuthority, *, tamper=None) -> httpx.MockTransport:  # type: ignore[no-untyped-def]
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == "application/timestamp-query"
        reply = tsa.respond(request.content, at=datetime.now(UTC))
        return httpx.Response(200, content=tamper(reply) if tamper else reply,
                              headers={"content-type": "application/timestamp-reply"})

    return httpx.MockTransport(handle)


def test_request_token_asks_with_a_nonce_and_checks_the_answer(pki: TestPKI, tsa) -> None:
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    token = request_token("http://tsa.test/api/tsa", signature_value(signature), transport=_transport(tsa))
    parsed = TimestampToken.from_der(token)
    assert parsed.hashed_message == hashlib.sha256(signature_value(signature)).digest()
    assert parsed.nonce is not None and parsed.certificates
    report = pki.verifier().verify(DOCUMENT, add_timestamp(signature, token), at=datetime.now(UTC))
    assert report.timestamp is not None and report.timestamp.passed


def test_request_token_refuses_an_answer_to_another_request(tsa) -> None:
    other = tsa.respond(build_request(hashlib.sha256(b"other").digest(), nonce=1), at=datetime.now(UTC))
    with pytest.raises(TimestampError, match="other data"):
        request_token("http://tsa.test/", b"mine", transport=_transport(tsa, tamper=lambda _: other))
    with pytest.raises(TimestampError, match="nonce"):
        read_response(other, hashed_message=hashlib.sha256(b"other").digest(), nonce=2)


def test_request_token_reports_a_rejection_and_bad_http(tsa) -> None:
    refusal = tsa.respond(b"junk", at=datetime.now(UTC))
    with pytest.raises(TimestampError, match="refused: rejection .bad_data_format."):
        request_token("http://tsa.test/", b"x", transport=_transport(tsa, tamper=lambda _: refusal))
    with pytest.raises(TimestampError, match="HTTP 404"):
        request_token("http://tsa.test/", b"x", transport=httpx.MockTransport(lambda _: httpx.Response(404)))
    with pytest.raises(TimestampError, match="not a TimeStampResp"):
        request_token("http://tsa.test/", b"x", transport=_transport(tsa, tamper=lambda _: b"<html>"))
