"""HubClient over ``httpx.MockTransport``: retries that reuse the message id, the hub's 4xx
answers as project errors, and one re-authentication when a token has expired."""

from __future__ import annotations

import base64
import email.parser
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from exchange.domain.documents import DocumentMetadata, ReceiptStatus
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
from exchange.node import HubClient, RetryPolicy
from exchange.wire import BodyCertificates, DocumentPublic

from node.answers import document_answer, receipt_answer

FAST = RetryPolicy(attempts=5, backoff=0.0)
Script = list[httpx.Response | Exception]


class FakeHub:
    """Answers /api/auth itself; every other request gets the next scripted answer."""

    def __init__(self, *, script: Script, now: datetime, token_ttl: timedelta = timedelta(minutes=15)) -> None:
        self.script = list(script)
        self.now = now
        self.token_ttl = token_ttl
        self.tokens_issued = 0
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth/challenge":
            return httpx.Response(200, json={"body": "ha-noi", "challenge": f"challenge-{self.tokens_issued}"})
        if request.url.path == "/api/auth/token":
            self.tokens_issued += 1
            expires = self.now + self.token_ttl
            return httpx.Response(200, json={"token": f"t{self.tokens_issued}", "body": "ha-noi",
                                             "expires": expires.isoformat()})
        request.read()
        self.requests.append(request)
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def tokens_used(self) -> list[str]:
        return [r.headers["Authorization"].removeprefix("Bearer ") for r in self.requests]


def client_for(hub: FakeHub, credential, *, retry: RetryPolicy = FAST,  # type: ignore[no-untyped-def]
               clock: Callable[[], datetime] | None = None) -> HubClient:
    return HubClient("http://hub.test", credential=credential, transport=httpx.MockTransport(hub),
                     retry=retry, clock=clock or (lambda: hub.now))


def parts(request: httpx.Request) -> dict[str, bytes]:
    """The multipart form of *request*, by part name."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser().parsebytes(head + request.content)
    return {p.get_param("name", header="content-disposition"): p.get_payload(decode=True)
            for p in message.get_payload()}


def error(status: int, code: str, message: str = "refused", **detail: Any) -> httpx.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if detail:
        body["detail"] = detail
    return httpx.Response(status, json=body)


DOCUMENT = document_answer()
CREATED = httpx.Response(201, json=DOCUMENT)
META = DocumentMetadata.from_dict({"recipients": ["central-office"], "subject": "s", "message_id": "msg-42"})


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the backoff delays instead of sleeping them."""
    delays: list[float] = []
    monkeypatch.setattr("exchange.node.client.time.sleep", delays.append)
    return delays


# -- retries ---------------------------------------------------------------------------------


def test_a_5xx_then_success_resends_the_same_document_with_the_same_message_id(credential, now):
    hub = FakeHub(now=now, script=[httpx.Response(503), error(500, "http-error"), CREATED])
    assert client_for(hub, credential).send(b"%PDF body", metadata=META) == DocumentPublic.model_validate(DOCUMENT)

    sent = [parts(r) for r in hub.requests]
    assert len(sent) == 3
    assert {json.loads(p["metadata"])["message_id"] for p in sent} == {"msg-42"}
    assert {p["file"] for p in sent} == {b"%PDF body"}
    assert len({p["signature"] for p in sent}) == 1  # signed once, the same bytes resent


def test_a_file_is_reopened_and_resent_whole_on_each_attempt(credential, tmp_path: Path, now):
    document = tmp_path / "12-BC.pdf"
    document.write_bytes(b"%PDF from disk")
    hub = FakeHub(now=now, script=[httpx.Response(502), CREATED])
    client_for(hub, credential).send(document, metadata=META, sign=False)
    assert [parts(r)["file"] for r in hub.requests] == [b"%PDF from disk"] * 2
    assert "signature" not in parts(hub.requests[0])


@pytest.mark.parametrize("fault", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"),
                                   httpx.RemoteProtocolError("closed")])
def test_a_transport_fault_is_retried(credential, fault, now):
    hub = FakeHub(now=now, script=[fault, fault, CREATED])
    assert client_for(hub, credential).send(b"x", metadata=META).id == "doc-1"
    assert {json.loads(parts(r)["metadata"])["message_id"] for r in hub.requests} == {"msg-42"}


def test_retries_back_off_and_then_give_up_with_one_transport_error(credential, no_sleep, now):
    hub = FakeHub(now=now, script=[httpx.ConnectError("refused")] * 4)
    retry = RetryPolicy(attempts=4, backoff=0.2, max_backoff=0.5, jitter=0.0)
    with pytest.raises(TransportError) as failed:
        client_for(hub, credential, retry=retry).inbox()
    assert "cannot reach the hub" in failed.value.message
    assert len(hub.requests) == 4
    assert no_sleep == [0.2, 0.4, 0.5]


