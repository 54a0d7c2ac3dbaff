"""The hub as a time-stamping authority: what it adds to accepted signatures, what it answers on
``/api/tsa``, the CRLs it publishes, and what it refuses when its revocation data is stale.

Service tests pin the clock (``at``); route tests go through the in-process application.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from exchange.cms import Indication, SubIndication, TimestampToken, sign_detached, strip_timestamps
from exchange.cms.tsa import TimeStampResp, build_request, read_response
from exchange.cms.verify import DetachedSignature
from exchange.domain.documents import ReceiptStatus
from exchange.domain.receipts import ReceiptStatement
from exchange.errors import PKINotFoundError, RejectedError, TransportError
from exchange.hub import ExchangeService, HubSettings, Upload, build_service
from exchange.hub.trust import RevocationDataStaleError
from exchange.pki import KeyStore, build_crl, load_certificates, reissue_crls, revoke
from exchange.pki.revocation import crl_pem, load_crls, revoked_entries

from hub.inprocess import document_bytes, metadata, running

SENDER = "ha-noi"


@pytest.fixture
def at(pki) -> datetime:  # type: ignore[no-untyped-def]
    return pki.created + timedelta(minutes=5)


@pytest.fixture
def copy_service(pki_copy: KeyStore, pki, tmp_path: Path) -> Iterator[ExchangeService]:  # type: ignore[no-untyped-def]
    """A service over a private copy of the PKI (its CRLs may be rewritten)."""
    service = build_service(HubSettings(keys_dir=pki_copy.directory, data_dir=tmp_path / "hub",
                                        bodies_file=pki.bodies_file, crl_reload_interval=0.0))
    yield service
    service.engine.dispose()


def _submit(service: ExchangeService, content: bytes, *, at: datetime, signature: bytes | None,
            sender: str = SENDER) -> dict:
    return service.submit(sender=sender, metadata=metadata("central-office"), signature=signature, at=at,
                          upload=Upload(io.BytesIO(content), "report.pdf")).model_dump()


def _stale_crl(store: KeyStore, *, at: datetime) -> None:
    """Rewrite the issuing CA's CRL as issued eight days before *at* (current for seven)."""
    crl = build_crl(store.issuing_ca(), revoked_entries(store.crl()), at=at - timedelta(days=8), number=50)
    store.write("crl.pem", crl_pem(crl))


# -- accepted signatures leave the hub time-stamped ------------------------------------------


def test_an_accepted_signature_is_stored_and_delivered_time_stamped(copy_service, pki_copy, at) -> None:
    content = document_bytes("stamped")
    signature = sign_detached(content, pki_copy.credential(SENDER), at=at)
    doc = _submit(copy_service, content, at=at, signature=signature)

    stored = copy_service.signature(body="central-office", document_id=doc["id"])
    assert strip_timestamps(stored) == signature  # the sender's signature, plus the token
    (token,) = DetachedSignature.from_der(stored).timestamp_tokens
    parsed = TimestampToken.from_der(token)
    assert parsed.gen_time == at.replace(microsecond=0) + (timedelta(seconds=1) if at.microsecond else timedelta(0))
    report = copy_service.document(body=SENDER, document_id=doc["id"]).report
    assert report is not None and report["timestamp"]["passed"]
    assert report["timestamp"]["serial"] == f"{parsed.serial:x}"
    assert report["checks"][-1]["name"] == "signature time-stamp"


def test_a_refused_signature_is_stored_as_it_came(copy_service, pki_copy, at) -> None:
    content = document_bytes("altered")
    signature = sign_detached(b"other bytes", pki_copy.credential(SENDER), at=at)
    with pytest.raises(RejectedError) as refused:
        _submit(copy_service, content, at=at, signature=signature)
    stored = copy_service.signature(body=SENDER, document_id=refused.value.detail["document_id"])
    assert stored == signature
    assert refused.value.detail["report"]["timestamp"] is None


