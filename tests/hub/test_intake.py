"""The intake's group commit: uploads handed over together are accepted in one group (one
transaction, one wave of fsyncs), each answered as if it had come alone, all of them stored
once, on SQLite and PostgreSQL; a document's own failure stays its own."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from exchange.cms import SubIndication, sign_detached
from exchange.errors import ConflictError, InputError, RejectedError
from exchange.hub import ExchangeService, HubSettings, Upload, build_service
from exchange.hub.accept import Answer, Submission
from exchange.hub.intake import Intake
from exchange.hub.store.models import Delivery, Document, Event
from exchange.tlog import MemoryTree

from e2e.harness import fresh_database
from hub.inprocess import document_bytes, metadata

SENDERS = ("ha-noi", "nghe-an", "da-nang", "organization-commission")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, pki, tmp_path: Path) -> Iterator[ExchangeService]:  # type: ignore[no-untyped-def]
    with fresh_database(request.param, tmp_path) as url:
        service = build_service(HubSettings(keys_dir=pki.dir, data_dir=tmp_path / "data", db_url=url,
                                            bodies_file=pki.bodies_file))
        try:
            yield service
        finally:
            service.engine.dispose()


@pytest.fixture
def at(pki) -> datetime:  # type: ignore[no-untyped-def]
    return pki.created + timedelta(minutes=5)


class Gated:
    """``submit_many`` that holds its first group until :meth:`open` (so that the uploads
    handed over meanwhile queue up as the next group), recording each group's size."""

    def __init__(self, service: ExchangeService) -> None:
        self.service = service
        self.groups: list[int] = []
        self.held = threading.Event()
        self._gate = threading.Event()

    def open(self) -> None:
        self._gate.set()

    def __call__(self, submissions: Sequence[Submission]) -> list[Answer]:
        self.held.set()
        self._gate.wait(timeout=30)
        self.groups.append(len(submissions))
        return self.service.submit_many(submissions)


def run_together(service: ExchangeService, submissions: list[Submission]) -> tuple[list[object], list[int]]:
    """Hand *submissions* to an intake at once; their answers (or errors) and the group sizes."""
    gated = Gated(service)
    intake = Intake(gated)

    async def main() -> list[object]:
        waiting = [asyncio.ensure_future(intake.submit(submissions[0]))]
        while not gated.held.is_set():  # the worker took the first upload: it waits at the gate
            await asyncio.sleep(0.01)
        waiting += [asyncio.ensure_future(intake.submit(s)) for s in submissions[1:]]
        await asyncio.sleep(0.01)  # every other upload handed over meanwhile
        gated.open()
        return await asyncio.gather(*waiting, return_exceptions=True)

    try:
        return asyncio.run(main()), gated.groups
    finally:
        intake.close()


def signed(pki, sender: str, at: datetime, *, to: str = "central-office", message_id: str | None = None,
           content: bytes | None = None) -> Submission:  # type: ignore[no-untyped-def]
    content = content if content is not None else document_bytes(sender, size=20_000)
    signature = sign_detached(content, pki.store.credential(sender), at=at)
    return Submission(sender, metadata(to, message_id=message_id), Upload(io.BytesIO(content), "report.pdf"),
                      signature, at)