def test_by_default_retries_cover_a_hub_restart_with_jitter(credential, no_sleep, now):
    # ~30 s of retries: a hub restart (1-5 s) is ridden out, not reported as a failure
    default = RetryPolicy()
    assert default.window >= 30 and default.attempts is None and default.jitter > 0
    hub = FakeHub(now=now, script=[httpx.ConnectError("refused")] * 6 + [httpx.Response(200, json=[])])
    assert client_for(hub, credential, retry=default).inbox() == []
    assert len(no_sleep) == 6
    for n, pause in enumerate(no_sleep):  # doubling, capped, each within ±50 %
        base = min(0.2 * 2**n, 5.0)
        assert 0.5 * base <= pause <= 1.5 * base, (n, pause)
    assert len(set(no_sleep)) == 6


def test_retries_stop_when_the_window_has_passed(credential, now, monkeypatch):
    clock = [0.0]  # a simulated monotonic clock that the (patched) sleeps advance

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    monkeypatch.setattr("exchange.node.client.time.sleep", sleep)
    monkeypatch.setattr("exchange.node.client.time.monotonic", lambda: clock[0])
    hub = FakeHub(now=now, script=[httpx.ConnectError("refused")] * 100)
    with pytest.raises(TransportError, match=r"cannot reach the hub .*over 30 s"):
        client_for(hub, credential, retry=RetryPolicy()).inbox()
    assert clock[0] == pytest.approx(30.0)  # the last wait is cut to the window, then one last try
    assert 8 <= len(hub.requests) <= 20


def test_a_5xx_on_every_attempt_is_a_transport_error(credential, now):
    hub = FakeHub(now=now, script=[httpx.Response(503, text="upstream down")] * 5)
    with pytest.raises(TransportError) as failed:
        client_for(hub, credential).inbox()
    assert "503" in failed.value.message and len(hub.requests) == 5


# -- the hub's refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "kind", "code"),
    [
        (error(400, "unknown-recipient", "unknown recipient 'x'"), InputError, "unknown-recipient"),
        (error(400, "empty-file", "the file is empty"), InputError, "empty-file"),
        (error(403, "not-authorized", "not yours"), NotAuthorizedError, "not-authorized"),
        (error(403, "certificate-revoked", "revoked"), NotAuthorizedError, "certificate-revoked"),
        (error(404, "not-found", "no document"), NotFoundError, "not-found"),
        (error(409, "message-id-reused", "used"), ConflictError, "message-id-reused"),
        (error(413, "too-large", "over 50 MiB"), TooLargeError, "too-large"),
        (error(422, "invalid-signature", "HASH_FAILURE", report={"sub_indication": "HASH_FAILURE"}),
         RejectedError, "invalid-signature"),
        (error(422, "signer-mismatch", "signed by another"), RejectedError, "signer-mismatch"),
    ],
)
def test_a_4xx_becomes_the_project_error_with_the_hubs_code_and_is_not_retried(credential, answer, kind, code, now):
    hub = FakeHub(now=now, script=[answer])
    with pytest.raises(kind) as refused:
        client_for(hub, credential).send(b"x", metadata=META)
    assert refused.value.code == code
    assert answer.json()["message"] in refused.value.message
    assert refused.value.detail == answer.json().get("detail")
    assert len(hub.requests) == 1


def test_a_4xx_without_a_json_body_still_says_what_happened(credential, now):
    hub = FakeHub(now=now, script=[httpx.Response(404, text="<html>no such page</html>")])
    with pytest.raises(NotFoundError) as refused:
        client_for(hub, credential).inbox()
    assert "404" in refused.value.message and "no such page" in refused.value.message


def test_an_unexpected_status_is_still_a_project_error(credential, now):
    hub = FakeHub(now=now, script=[httpx.Response(418, json={"code": "teapot", "message": "short and stout"})])
    with pytest.raises(ExchangeError) as refused:
        client_for(hub, credential).inbox()
    assert refused.value.code == "teapot"


# -- tokens ----------------------------------------------------------------------------------


def test_an_expired_token_is_renewed_once_and_the_request_repeated(credential, now):
    hub = FakeHub(now=now, script=[error(401, "token-expired"), httpx.Response(200, json=[])])
    assert client_for(hub, credential).inbox() == []
    assert hub.tokens_issued == 2
    assert hub.tokens_used() == ["t1", "t2"]


