"""ExchangeService: validation on arrival, storage, delivery, receipts and the register.

The service is called directly with a pinned clock (``AT``, a few minutes after the test PKI
was made), as the routes and the simulator call it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from exchange.cms import Indication, SubIndication, sign_detached
from exchange.domain.documents import Channel, DocumentMetadata, ReceiptStatus
from exchange.domain.receipts import ReceiptStatement
from exchange.errors import (
    ConflictError,
    InputError,
    NotAuthorizedError,
    NotFoundError,
    RejectedError,
    TooLargeError,
    UnknownBodyError,
)
from exchange.hub import ExchangeService, HubSettings, Upload, build_service
from exchange.hub.store.models import Delivery, Document, Event
from exchange.pki import Credential

from hub.inprocess import document_bytes, metadata

SENDER = "ha-noi"
CENTRAL = ("central-office", "organization-commission")


@pytest.fixture
def at(pki) -> datetime:  # type: ignore[no-untyped-def]
    return pki.created + timedelta(minutes=5)


@pytest.fixture
def cred(pki, credentials):  # type: ignore[no-untyped-def]
    """The credential of a body of the session PKI (cached: loading a key is slow)."""

    def load(body_id: str) -> Credential:
        if body_id not in credentials:
            credentials[body_id] = pki.store.credential(body_id)
        return credentials[body_id]

    return load


@pytest.fixture
def service(hub_settings: HubSettings) -> Iterator[ExchangeService]:
    service = build_service(hub_settings)
    yield service
    service.engine.dispose()


def submit(service: ExchangeService, content: bytes, meta: DocumentMetadata, *, at: datetime,
           signer: Credential | None = None, signature: bytes | None = None, sender: str = SENDER,
           filename: str | None = "report.pdf") -> dict:
    """Submit *content* as *sender*, signed by *signer* (or with *signature*, or unsigned)."""
    if signer is not None and signature is None:
        signature = sign_detached(content, signer, at=at)
    public = service.submit(sender=sender, metadata=meta, upload=Upload(io.BytesIO(content), filename),
                            signature=signature, at=at)
    return public.model_dump()


def rows(service: ExchangeService, table: type) -> int:
    with Session(service.engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def receipt(document: dict, receiver: str, status: ReceiptStatus, *, at: datetime, sha256: str | None = None,
            reason: str = "") -> bytes:
    return ReceiptStatement(document_id=document["id"], sha256=sha256 or document["sha256"], status=status,
                            time=at, receiver=receiver, reason=reason, verification="TOTAL_PASSED").to_bytes()


# -- sending ---------------------------------------------------------------------------------


def test_a_signed_document_is_validated_stored_and_delivered_to_every_recipient(service, at, cred):
    content = document_bytes("signed")
    doc = submit(service, content, metadata(*CENTRAL), at=at, signer=cred(SENDER))

    assert doc["channel"] == Channel.SIGNED_VALID
    assert doc["indication"] == Indication.TOTAL_PASSED
    assert doc["sub_indication"] is None
    assert sorted(doc["recipients"]) == sorted(CENTRAL)
    assert {d["state"] for d in doc["deliveries"]} == {"delivered"}
    assert service.blobs.path(doc["sha256"]).read_bytes() == content
    for recipient in CENTRAL:
        assert [d.id for d in service.inbox(body=recipient)] == [doc["id"]]
    stored = service.document(body=SENDER, document_id=doc["id"])
    assert stored.report is not None and stored.report["indication"] == "TOTAL_PASSED"
    assert stored.report["validation_time"].startswith(at.isoformat()[:19])  # the clock it was given
    assert stored.created_at == at  # aware UTC, on SQLite as on PostgreSQL


def test_an_unsigned_document_is_stored_and_delivered_as_unsigned(service, at):
    doc = submit(service, document_bytes("unsigned"), metadata("nghe-an"), at=at)

    assert doc["channel"] == Channel.UNSIGNED
    assert doc["indication"] is None
    assert [d.id for d in service.inbox(body="nghe-an")] == [doc["id"]]
    with pytest.raises(NotFoundError) as refused:
        service.signature(body="nghe-an", document_id=doc["id"])
    assert refused.value.code == "no-signature"


def test_a_signature_over_another_file_is_refused_and_the_refusal_recorded(service, at, cred):
    signature = sign_detached(document_bytes("the original"), cred(SENDER), at=at)

    with pytest.raises(RejectedError) as refused:
        submit(service, document_bytes("what was uploaded"), metadata(*CENTRAL), at=at, signature=signature)

    assert refused.value.code == "invalid-signature"
    assert refused.value.detail["report"]["sub_indication"] == SubIndication.HASH_FAILURE
    document_id = refused.value.detail["document_id"]
    entries = [e for e in service.register_entries() if e.document_id == document_id]
    assert {(e.recipient, e.channel, e.delivered) for e in entries} == {
        (r, Channel.SIGNED_INVALID, False) for r in CENTRAL}
    for recipient in CENTRAL:
        assert service.inbox(body=recipient, include_all=True) == []
        with pytest.raises(NotAuthorizedError) as hidden:  # refused: never delivered, not readable
            service.content_path(body=recipient, document_id=document_id, at=at)
        assert hidden.value.code == "not-delivered"
        with pytest.raises(NotAuthorizedError) as hidden:
            service.download(body=recipient, document_id=document_id, at=at)
        assert hidden.value.code == "not-delivered"
    mine = service.document(body=SENDER, document_id=document_id)  # the sender sees why
    assert mine.report is not None and mine.report["sub_indication"] == "HASH_FAILURE"
    with Session(service.engine) as session:
        events = session.exec(select(Event).where(Event.document_id == document_id)).all()
    assert [(e.action, e.detail) for e in events] == [("refused", "invalid-signature")]


def test_a_document_signed_by_another_body_is_refused_as_signer_mismatch(service, at, cred):
    meta = metadata("da-nang")
    content = document_bytes("signed by someone else")
    with pytest.raises(RejectedError) as refused:
        submit(service, content, meta, at=at, signer=cred("central-office"))
    assert refused.value.code == "signer-mismatch"
    assert "central-office" in refused.value.message and SENDER in refused.value.message

    with pytest.raises(RejectedError) as again:  # a retry is refused for the same reason
        submit(service, content, meta, at=at, signer=cred("central-office"))
    assert again.value.code == "signer-mismatch"
    assert again.value.detail["document_id"] == refused.value.detail["document_id"]


def test_a_signer_revoked_before_signing_is_refused_with_the_reason(service, pki):
    after = pki.revoked_at + timedelta(minutes=1)
    with pytest.raises(RejectedError) as refused:
        submit(service, document_bytes(), metadata("ha-noi"), at=after, signer=pki.revoked, sender="revoked-body")
    assert refused.value.detail["report"]["sub_indication"] == SubIndication.REVOKED


def test_a_repeated_message_id_returns_the_same_document_without_a_duplicate(service, at, cred):
    content, meta = document_bytes("retried"), metadata(*CENTRAL)
    signer = cred(SENDER)
    first = submit(service, content, meta, at=at, signer=signer)
    again = submit(service, content, meta, at=at + timedelta(seconds=30), signer=signer)

    assert again["id"] == first["id"]
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert rows(service, Document) == 1
    assert rows(service, Delivery) == len(CENTRAL)


def test_a_message_id_reused_for_other_bytes_is_a_conflict(service, at):
    meta = metadata("nghe-an")
    submit(service, document_bytes("one"), meta, at=at)
    with pytest.raises(ConflictError) as conflict:
        submit(service, document_bytes("two"), meta, at=at)
    assert conflict.value.code == "message-id-reused"
    assert rows(service, Document) == 1


def test_a_message_id_is_unique_across_channels(service, at, cred):
    # A paper document and an electronic one sharing a message id: the second is not a
    # "duplicate" of the first (that would silently drop the electronic file) but a conflict.
    paper = metadata("nghe-an", message_id="m-paper")
    service.register_paper(sender=SENDER, metadata=paper, at=at)
    with pytest.raises(ConflictError) as electronic_after_paper:
        submit(service, document_bytes(), paper, at=at, signer=cred(SENDER))
    assert electronic_after_paper.value.code == "message-id-reused"
    assert "sent on paper" in electronic_after_paper.value.message

    sent = metadata("nghe-an", message_id="m-electronic")
    submit(service, document_bytes("e"), sent, at=at)
    with pytest.raises(ConflictError) as paper_after_electronic:
        service.register_paper(sender=SENDER, metadata=sent, at=at)
    assert paper_after_electronic.value.code == "message-id-reused"
    assert rows(service, Document) == 2


def test_a_repeat_must_match_the_first_send(service, at, cred):
    content, meta = document_bytes("first"), metadata("nghe-an", message_id="m-1")
    first = submit(service, content, meta, at=at)  # unsigned
    with pytest.raises(ConflictError, match="without a signature"):
        submit(service, content, meta, at=at, signer=cred(SENDER))
    with pytest.raises(ConflictError, match="recipients differ"):
        submit(service, content, metadata("nghe-an", "da-nang", message_id="m-1"), at=at)
    paper = metadata("nghe-an", message_id="m-2")
    service.register_paper(sender=SENDER, metadata=paper, at=at)
    with pytest.raises(ConflictError, match="subject differs"):
        service.register_paper(sender=SENDER, metadata=metadata("nghe-an", message_id="m-2", subject="Khác"), at=at)
    # signed again later (another signing time, so other signature bytes) over the same
    # content: the same document, answered as a duplicate
    signed = metadata("nghe-an", message_id="m-3")
    once = submit(service, content, signed, at=at, signer=cred(SENDER))
    twice = submit(service, content, signed, at=at + timedelta(minutes=1), signer=cred(SENDER))
    assert (twice["id"], twice["duplicate"]) == (once["id"], True)
    assert first["id"] != once["id"]
    assert rows(service, Document) == 3


def test_message_ids_are_scoped_to_their_sender(service, at):
    first = submit(service, document_bytes(), metadata("nghe-an", message_id="m-1"), at=at)
    other = submit(service, document_bytes(), metadata("nghe-an", message_id="m-1"), at=at, sender="da-nang")
    assert other["id"] != first["id"] and not other["duplicate"]


@pytest.mark.parametrize(
    ("recipients", "error", "code"),
    [
        (("nowhere",), UnknownBodyError, "unknown-recipient"),
        (("central-office", "nowhere"), UnknownBodyError, "unknown-recipient"),
        ((SENDER,), InputError, "invalid-recipient"),
    ],
)
def test_bad_recipients_are_refused_before_anything_is_stored(service, at, recipients, error, code):
    with pytest.raises(error) as refused:
        submit(service, document_bytes(), metadata(*recipients), at=at)
    assert refused.value.code == code
    assert rows(service, Document) == 0
    assert not any(service.blobs.root.glob("??/*"))


def test_an_empty_file_is_refused(service, at):
    with pytest.raises(InputError) as refused:
        submit(service, b"", metadata("nghe-an"), at=at)
    assert refused.value.code == "empty-file"
    assert rows(service, Document) == 0


def test_a_file_over_the_limit_is_refused_and_nothing_is_left_behind(pki, tmp_path, at):
    settings = HubSettings(keys_dir=pki.dir, data_dir=tmp_path / "small", bodies_file=pki.bodies_file,
                           max_upload=64 * 1024)
    small = build_service(settings)
    try:
        submit(small, document_bytes(size=64 * 1024), metadata("nghe-an"), at=at)  # at the limit: fine
        with pytest.raises(TooLargeError) as refused:
            submit(small, document_bytes(size=64 * 1024 + 1), metadata("nghe-an"), at=at)
        assert refused.value.code == "too-large"
        assert rows(small, Document) == 1
        assert list((small.blobs.root / "tmp").iterdir()) == []
    finally:
        small.engine.dispose()


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("/abs/path/quyết-định.pdf", "quyết-định.pdf"),
        ("..", None),
        (".bashrc", "bashrc"),
        ("bad\x00name\x07.pdf", "badname.pdf"),
        ("", None),
    ],
)
def test_a_file_name_is_kept_as_a_display_name_only(service, at, tmp_path, given, shown):
    content = document_bytes(given)
    doc = submit(service, content, metadata("nghe-an"), at=at, filename=given)
    assert doc["filename"] == shown
    stored = [p for p in tmp_path.rglob("*") if p.is_file() and p.read_bytes() == content]
    assert stored == [service.blobs.path(doc["sha256"])]  # only content-addressed, never by name


# -- receiving and receipts ------------------------------------------------------------------


@pytest.fixture
def delivered(service, pki, at, cred) -> dict:
    return submit(service, document_bytes("to acknowledge"), metadata(*CENTRAL), at=at,
                  signer=cred(SENDER))


def acknowledge(service: ExchangeService, cred, document: dict, receiver: str, status: ReceiptStatus, *,
                at: datetime, signer: str | None = None, **fields):  # type: ignore[no-untyped-def]
    statement = receipt(document, receiver, status, at=at, **fields)
    signature = sign_detached(statement, cred(signer or receiver), at=at)
    return service.acknowledge(body=receiver, document_id=document["id"], statement=statement,
                               signature=signature, at=at)


def test_signed_receipts_make_the_senders_status_trail(service, at, delivered, cred):
    later = at + timedelta(minutes=1)
    acknowledge(service, cred, delivered, "central-office", ReceiptStatus.RECEIVED, at=later)
    acknowledge(service, cred, delivered, "organization-commission", ReceiptStatus.RECEIVED, at=later)
    acknowledge(service, cred, delivered, "central-office", ReceiptStatus.ACCEPTED, at=later + timedelta(minutes=1))

    trail = service.status_trail(body=SENDER, document_id=delivered["id"])
    assert [(r.recipient, r.status_name) for r in trail] == [
        ("central-office", "received"), ("organization-commission", "received"), ("central-office", "accepted")]
    assert all(r.indication == Indication.TOTAL_PASSED for r in trail)
    own = service.status_trail(body="organization-commission", document_id=delivered["id"])
    assert [r.recipient for r in own] == ["organization-commission"]

    entries = {e.recipient: e for e in service.register_entries() if e.document_id == delivered["id"]}
    assert entries["central-office"].receipt_status is ReceiptStatus.ACCEPTED
    assert entries["central-office"].verified_by_recipient is True
    assert service.inbox(body="central-office") == []  # acknowledged: no longer new
    assert [d.id for d in service.inbox(body="central-office", include_all=True)] == [delivered["id"]]


def test_a_receipt_sent_again_is_stored_once(service, at, delivered, cred):
    # A node whose answer was lost (or whose hub process died) sends the same signed statement
    # again, perhaps to another hub process: one receipt, one status, the same answer.
    statement = receipt(delivered, "central-office", ReceiptStatus.RECEIVED, at=at)
    signature = sign_detached(statement, cred("central-office"), at=at)
    first, again = (service.acknowledge(body="central-office", document_id=delivered["id"], statement=statement,
                                        signature=signature, at=at + timedelta(seconds=n)) for n in (1, 30))
    assert again.id == first.id and again.created_at == first.created_at
    trail = service.status_trail(body=SENDER, document_id=delivered["id"])
    assert [(r.recipient, r.status_name) for r in trail] == [("central-office", "received")]


def test_a_receipt_for_other_bytes_is_refused(service, at, delivered, cred):
    with pytest.raises(RejectedError) as refused:
        acknowledge(service, cred, delivered, "central-office", ReceiptStatus.RECEIVED, at=at, sha256="0" * 64)
    assert refused.value.code == "receipt-digest-mismatch"


def test_a_receipt_signed_by_another_body_is_refused(service, at, delivered, cred):
    with pytest.raises(RejectedError) as refused:
        acknowledge(service, cred, delivered, "central-office", ReceiptStatus.RECEIVED, at=at,
                    signer="organization-commission")
    assert refused.value.code == "invalid-signature"


def test_a_receipt_from_a_body_the_document_was_not_sent_to_is_refused(service, at, delivered, cred):
    with pytest.raises(NotAuthorizedError):
        acknowledge(service, cred, delivered, "da-nang", ReceiptStatus.RECEIVED, at=at)


def test_a_receipt_naming_another_receiver_is_refused(service, at, delivered, cred):
    statement = receipt(delivered, "organization-commission", ReceiptStatus.RECEIVED, at=at)
    signature = sign_detached(statement, cred("central-office"), at=at)
    with pytest.raises(NotAuthorizedError):
        service.acknowledge(body="central-office", document_id=delivered["id"], statement=statement,
                            signature=signature, at=at)


def test_a_receipt_for_another_document_is_refused(service, at, delivered, cred):
    statement = receipt(delivered, "central-office", ReceiptStatus.RECEIVED, at=at)
    signature = sign_detached(statement, cred("central-office"), at=at)
    with pytest.raises(InputError) as refused:
        service.acknowledge(body="central-office", document_id="another-id", statement=statement,
                            signature=signature, at=at)
    assert refused.value.code == "invalid-receipt"


def test_only_the_sender_and_recipients_read_a_document(service, at, delivered):
    with pytest.raises(NotAuthorizedError):
        service.document(body="da-nang", document_id=delivered["id"])
    with pytest.raises(NotFoundError):
        service.document(body=SENDER, document_id="no-such-document")


def test_a_download_by_a_recipient_marks_it_fetched(service, at, delivered):
    service.content_path(body=SENDER, document_id=delivered["id"], at=at)
    path, _ = service.content_path(body="central-office", document_id=delivered["id"], at=at)
    assert Path(path).is_file()
    doc = service.document(body=SENDER, document_id=delivered["id"])
    fetched = {d.recipient: d.fetched_at for d in doc.deliveries}
    assert fetched == {"central-office": at, "organization-commission": None}


def test_download_is_content_path_and_signature_in_one(service, at, delivered):
    later = at + timedelta(hours=1)
    path, signature = service.download(body="central-office", document_id=delivered["id"], at=at)
    assert (path, signature) == (
        service.content_path(body="central-office", document_id=delivered["id"], at=later)[0],
        service.signature(body="central-office", document_id=delivered["id"]))
    service.download(body="central-office", document_id=delivered["id"], at=later)  # the first fetch counts
    doc = service.document(body=SENDER, document_id=delivered["id"])
    assert {d.recipient: d.fetched_at for d in doc.deliveries} == {"central-office": at,
                                                                   "organization-commission": None}
    with pytest.raises(NotAuthorizedError):
        service.download(body="da-nang", document_id=delivered["id"], at=at)
    with pytest.raises(NotFoundError):
        service.download(body="central-office", document_id="no-such-document", at=at)


# -- paper and incoming ---------------------------------------------------------------------


def test_a_paper_document_counts_in_the_register_but_is_not_delivered(service, at):
    meta = metadata("nghe-an", "da-nang")
    doc = service.register_paper(sender=SENDER, metadata=meta, at=at)
    again = service.register_paper(sender=SENDER, metadata=meta, at=at)

    assert doc.channel == Channel.PAPER and again.id == doc.id and again.duplicate
    entries = [e for e in service.register_entries() if e.document_id == doc.id]
    assert {(e.channel, e.delivered) for e in entries} == {(Channel.PAPER, False)}
    assert service.inbox(body="nghe-an") == []
    with pytest.raises(NotFoundError) as no_file:
        service.content_path(body="nghe-an", document_id=doc.id, at=at)
    assert no_file.value.code == "no-file"


def test_incoming_documents_are_recorded_scanned_or_not(service, at):
    scanned = service.register_incoming(body="nghe-an", from_agency="Bộ Tài chính", subject="Công văn",
                                        scan=Upload(io.BytesIO(b"%PDF scan"), "scan.pdf"), at=at)
    paper = service.register_incoming(body="nghe-an", from_agency="Bộ Nội vụ", scan=None, entered=False, at=at)
    assert (scanned.scanned, paper.scanned, paper.entered) == (True, False, False)
    assert [(e.from_agency, e.scanned) for e in service.incoming_entries()] == [
        ("Bộ Tài chính", True), ("Bộ Nội vụ", False)]
    with pytest.raises(InputError):
        service.register_incoming(body="nghe-an", from_agency="  ", scan=None, at=at)


def test_the_register_filters_by_time(service, at):
    first = submit(service, document_bytes(), metadata("nghe-an"), at=at)
    second = submit(service, document_bytes(), metadata("nghe-an"), at=at + timedelta(hours=1))
    window = [e.document_id for e in service.register_entries(start=at + timedelta(minutes=30))]
    assert window == [second["id"]]
    assert [e.document_id for e in service.register_entries(end=at + timedelta(minutes=30))] == [first["id"]]
