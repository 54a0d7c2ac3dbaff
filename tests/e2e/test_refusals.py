"""Every refusal on a real hub: a 4xx JSON body with a stable code and a message, and nothing
half-stored. Tampered uploads, sending or reading as another body, bad input, bad tokens."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from exchange.cms import sign_detached
from exchange.domain.documents import DocumentMetadata
from exchange.errors import RejectedError

from e2e.harness import RunningHub, assert_error


def meta(*recipients: str, **fields: Any) -> dict[str, Any]:
    return {"recipients": list(recipients), "subject": "Công văn", "message_id": str(uuid.uuid4()), **fields}


def upload(hub: RunningHub, token: str, **kwargs: Any) -> httpx.Response:
    with hub.http(token) as http:
        return http.post("/api/documents", **kwargs)


@pytest.fixture(scope="module")
def ha_noi(hub: RunningHub) -> str:
    """A token of ha-noi's, for the raw requests a HubClient would never make."""
    return hub.token("ha-noi")


def test_a_signature_over_another_file_is_refused_recorded_and_not_delivered(hub, ha_noi):
    signature = sign_detached(b"the text that was signed", hub.credential("ha-noi"), at=datetime.now(UTC))
    before = hub.document_rows()
    response = upload(hub, ha_noi, data={"metadata": json.dumps(meta("central-office", "da-nang"))},
                      files={"file": ("cv.pdf", b"the text that was sent"), "signature": ("cv.p7s", signature)})

    body = assert_error(response, 422, "invalid-signature")
    assert body["detail"]["report"]["sub_indication"] == "HASH_FAILURE"
    assert "altered" in body["message"]
    document_id = body["detail"]["document_id"]
    assert hub.document_rows() == before + 1  # the refusal is recorded ...
    entries = [e for e in hub.register() if e["document_id"] == document_id]
    assert sorted((e["recipient"], e["channel"], e["delivered"]) for e in entries) == [
        ("central-office", "signed_invalid", False), ("da-nang", "signed_invalid", False)]
    for recipient in ("central-office", "da-nang"):  # ... and delivered to no one
        with hub.client(recipient) as client:
            assert document_id not in [d.id for d in client.inbox(include_all=True)]
            token = client.authenticate()
        with hub.http(token) as http:
            assert_error(http.get(f"/api/documents/{document_id}/file"), 403, "not-delivered")
    with hub.client("ha-noi") as sender:  # the sender can read why
        assert (sender.document(document_id).report or {})["sub_indication"] == "HASH_FAILURE"


def test_a_body_cannot_send_as_another(hub):
    content = b"signed by central-office"
    signature = sign_detached(content, hub.credential("central-office"), at=datetime.now(UTC))
    with hub.client("ha-noi") as client, pytest.raises(RejectedError) as refused:
        client.send(content, metadata=DocumentMetadata.from_dict(meta("da-nang")), signature=signature)
    assert refused.value.code == "signer-mismatch"

    # Nor obtain a token for another body: the challenge for central-office signed with ha-noi's key.
    with hub.http() as http:
        challenge = http.post("/api/auth/challenge", json={"body": "central-office"}).json()["challenge"]
        proof = sign_detached(challenge.encode(), hub.credential("ha-noi"), at=datetime.now(UTC))
        answer = http.post("/api/auth/token", json={"challenge": challenge,
                                                    "signature": base64.b64encode(proof).decode()})
    assert_error(answer, 403, "wrong-body")


def test_a_body_reads_neither_another_bodys_inbox_nor_its_documents(hub, ha_noi, workdir):
    with hub.client("ha-noi") as sender:
        sent = sender.send(b"for central-office only", metadata=DocumentMetadata.from_dict(meta("central-office")))
    outsider = hub.token("da-nang")
    with hub.http(outsider) as http:
        for path in ("", "/file", "/signature", "/status"):
            assert_error(http.get(f"/api/documents/{sent.id}{path}"), 403, "not-authorized")
        inbox = http.get("/api/inbox", params={"all": "true", "body": "central-office"})
        assert inbox.status_code == 200 and sent.id not in [d["id"] for d in inbox.json()]
    refused = hub.cli("node", "fetch", sent.id, "--as", "da-nang", "--out", "x", cwd=workdir, check=False)
    assert refused.returncode == 1
    assert "403" in refused.stderr and "not-authorized" in refused.stderr
    assert not (workdir / "x").exists() or not any((workdir / "x").iterdir())