@pytest.mark.parametrize("attempts", [1, 5])
def test_a_token_refused_again_after_renewal_is_an_authentication_error(credential, attempts, now):
    hub = FakeHub(now=now, script=[error(401, "token-expired"), error(401, "invalid-token", "not one this hub issued")])
    with pytest.raises(NotAuthenticatedError) as refused:
        client_for(hub, credential, retry=RetryPolicy(attempts=attempts, backoff=0.0)).inbox()
    assert refused.value.code == "invalid-token"
    assert hub.tokens_issued == 2 and len(hub.requests) == 2


def test_a_token_about_to_expire_is_renewed_before_use(credential, now):
    clock = [now]
    hub = FakeHub(now=now, script=[httpx.Response(200, json=[])] * 3, token_ttl=timedelta(minutes=1))
    client = client_for(hub, credential, clock=lambda: clock[0])
    client.inbox()
    client.inbox()
    clock[0] = now + timedelta(seconds=45)  # within 30 s of expiry
    client.inbox()
    assert hub.tokens_used() == ["t1", "t1", "t2"]


def test_the_token_is_proved_with_a_signature_of_the_bodys_key(credential, pki):
    seen: list[dict[str, Any]] = []

    def hub(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth/challenge":
            assert json.loads(request.content) == {"body": "ha-noi"}
            return httpx.Response(200, json={"body": "ha-noi", "challenge": "nonce.mac"})
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={"token": "t", "body": "ha-noi", "expires": datetime.now(UTC).isoformat()})

    HubClient("http://hub.test", credential=credential, transport=httpx.MockTransport(hub)).authenticate()
    signature = base64.b64decode(seen[0]["signature"])
    report = pki.verifier().verify(b"nonce.mac", signature, at=datetime.now(UTC))
    assert report.passed and report.signer is not None and report.signer.body_id == "ha-noi"


# -- the rest of the surface -----------------------------------------------------------------


def test_a_download_is_written_whole_after_a_retry(credential, tmp_path: Path, now):
    hub = FakeHub(now=now, script=[httpx.Response(503), httpx.Response(200, content=b"%PDF whole")])
    target = client_for(hub, credential).download("doc-1", tmp_path / "doc.pdf")
    assert target.read_bytes() == b"%PDF whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.pdf"]


def test_a_failed_download_leaves_no_file(credential, tmp_path: Path, now):
    hub = FakeHub(now=now, script=[error(404, "not-found")])
    with pytest.raises(NotFoundError):
        client_for(hub, credential).download("doc-1", tmp_path / "doc.pdf")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("document_id", ["", "..", "../inbox", "a/b", "x?all=true", "x#y", "%2e%2e"])
def test_a_document_id_that_is_not_an_id_is_refused_before_any_request(credential, document_id, now):
    hub = FakeHub(now=now, script=[])
    with pytest.raises(InputError):
        client_for(hub, credential).document(document_id)
    assert hub.requests == []


def test_a_receipt_states_the_digest_status_and_receiver_and_is_signed(credential, pki, now):
    hub = FakeHub(now=now, script=[httpx.Response(201, json=receipt_answer())])
    client_for(hub, credential).acknowledge("doc-1", sha256="ab" * 32, status=ReceiptStatus.REJECTED,
                                            reason="wrong recipient", verification="TOTAL_PASSED")
    form = parts(hub.requests[0])
    statement = json.loads(form["statement"])
    assert {k: statement[k] for k in ("document_id", "sha256", "status", "receiver", "reason")} == {
        "document_id": "doc-1", "sha256": "ab" * 32, "status": "02", "receiver": "ha-noi",
        "reason": "wrong recipient"}
    report = pki.verifier().verify(form["statement"], form["signature"], at=now)
    assert report.passed


def test_published_certificates_are_kept_five_minutes_then_asked_again(credential, now):
    certificate = {"pem": "…", "serial": "1f", "not_before": "2015-01-01T00:00:00Z",
                   "not_after": "2017-01-01T00:00:00Z", "status": "valid"}
    published = {"body": "nghe-an", "signing": certificate, "encryption": certificate}
    hub = FakeHub(script=[httpx.Response(200, json=published), httpx.Response(200, json=published)], now=now)
    clock = [now]
    client = client_for(hub, credential, clock=lambda: clock[0])
    assert client.certificates("nghe-an") == BodyCertificates.model_validate(published)
    clock[0] = now + timedelta(minutes=5) - timedelta(seconds=1)
    assert client.certificates("nghe-an") == BodyCertificates.model_validate(published)
    assert [r.url.path for r in hub.requests] == ["/api/bodies/nghe-an/certificates"]  # once
    clock[0] = now + timedelta(minutes=5)
    client.certificates("nghe-an")
    assert len(hub.requests) == 2
