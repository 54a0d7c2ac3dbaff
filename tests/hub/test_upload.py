"""Reading uploads: every malformed multipart, missing part and bad metadata gets a 4xx JSON
body with a stable code, and the size limit holds whether or not the length is declared."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, func, select

from exchange.errors import TooLargeError
from exchange.hub import HubSettings
from exchange.hub.store.models import Document
from exchange.hub.upload import BodyLimit

from hub.inprocess import InProcessHub, document_bytes, metadata, running
from hub.test_auth import assert_error


def meta_json(*recipients: str, **fields: Any) -> str:
    return json.dumps(metadata(*(recipients or ("nghe-an",)), **fields).to_dict())


@pytest.fixture
def token(hub: InProcessHub) -> str:
    return hub.client("ha-noi").authenticate()


def post(hub: InProcessHub, token: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    return hub.http(token).post("/api/documents", **kwargs)


def document_rows(hub: InProcessHub) -> int:
    with Session(hub.service.engine) as session:
        return session.exec(select(func.count()).select_from(Document)).one()


@pytest.mark.parametrize(
    ("request_kwargs", "code"),
    [
        ({"json": {"file": "x"}}, "malformed-multipart"),
        ({"content": b"--x\r\nnot really", "headers": {"content-type": "multipart/form-data"}},
         "malformed-multipart"),
        ({"content": b"garbage without boundaries",
          "headers": {"content-type": "multipart/form-data; boundary=zzz"}}, "malformed-multipart"),
        ({"files": {"metadata": (None, meta_json())}}, "missing-part"),
        ({"files": {"file": ("a.pdf", b"%PDF")}}, "missing-part"),
        ({"data": {"metadata": "{not json", "file": "x"}, "files": {"file": ("a.pdf", b"%PDF")}},
         "invalid-metadata"),
        ({"data": {"metadata": "{not json"}, "files": {"file": ("a.pdf", b"%PDF")}}, "invalid-metadata"),
        ({"data": {"metadata": json.dumps({"subject": "no recipients", "message_id": "m"})},
          "files": {"file": ("a.pdf", b"%PDF")}}, "invalid-metadata"),
        ({"data": {"metadata": json.dumps({"recipients": ["nghe-an"], "message_id": "m",
                                           "classification": "top-secret"})},
          "files": {"file": ("a.pdf", b"%PDF")}}, "invalid-metadata"),
        ({"files": {"file": ("a.pdf", b"%PDF"), "metadata": ("m.json", b"{}")}}, "invalid-metadata"),
        ({"data": {"metadata": meta_json(), "file": "not a file part"}}, "malformed-multipart"),
        ({"data": {"metadata": meta_json("nghe-an", "nowhere")}, "files": {"file": ("a.pdf", b"%PDF")}},
         "unknown-recipient"),
        ({"data": {"metadata": meta_json()}, "files": {"file": ("empty.pdf", b"")}}, "empty-file"),
    ],
    ids=["not-multipart", "no-boundary", "no-parts-found", "no-file", "no-metadata", "metadata-not-json",
         "metadata-not-json-2", "no-recipients", "bad-classification", "metadata-as-file", "file-as-field",
         "unknown-recipient", "empty-file"],
)
def test_bad_uploads_get_400_with_a_code_and_store_nothing(hub, token, request_kwargs, code):
    body = assert_error(post(hub, token, **request_kwargs), 400, code)
    assert len(body["message"]) > 10  # says what is wrong, in words
    assert document_rows(hub) == 0


def test_a_signature_that_is_not_cms_is_refused_with_the_report(hub, token):
    response = post(hub, token, data={"metadata": meta_json()},
                    files={"file": ("a.pdf", b"%PDF"), "signature": ("a.p7s", b"not CMS at all")})
    body = assert_error(response, 422, "invalid-signature")
    assert body["detail"]["report"]["sub_indication"] == "FORMAT_FAILURE"


@pytest.fixture
def small_hub(pki, tmp_path) -> Iterator[InProcessHub]:  # type: ignore[no-untyped-def]
    settings = HubSettings(keys_dir=pki.dir, data_dir=tmp_path / "small", bodies_file=pki.bodies_file,
                           max_upload=1024)
    yield from running(settings, pki.store)


def test_a_file_over_the_limit_is_413_and_nothing_is_stored(small_hub):
    token = small_hub.client("ha-noi").authenticate()
    at_limit = post(small_hub, token, data={"metadata": meta_json()},
                    files={"file": ("ok.pdf", document_bytes(size=1024))})
    assert at_limit.status_code == 201, at_limit.text
    over = post(small_hub, token, data={"metadata": meta_json()},
                files={"file": ("big.pdf", document_bytes(size=1025))})
    assert "1024" in assert_error(over, 413, "too-large")["message"]
    # A body declared larger than the limit (plus room for the other parts) is not even read.
    huge = post(small_hub, token, data={"metadata": meta_json()},
                files={"file": ("huge.pdf", document_bytes(size=3 * 1024 * 1024))})
    assert_error(huge, 413, "too-large")
    assert document_rows(small_hub) == 1
    assert list((small_hub.service.blobs.root / "tmp").iterdir()) == []


def test_the_limit_holds_for_a_body_of_undeclared_length():
    """Chunked uploads declare no length: BodyLimit counts the bytes as they stream in."""
    seen: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            seen.append(message.get("body", b""))
            if not message.get("more_body"):
                return

    chunks = [{"type": "http.request", "body": b"x" * 1024, "more_body": True} for _ in range(4000)]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0)

    async def send(message: Any) -> None:
        raise AssertionError("nothing is sent: the hub's error handler answers")

    scope = {"type": "http", "method": "POST", "headers": [(b"transfer-encoding", b"chunked")]}
    with pytest.raises(TooLargeError):
        asyncio.run(BodyLimit(app, max_upload=1024)(scope, receive, send))
    assert sum(map(len, seen)) <= 1024 + 2 * 1024 * 1024  # stopped at the limit, not at the end