def test_receipts_are_time_stamped_too(copy_service, pki_copy, at) -> None:
    content = document_bytes("to acknowledge")
    doc = _submit(copy_service, content, at=at, signature=sign_detached(content, pki_copy.credential(SENDER), at=at))
    statement = ReceiptStatement(document_id=doc["id"], sha256=doc["sha256"], status=ReceiptStatus.RECEIVED,
                                 time=at, receiver="central-office", verification="TOTAL_PASSED").to_bytes()
    signature = sign_detached(statement, pki_copy.credential("central-office"), at=at)
    receipt = copy_service.acknowledge(body="central-office", document_id=doc["id"], statement=statement,
                                       signature=signature, at=at + timedelta(seconds=2))
    stored = base64.b64decode(receipt.signature_b64)
    assert strip_timestamps(stored) == signature and DetachedSignature.from_der(stored).timestamp_tokens
    assert receipt.report["timestamp"]["passed"]


def test_a_document_accepted_before_its_signers_revocation_still_passes_today(copy_service, pki_copy, at) -> None:
    content = document_bytes("before the revocation")
    doc = _submit(copy_service, content, at=at, signature=sign_detached(content, pki_copy.credential(SENDER), at=at))
    revoked_at = at + timedelta(hours=1)
    revoke(pki_copy, SENDER, at=revoked_at)
    copy_service.trust.reload()

    today = copy_service.reverify(document_id=doc["id"], at=revoked_at + timedelta(hours=1))
    assert today is not None and today.indication is Indication.TOTAL_PASSED, today.summary()
    assert any(c.name == "proof of existence" for c in today.checks)
    bare = copy_service.trust.verifier().verify(
        content, strip_timestamps(copy_service.signature(body=SENDER, document_id=doc["id"])),
        at=revoked_at + timedelta(hours=1))
    assert bare.sub_indication is SubIndication.REVOKED_NO_POE


def test_a_document_signed_with_a_ca_key_is_refused_as_a_chain_constraints_failure(copy_service, pki_copy, at) -> None:
    content = document_bytes("signed by the CA")
    with pytest.raises(RejectedError) as refused:
        _submit(copy_service, content, at=at, signature=sign_detached(content, pki_copy.issuing_ca(), at=at))
    report = refused.value.detail["report"]
    assert (report["indication"], report["sub_indication"]) == ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE")
    assert "CA certificate" in refused.value.message


# -- stale revocation data: refuse instead of accepting blindly ------------------------------


def test_with_only_a_stale_crl_the_hub_refuses_signed_documents_and_receipts(copy_service, pki_copy, at) -> None:
    content = document_bytes("while stale")
    before = _submit(copy_service, content, at=at, signature=sign_detached(content, pki_copy.credential(SENDER), at=at))
    _stale_crl(pki_copy, at=at)
    copy_service.trust.reload()

    with pytest.raises(RevocationDataStaleError) as stale:
        _submit(copy_service, document_bytes("new"), at=at,
                signature=sign_detached(b"new", pki_copy.credential(SENDER), at=at))
    assert stale.value.code == "revocation-data-stale" and "was due to be replaced" in stale.value.message
    assert _submit(copy_service, document_bytes("unsigned"), at=at, signature=None)["channel"] == "unsigned"
    statement = ReceiptStatement(document_id=before["id"], sha256=before["sha256"], status=ReceiptStatus.RECEIVED,
                                 time=at, receiver="central-office", verification="TOTAL_PASSED").to_bytes()
    with pytest.raises(RevocationDataStaleError):
        copy_service.acknowledge(body="central-office", document_id=before["id"], statement=statement,
                                 signature=sign_detached(statement, pki_copy.credential("central-office"), at=at),
                                 at=at)
    assert not [d for d in copy_service.find_documents()[0] if d.channel == "signed_invalid"]  # nothing blamed

    # the CA publishes a fresh CRL: the hub notices and accepts again
    reissue_crls(pki_copy, at=at)
    copy_service.trust.reload()
    assert _submit(copy_service, b"fresh", at=at, signature=sign_detached(b"fresh", pki_copy.credential(SENDER),
                                                                           at=at))["channel"] == "signed_valid"


@pytest.mark.parametrize(("offset", "stale"), [(timedelta(0), False), (timedelta(seconds=1), True)])
def test_stale_means_after_the_next_update_to_the_second(copy_service, pki_copy, pki, offset, stale) -> None:
    next_update = min(c.next_update_utc for c in pki_copy.crls())
    assert (copy_service.trust.stale(at=next_update + offset) is not None) is stale