def bad_uploads() -> list[Any]:
    ok_meta = json.dumps(meta("nghe-an"))
    file = {"file": ("a.pdf", b"%PDF-1.4 something")}
    return [
        pytest.param({"content": b"--zz\r\nbroken", "headers": {"content-type": "multipart/form-data"}},
                     400, "malformed-multipart", id="malformed-multipart"),
        pytest.param({"content": b"--zz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nunterminated",
                      "headers": {"content-type": "multipart/form-data; boundary=zz"}},
                     400, "missing-part", id="truncated-multipart"),
        pytest.param({"json": {"metadata": ok_meta}}, 400, "malformed-multipart", id="not-multipart"),
        pytest.param({"files": {"metadata": (None, ok_meta)}}, 400, "missing-part", id="missing-file"),
        pytest.param({"files": file}, 400, "missing-part", id="missing-metadata"),
        pytest.param({"data": {"metadata": "{'recipients': ['nghe-an']"}, "files": file}, 400, "invalid-metadata",
                     id="metadata-not-json"),
        pytest.param({"data": {"metadata": json.dumps(meta("nghe-an", "khong-co-that"))}, "files": file},
                     400, "unknown-recipient", id="unknown-recipient"),
        pytest.param({"data": {"metadata": ok_meta}, "files": {"file": ("empty.pdf", b"")}}, 400, "empty-file",
                     id="empty-file"),
    ]


@pytest.mark.parametrize(("request_kwargs", "status", "code"), bad_uploads())
def test_bad_input_is_refused_with_a_code_and_leaves_nothing(hub, ha_noi, request_kwargs, status, code):
    before_rows, before_register = hub.document_rows(), len(hub.register())
    body = assert_error(upload(hub, ha_noi, **request_kwargs), status, code)
    assert len(body["message"]) > 10
    assert (hub.document_rows(), len(hub.register())) == (before_rows, before_register)


def test_a_file_name_with_path_parts_is_only_a_display_name(hub, ha_noi):
    content = f"stored by its digest {uuid.uuid4()}".encode()
    response = upload(hub, ha_noi, data={"metadata": json.dumps(meta("nghe-an"))},
                      files={"file": ("../../../tmp/evil/..\\win.ini", content)})
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["filename"] == "win.ini"
    holding = [p for p in hub.data.parent.rglob("*") if p.is_file() and p.read_bytes() == content]
    assert [p.relative_to(hub.data / "blobs").as_posix() for p in holding] == [
        f"{document['sha256'][:2]}/{document['sha256'][2:]}"]
    assert not any(p.name == "win.ini" for p in hub.data.parent.parent.rglob("*"))


def test_an_unknown_document_is_404(hub, ha_noi):
    with hub.http(ha_noi) as http:
        for path in ("", "/file", "/signature", "/status"):
            assert_error(http.get(f"/api/documents/{uuid.uuid4()}{path}"), 404, "not-found")
        assert_error(http.get("/api/nothing-here"), 404, "not-found")


def test_a_missing_garbled_or_expired_token_is_401(hub):
    with hub.http() as http:
        missing = http.get("/api/inbox")
    assert_error(missing, 401, "not-authenticated")
    assert missing.headers["www-authenticate"] == "Bearer"
    real = hub.token("nghe-an")
    expired, _ = hub.tokens().issue("nghe-an", 1, at=datetime.now(UTC) - timedelta(hours=1))
    for token, code in ((real[:-1] + ("A" if real[-1] != "A" else "B"), "invalid-token"), ("garbled", "invalid-token"),
                        (expired, "token-expired")):
        with hub.http(token) as http:
            assert_error(http.get("/api/inbox"), 401, code)
