"""The hub's verdict reached apart from storing (exchange/hub/verdicts.py), as the simulator's
worker processes reach it: recorded as is when it concerns what is submitted, refused when it
concerns other bytes, another sender or another time."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta

import pytest

from exchange.cms import SubIndication, sign_detached
from exchange.domain.documents import Channel, ReceiptStatus
from exchange.domain.receipts import ReceiptStatement
from exchange.errors import InputError, RejectedError
from exchange.hub import ExchangeService, HubSettings, Upload
from exchange.hub.trust import Trust
from exchange.hub.verdicts import SIGNER_MISMATCH, judge
from exchange.pki import KeyStore

from hub.inprocess import document_bytes, metadata

SENDER = "ha-noi"


@pytest.fixture
def elsewhere(hub_settings: HubSettings) -> Trust:
    """The hub's trust as another process builds it from the same keys."""
    return Trust(KeyStore.at(hub_settings.keys_dir))


def _submit(service: ExchangeService, content: bytes, signature: bytes, at: datetime, verdict, *,  # type: ignore[no-untyped-def]
            sender: str = SENDER):
    return service.submit(sender=sender, metadata=metadata("nghe-an"), upload=Upload(io.BytesIO(content), "a.txt"),
                          signature=signature, at=at, verdict=verdict)


def test_a_verdict_reached_elsewhere_is_recorded_as_is(service, elsewhere, pki, at):
    content = document_bytes("judged by a worker")
    signature = sign_detached(content, pki.store.credential(SENDER), at=at)
    verdict = judge(elsewhere, sender=SENDER, content=content, signature=signature, at=at)
    assert verdict.accepted and verdict.signature != signature  # time-stamped

    doc = _submit(service, content, signature, at, verdict)

    assert doc.channel == Channel.SIGNED_VALID
    stored = service.signature(body="nghe-an", document_id=doc.id)
    # The very token the verdict carries (a second time-stamp would have another serial).
    assert stored == verdict.signature
    report = service.document(body=SENDER, document_id=doc.id).report
    assert report is not None and report["timestamp"]["serial"] == verdict.report.timestamp.serial


def test_a_verdict_about_other_inputs_is_refused_and_nothing_stored(service, elsewhere, pki, at):
    content = document_bytes("the original")
    signature = sign_detached(content, pki.store.credential(SENDER), at=at)
    verdict = judge(elsewhere, sender=SENDER, content=content, signature=signature, at=at)
    other = document_bytes("other bytes")
    for args in ((other, signature, at, SENDER), (content, signature, at + timedelta(seconds=1), SENDER),
                 (content, signature, at, "central-office")):
        with pytest.raises(InputError) as refused:
            _submit(service, *args[:3], verdict, sender=args[3])
        assert refused.value.code == "verdict-mismatch"
    assert list(service.register_entries()) == []


def test_a_refusal_reached_elsewhere_is_recorded_as_a_refusal(service, elsewhere, pki, at):
    content = document_bytes("signed by another body")
    signature = sign_detached(content, pki.store.credential("nghe-an"), at=at)
    verdict = judge(elsewhere, sender=SENDER, content=content, signature=signature, at=at)
    assert verdict.reason == SIGNER_MISMATCH and verdict.signature == signature  # no token

    with pytest.raises(RejectedError) as refused:
        _submit(service, content, signature, at, verdict)
    assert refused.value.code == "signer-mismatch"
    (entry,) = [e for e in service.register_entries()]
    assert entry.channel is Channel.SIGNED_INVALID


def test_a_receipt_verdict_reached_elsewhere_is_recorded_and_checked(service, elsewhere, pki, at):
    content = document_bytes("to acknowledge")
    doc = _submit(service, content, sign_detached(content, pki.store.credential(SENDER), at=at), at, None)
    later = at + timedelta(minutes=1)
    statement = ReceiptStatement(document_id=doc.id, sha256=hashlib.sha256(content).hexdigest(),
                                 status=ReceiptStatus.RECEIVED, time=later, receiver="nghe-an",
                                 verification="TOTAL_PASSED").to_bytes()
    signature = sign_detached(statement, pki.store.credential("nghe-an"), at=later)
    verdict = judge(elsewhere, sender="nghe-an", content=statement, signature=signature, at=later)

    with pytest.raises(InputError, match="other bytes, sender or time"):
        service.acknowledge(body="nghe-an", document_id=doc.id, statement=statement, signature=signature,
                            at=later + timedelta(seconds=1), verdict=verdict)
    receipt = service.acknowledge(body="nghe-an", document_id=doc.id, statement=statement, signature=signature,
                                  at=later, verdict=verdict)
    assert receipt.signature_b64 and receipt.report["timestamp"]["serial"] == verdict.report.timestamp.serial


def test_judge_refuses_a_revoked_signer_with_the_reason_the_service_gives(service, pki):
    after = pki.revoked_at + timedelta(minutes=1)
    content = document_bytes("revoked")
    signature = sign_detached(content, pki.revoked, at=after)
    verdict = judge(service.trust, sender="revoked-body", content=content, signature=signature, at=after)
    assert not verdict.accepted and verdict.report.sub_indication is SubIndication.REVOKED
    with pytest.raises(RejectedError) as refused:
        _submit(service, content, signature, after, verdict, sender="revoked-body")
    assert refused.value.detail["report"]["sub_indication"] == SubIndication.REVOKED
