"""Concurrent senders on a real hub, whose uploads it accepts in groups (one commit for those
in flight): every send is acknowledged once and stored once; after a ``kill -9`` in the
middle of the traffic, every document the hub acknowledged is there, bytes intact, and a
resend of any of them is answered as the same document, not stored again."""

from __future__ import annotations

import hashlib
import threading
import uuid
from pathlib import Path

from exchange.errors import ExchangeError
from exchange.node import RetryPolicy

from e2e.harness import RunningHub, start_hub
from hub.inprocess import metadata

SENDERS = ("ha-noi", "nghe-an", "da-nang", "organization-commission")
NO_RETRY = RetryPolicy(attempts=1, backoff=0.0)


def _content(sender: str, n: int) -> bytes:
    head = f"Công văn {n} của {sender} {uuid.uuid4()}\n".encode()
    return head + b"." * (30_000 - len(head))


class Senders:
    """One thread per sender and connection, sending until told to stop or the hub is gone;
    what the hub acknowledged: message id -> (document id, SHA-256 of the bytes sent)."""

    def __init__(self, hub: RunningHub, *, per_sender: int = 2) -> None:
        self.hub = hub
        self.acknowledged: dict[str, tuple[str, str, str, bytes]] = {}
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.killed = threading.Event()  # set before the hub is killed: its sends then fail
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._send, args=(s,)) for s in SENDERS for _ in range(per_sender)]

    def _send(self, sender: str) -> None:
        try:
            self._send_until_stopped(sender)
        except Exception as exc:  # a bug in the client or the test: fail now, not after the wait
            self.failures.append(f"{sender}: {exc!r}")

    def _send_until_stopped(self, sender: str) -> None:
        with self.hub.client(sender, retry=NO_RETRY) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                content, message_id = _content(sender, n), f"{sender}-{uuid.uuid4()}"
                try:
                    record = client.send(content, metadata=metadata("central-office", message_id=message_id))
                except ExchangeError as exc:
                    if not self.killed.is_set():  # only the crash may interrupt a send
                        self.failures.append(f"{sender}: {exc}")
                    return
                with self._lock:
                    self.acknowledged[message_id] = (record.id, hashlib.sha256(content).hexdigest(), sender, content)

    def __enter__(self) -> Senders:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def wait_for(self, count: int, *, timeout: float = 120) -> None:
        waited = 0.0
        while len(self.acknowledged) < count and waited < timeout and not self.failures:
            self.stop.wait(0.05)
            waited += 0.05


def test_concurrent_senders_are_each_acknowledged_and_stored_once(pki, start) -> None:  # type: ignore[no-untyped-def]
    hub = start(keys=pki.dir)
    with Senders(hub) as senders:
        senders.wait_for(40)
    assert not senders.failures, senders.failures
    acknowledged = senders.acknowledged
    assert len(acknowledged) >= 40
    assert len({doc_id for doc_id, *_ in acknowledged.values()}) == len(acknowledged)
    assert hub.document_rows() == len(acknowledged)
    entries = {e["document_id"] for e in hub.register() if e.get("document_id")}
    assert {doc_id for doc_id, *_ in acknowledged.values()} <= entries


def test_every_document_acknowledged_before_a_kill_9_is_there_after_the_restart(pki, start, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hub = start(keys=pki.dir)
    with Senders(hub) as senders:
        senders.wait_for(30)
        senders.killed.set()
        hub.process.kill()  # in the middle of the traffic: uploads in flight, a group half done
        hub.process.wait(timeout=30)
    assert not senders.failures, senders.failures
    acknowledged = dict(senders.acknowledged)
    assert len(acknowledged) >= 30

    restarted = start_hub(keys=pki.dir, data=hub.data, db_url=hub.db_url)
    try:
        readers = {}
        for message_id, (doc_id, sha, sender, _) in acknowledged.items():
            reader = readers.setdefault(sender, restarted.client(sender, retry=NO_RETRY))
            stored = reader.document(doc_id)
            assert (stored.message_id, stored.sha256, stored.channel) == (message_id, sha, "signed_valid")
            got = reader.download(doc_id, tmp_path / f"{doc_id}.bin")
            assert hashlib.sha256(got.read_bytes()).hexdigest() == sha
        # A sender that never heard back resends: the acknowledged ones are answered as themselves.
        rows = restarted.document_rows()
        for message_id, (doc_id, _, sender, content) in list(acknowledged.items())[:8]:
            again = readers[sender].send(content, metadata=metadata("central-office", message_id=message_id))
            assert again.id == doc_id and again.duplicate is True
        assert restarted.document_rows() == rows
        for reader in readers.values():
            reader.close()
    finally:
        restarted.stop()