def test_a_login_needs_current_revocation_data(pki_copy, pki, tmp_path) -> None:
    settings = HubSettings(keys_dir=pki_copy.directory, data_dir=tmp_path / "hub", bodies_file=pki.bodies_file,
                           crl_reload_interval=0.0)
    for hub in running(settings, pki_copy):
        _stale_crl(pki_copy, at=datetime.now(UTC))
        client = hub.client(SENDER)
        with pytest.raises(TransportError) as refused:
            client.authenticate()
        assert refused.value.code == "revocation-data-stale"


# -- the RFC 3161 endpoint and the published CRLs ---------------------------------------------


def test_the_tsa_endpoint_answers_rfc_3161_over_http(hub, pki) -> None:
    hashed = hashlib.sha256(b"a document").digest()
    answer = hub.http().post("/api/tsa", content=build_request(hashed, nonce=77),
                             headers={"Content-Type": "application/timestamp-query"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/timestamp-reply"
    token = TimestampToken.from_der(read_response(answer.content, hashed_message=hashed, nonce=77))
    assert abs(token.gen_time - datetime.now(UTC)) < timedelta(minutes=1)


@pytest.mark.parametrize(("content", "media", "status", "fail"), [
    (build_request(hashlib.sha1(b"x").digest(), hash_algorithm="sha1"), "application/timestamp-query", 200,
     "bad_alg"),  # a request, refused in the protocol's terms: HTTP 200, as RFC 3161 clients expect
    (build_request(bytes(32), policy="1.2.3"), "application/timestamp-query", 200, "unaccepted_policy"),
    (b"junk", "application/timestamp-query", 400, "bad_data_format"),  # no request at all
    (b"", "application/timestamp-query", 400, "bad_data_format"),
    (build_request(bytes(32)), "application/octet-stream", 415, "bad_request"),
    (build_request(bytes(32)), None, 415, "bad_request"),
    (bytes(20_000), "application/timestamp-query", 413, "bad_data_format"),
])
def test_the_tsa_endpoint_rejects_in_the_protocol_never_with_a_5xx(hub, content, media, status, fail) -> None:
    headers = {"Content-Type": media} if media else {}
    answer = hub.http().post("/api/tsa", content=content, headers=headers)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/timestamp-reply"
    status = TimeStampResp.load(answer.content)["status"]
    assert status["status"].native == "rejection" and set(status["fail_info"].native) == {fail}


@pytest.mark.parametrize("missing", ["tsa.pem", "root-crl.pem"])
def test_a_hub_will_not_start_on_a_pki_made_before_the_tsa(pki_copy, pki, tmp_path, missing) -> None:
    (pki_copy.directory / missing).unlink()
    settings = HubSettings(keys_dir=pki_copy.directory, data_dir=tmp_path / "hub", bodies_file=pki.bodies_file)
    with pytest.raises(PKINotFoundError, match=f"no {missing}.*keys init --force"):
        build_service(settings)


def test_the_hub_publishes_the_crls_its_certificates_name(hub, pki) -> None:
    http = hub.http()
    issuing = http.get("/api/crl")
    assert issuing.headers["content-type"] == "application/pkix-crl"
    assert x509.load_der_x509_crl(issuing.content) == pki.store.crl()
    assert x509.load_der_x509_crl(http.get("/api/crl/root").content) == pki.store.root_crl()
    assert load_crls(http.get("/api/pki/crl").content) == pki.store.crls()
    points = pki.signer.certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == "http://127.0.0.1:8000/api/crl"
    issuing_points = pki.store.issuing_ca().certificate.extensions.get_extension_for_class(
        x509.CRLDistributionPoints).value
    assert issuing_points[0].full_name[0].value == "http://127.0.0.1:8000/api/crl/root"
    assert load_certificates(http.get("/api/pki/tsa").content)[0] == pki.store.tsa_credential().certificate


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not on PATH")
def test_openssl_verifies_a_document_as_the_hub_delivers_it(hub, pki, tmp_path) -> None:
    content = document_bytes("for openssl")
    sender = hub.client(SENDER)
    doc = sender.send(content, metadata=metadata("central-office"))
    delivered = hub.client("central-office").signature(doc["id"])
    assert DetachedSignature.from_der(delivered).timestamp_tokens
    (tmp_path / "doc.pdf").write_bytes(content)
    (tmp_path / "doc.pdf.p7s").write_bytes(delivered)
    checked = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp_path / "doc.pdf.p7s",
                              "-content", tmp_path / "doc.pdf", "-CAfile", pki.store.root_path, "-purpose", "any",
                              "-out", "/dev/null"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
