"""The one mapping of the hub's error answers to project errors: class by status, the hub's
code and detail kept, and something readable when the body is not the hub's JSON."""

from __future__ import annotations

import json

import pytest

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
from exchange.hub.errors import error_body, status_for
from exchange.wire import hub_error


@pytest.mark.parametrize("error", [
    InputError("metadata.subject is too long", code="invalid-metadata"),
    NotAuthenticatedError("token expired", code="token-expired"),
    NotAuthorizedError("not yours", code="not-authorized"),
    NotFoundError("no document x"),
    ConflictError("message id reused", code="message-id-reused"),
    TooLargeError("over 50 MiB"),
    RejectedError("signature refused: HASH_FAILURE", code="invalid-signature", detail={"report": {"x": 1}}),
])
def test_an_error_crosses_the_wire_and_comes_back_the_same(error: ExchangeError) -> None:
    status = status_for(error)
    body = json.dumps(error_body(error.code, error.message, error.detail))
    back = hub_error(status, body, hub="http://hub.test", path="/api/documents")
    assert type(back) is type(error)
    assert (back.code, back.detail) == (error.code, error.detail)
    assert back.message == (f"the hub at http://hub.test refused /api/documents ({status}): {error.message} "
                            f"[{error.code}]")


def test_a_body_that_is_not_the_hubs_json_is_still_said() -> None:
    back = hub_error(404, b"<html>no such page</html>", hub="http://h", path="/x")
    assert isinstance(back, NotFoundError) and "no such page" in back.message and "(404)" in back.message


def test_an_unexpected_status_is_a_transport_error_with_the_hubs_code() -> None:
    back = hub_error(418, '{"code": "teapot", "message": "short and stout"}', hub="http://h", path="/x")
    assert isinstance(back, TransportError) and back.code == "teapot"


def test_an_empty_body_names_the_status() -> None:
    assert "HTTP 502" in hub_error(502, b"", hub="http://h", path="/x").message
