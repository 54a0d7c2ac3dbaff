"""ExchangeService.batch (exchange/hub/batch.py): several operations, one transaction, the
same rows and the same evidence log as one by one; all or nothing; fetches recorded apart."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from exchange.audit.replay import replay
from exchange.cms import sign_detached
from exchange.domain.documents import Channel, ReceiptStatus
from exchange.domain.receipts import ReceiptStatement
from exchange.errors import RejectedError
from exchange.hub import ExchangeService, Upload, log_audit
from exchange.hub.store.models import Delivery, Document, LogEntry

from hub.inprocess import document_bytes, metadata

SENDER = "ha-noi"


def _count(service: ExchangeService, table: type) -> int:
    with Session(service.engine) as session:  # another connection: sees only what is committed
        return session.exec(select(func.count()).select_from(table)).one()


def _send(service: ExchangeService, pki, name: str, at: datetime, *, signer: str = SENDER):  # type: ignore[no-untyped-def]
    content = document_bytes(name)
    signature = sign_detached(content, pki.store.credential(signer), at=at)
    return content, service.submit(sender=SENDER, metadata=metadata("nghe-an"),
                                   upload=Upload(io.BytesIO(content), f"{name}.txt"), signature=signature, at=at)


def _leaves(service: ExchangeService) -> list[bytes]:
    return [leaf for _, leaf in log_audit.entries(service.engine)]


def test_a_batch_commits_once_and_keeps_what_the_operations_write(service, pki, at):
    with service.batch():
        content, doc = _send(service, pki, "first", at)
        with pytest.raises(RejectedError):  # a refusal is recorded inside the batch too
            _send(service, pki, "signed by another", at, signer="nghe-an")
        assert service.record_fetch(body="nghe-an", document_id=doc.id, at=at + timedelta(minutes=1))
        later = at + timedelta(minutes=2)
        statement = ReceiptStatement(document_id=doc.id, sha256=hashlib.sha256(content).hexdigest(),
                                     status=ReceiptStatus.RECEIVED, time=later, receiver="nghe-an",
                                     verification="TOTAL_PASSED").to_bytes()
        service.acknowledge(body="nghe-an", document_id=doc.id, statement=statement,
                            signature=sign_detached(statement, pki.store.credential("nghe-an"), at=later), at=later)
        assert _count(service, Document) == 0 and _count(service, LogEntry) == 0  # nothing committed yet

    assert _count(service, Document) == 2
    channels = {e.document_id: e.channel for e in service.register_entries()}
    assert sorted(channels.values()) == [Channel.SIGNED_INVALID, Channel.SIGNED_VALID]
    (entry,) = [e for e in service.register_entries() if e.document_id == doc.id]
    assert entry.receipt_status is ReceiptStatus.RECEIVED
    # The log: accepted, delivered, refused, downloaded, receipt, in the order they happened,
    # and it replays clean against the register.
    kinds = [leaf.split(b'"kind":"', 1)[1].split(b'"', 1)[0].decode() for leaf in _leaves(service)]
    assert kinds == ["accepted", "delivered", "refused", "downloaded", "receipt"]
    result = replay(log_audit.entries(service.engine), log_audit.snapshot(service.engine))
    assert result.clean, [f.line() for f in result.findings]


def test_an_error_that_escapes_a_batch_leaves_nothing(service, pki, at):
    with pytest.raises(RuntimeError, match="mid-batch"), service.batch():
        _send(service, pki, "lost", at)
        raise RuntimeError("a failure mid-batch")
    assert _count(service, Document) == 0 and _leaves(service) == []
    _, doc = _send(service, pki, "after", at)  # the service works on, the log from its start
    assert doc.channel == Channel.SIGNED_VALID
    assert replay(log_audit.entries(service.engine), log_audit.snapshot(service.engine)).clean


def test_a_fetch_is_recorded_once_and_a_read_only_download_records_nothing(service, pki, at):
    _, doc = _send(service, pki, "fetched", at)
    path, signature = service.download(body="nghe-an", document_id=doc.id, at=at, record=False)
    assert path.is_file() and signature is not None
    with Session(service.engine) as session:
        assert session.exec(select(Delivery.fetched_at)).one() is None
    assert service.record_fetch(body="nghe-an", document_id=doc.id, at=at) is True
    assert service.record_fetch(body="nghe-an", document_id=doc.id, at=at + timedelta(hours=1)) is False
    with Session(service.engine) as session:
        assert session.exec(select(Delivery.fetched_at)).one() == at