def count(service: ExchangeService, table: type) -> int:
    with Session(service.engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def assert_log_is_one_tree(service: ExchangeService) -> int:
    stored = list(service.log.iter_entries())
    assert [e.index for e in stored] == list(range(len(stored)))  # no gap, no duplicate
    replayed = MemoryTree()
    for entry in stored:
        replayed.append(entry.leaf)
    assert service.log.head().root() == replayed.root()
    return len(stored)


def test_concurrent_uploads_are_accepted_in_one_group_and_each_stored_once(service, pki, at) -> None:  # type: ignore[no-untyped-def]
    submissions = [signed(pki, SENDERS[n % 4], at) for n in range(12)]
    answers, groups = run_together(service, submissions)

    assert groups == [1, 11]  # the first alone (it was taken at once), the rest together
    assert all(a.channel == "signed_valid" and not a.duplicate for a in answers)  # type: ignore[union-attr]
    assert [a.message_id for a in answers] == [s.metadata.message_id for s in submissions]  # type: ignore[union-attr]
    assert len({a.id for a in answers}) == 12  # type: ignore[union-attr]
    assert count(service, Document) == count(service, Delivery) == count(service, Event) == 12
    for answer, submission in zip(answers, submissions, strict=True):
        stored = service.document(body=submission.sender, document_id=answer.id)  # type: ignore[union-attr]
        assert stored.report is not None and stored.report["indication"] == "TOTAL_PASSED"
        assert any(c["name"] == "signature time-stamp" for c in stored.report["checks"])  # each stamped
        assert service.blobs.exists(stored.sha256)
    # accepted + delivered per document, in one tree
    assert assert_log_is_one_tree(service) == 24
    assert list((service.blobs.root / "tmp").iterdir()) == []


def test_a_message_id_twice_in_one_group_is_stored_once_and_answered_as_a_repeat(service, pki, at) -> None:  # type: ignore[no-untyped-def]
    content = document_bytes("twice", size=20_000)
    first = signed(pki, "ha-noi", at, message_id="cv-12", content=content)
    again = signed(pki, "ha-noi", at, message_id="cv-12", content=content)
    reused = signed(pki, "ha-noi", at, message_id="cv-12")  # other bytes: a conflict
    other = signed(pki, "nghe-an", at, message_id="cv-12")  # another sender's own id
    answers, groups = run_together(service, [signed(pki, "da-nang", at), first, again, reused, other])

    assert groups == [1, 4]  # the repeats went through after the part of the group that stored cv-12
    stored, repeat, conflict, theirs = answers[1:]
    assert not stored.duplicate and repeat.duplicate and repeat.id == stored.id  # type: ignore[union-attr]
    assert isinstance(conflict, ConflictError) and conflict.code == "message-id-reused"
    assert not theirs.duplicate and theirs.id != stored.id  # type: ignore[union-attr]
    assert count(service, Document) == 3
    assert assert_log_is_one_tree(service) == 6


def test_a_documents_own_failure_is_its_answer_alone(service, pki, at) -> None:  # type: ignore[no-untyped-def]
    good = signed(pki, "ha-noi", at)
    tampered = signed(pki, "nghe-an", at)
    tampered = Submission(tampered.sender, tampered.metadata, Upload(io.BytesIO(b"other bytes")),
                          tampered.signature, at)
    empty = Submission("da-nang", metadata("central-office"), Upload(io.BytesIO(b"")), None, at)
    mismatch = signed(pki, "ha-noi", at)
    mismatch = Submission("da-nang", mismatch.metadata, mismatch.upload, mismatch.signature, at)
    answers, _ = run_together(service, [good, tampered, empty, mismatch, signed(pki, "organization-commission", at)])

    assert answers[0].channel == answers[4].channel == "signed_valid"  # type: ignore[union-attr]
    assert isinstance(answers[1], RejectedError) and answers[1].code == "invalid-signature"
    assert answers[1].detail["report"]["sub_indication"] == SubIndication.HASH_FAILURE.value
    assert isinstance(answers[2], InputError) and answers[2].code == "empty-file"
    assert isinstance(answers[3], RejectedError) and answers[3].code == "signer-mismatch"
    # the refusals are recorded (and never delivered); the empty file left nothing
    assert count(service, Document) == 4
    refused = service.document(body="nghe-an", document_id=answers[1].detail["document_id"])
    assert [d.state for d in refused.deliveries] == ["refused"]
    assert assert_log_is_one_tree(service) == 2 + 1 + 1 + 2
    assert list((service.blobs.root / "tmp").iterdir()) == []


def test_submit_many_answers_in_order_as_submit_would(service, pki, at) -> None:  # type: ignore[no-untyped-def]
    unsigned = Submission("ha-noi", metadata("nghe-an"), Upload(io.BytesIO(document_bytes("u"))), None, at)
    answers = service.submit_many([signed(pki, "da-nang", at), unsigned])
    assert [a.channel for a in answers] == ["signed_valid", "unsigned"]  # type: ignore[union-attr]
    assert service.submit_many([]) == []
