"""Two hub processes on one PostgreSQL database and one data folder act as one hub.

Nodes log in at one and carry on at the other, people's sessions, CSRF and lock-outs hold at
both, a revocation reaches both within seconds; and with one hub killed (SIGKILL) in the middle
of concurrent sends, nodes that were given both URLs finish on the other: every acknowledged
message id is in the register once, every document is fetched and acknowledged there, and the
evidence log replays clean against the register.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from exchange.domain.documents import ReceiptStatus
from exchange.node import HubClient, RetryPolicy, acknowledge, fetch, node_verifier

from e2e.harness import TEST_PASSWORD, RunningHub, assert_error, fresh_database, start_hub
from hub.inprocess import metadata

pytestmark = pytest.mark.postgres

WITHIN = 10.0  # seconds for a revocation to reach every hub (each re-reads the CRL every second)
SENDERS = ("ha-noi", "nghe-an", "da-nang")
RECIPIENT = "central-office"
PER_SENDER = 10
#: nodes ride out the killed hub on the other; a retry window long enough for a loaded machine
RETRY = RetryPolicy(backoff=0.05, max_backoff=0.5, window=30.0)


@pytest.fixture
def pair(request: pytest.FixtureRequest, pki, tmp_path: Path) -> Iterator[tuple[RunningHub, RunningHub]]:  # type: ignore[no-untyped-def]
    """Two hubs started at once on one new PostgreSQL database and one data folder (the keys:
    the test's ``keys`` marker fixture, else the session PKI)."""
    keys = request.getfixturevalue("pki_copy").directory if "pki_copy" in request.fixturenames else pki.dir
    with fresh_database("postgresql", tmp_path) as url, ThreadPoolExecutor(2) as pool:
        started = [pool.submit(start_hub, keys=keys, data=tmp_path / "shared", db_url=url) for _ in range(2)]
        hubs = [future.result() for future in started]
        try:
            yield hubs[0], hubs[1]
        finally:
            for hub in hubs:
                hub.stop()


def _login(http: httpx.Client, name: str, password: str) -> httpx.Response:
    """The login form filled in and posted, as a browser does."""
    form = http.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text[:300]
    return http.post("/login", data={"name": name, "password": password, "csrf": csrf.group(1), "next": "/"})


def test_a_login_at_one_hub_holds_at_the_other_and_a_revocation_reaches_both(pki_copy, pair, workdir):
    first, second = pair
    # A node's token from one hub process is good at the other (one secret in the shared folder).
    token = first.token("nghe-an")
    with second.http(token) as http:
        assert http.get("/api/inbox").status_code == 200

    # A person's session and its CSRF token from one hub work at the other; logging out there
    # ends the session at both.
    first.add_person("lan", "auditor")
    browser = first.login("lan")
    with httpx.Client(base_url=second.url, cookies=browser.cookies, follow_redirects=False) as other:
        assert other.get("/").status_code == 200
        assert other.post("/logout", data={"csrf": browser.csrf}).status_code == 303  # type: ignore[attr-defined]
    assert browser.get("/", follow_redirects=False).status_code == 303  # to the login page
    browser.close()

    # Failed logins count at both: five spread over the two lock the account everywhere.
    first.add_person("minh", "auditor")
    with first.http() as a, second.http() as b:
        for http in (a, b, a, b, a):
            assert _login(http, "minh", "wrong " + TEST_PASSWORD).status_code == 401
        locked = _login(b, "minh", TEST_PASSWORD)  # the right password, too late
    assert locked.status_code == 401 and "is locked after 5 failed logins" in locked.text

    # A revocation reaches both processes within seconds: the token issued before is refused.
    with first.client("ha-noi") as node:
        token = node.authenticate()
    first.cli("keys", "revoke", "ha-noi", "--reason", "key_compromise", cwd=workdir)
    deadline = time.monotonic() + WITHIN
    refused: dict[str, httpx.Response] = {}
    while len(refused) < 2 and time.monotonic() < deadline:
        for hub in pair:
            with hub.http(token) as http:
                answer = http.get("/api/inbox")
            if answer.status_code != 200:
                refused[hub.url] = answer
        time.sleep(0.1)
    assert len(refused) == 2, "a hub process still accepts the revoked body's token"
    for answer in refused.values():
        assert_error(answer, 403, "certificate-revoked")


def test_concurrent_senders_finish_on_the_other_hub_when_one_is_killed(pki, pair, tmp_path, workdir):
    first, second = pair
    urls = [first.url, second.url]
    acknowledged: dict[tuple[str, str], str] = {}
    lock = threading.Lock()

    def send_all(sender: str) -> None:
        with HubClient(urls, credential=first.credential(sender), retry=RETRY) as client:
            for n in range(PER_SENDER):
                message_id = f"{sender}-{n}"
                answer = client.send(f"Công văn {n} của {sender}\n".encode() * 200,
                                     metadata=metadata(RECIPIENT, message_id=message_id, number=f"{n}-CV"))
                with lock:
                    acknowledged[(sender, message_id)] = answer["id"]

    with ThreadPoolExecutor(len(SENDERS)) as pool:
        running = [pool.submit(send_all, sender) for sender in SENDERS]
        # Kill the hub every node is using once a third of the documents are in: some requests
        # are in flight to it then.
        while len(acknowledged) < len(SENDERS) * PER_SENDER // 3 and not all(f.done() for f in running):
            time.sleep(0.01)
        first.process.kill()
        first.process.wait(timeout=10)
        for future in running:
            future.result()
    assert len(acknowledged) == len(SENDERS) * PER_SENDER

    # Every acknowledged message id is in the register exactly once, under the id the node got.
    engine = create_engine(second.db_url)
    try:
        with engine.connect() as db:
            rows = db.execute(text("SELECT sender, message_id, id FROM document")).all()
    finally:
        engine.dispose()
    assert sorted((s, m) for s, m, _ in rows) == sorted(acknowledged)
    assert {(s, m): i for s, m, i in rows} == acknowledged

    # The recipient, given both URLs, finds the dead one and fetches everything from the other.
    with HubClient(urls, credential=second.credential(RECIPIENT), retry=RETRY) as recipient:
        verifier = node_verifier(pki.store, recipient)
        inbox = {d["id"] for d in recipient.inbox()}
        assert inbox == set(acknowledged.values())
        assert recipient.hub_in_use == second.url
        for document_id in sorted(inbox):
            got = fetch(recipient, document_id, out_dir=tmp_path / "in", verifier=verifier,
                        at=lambda: datetime.now(UTC))
            assert got.report is not None and got.report.passed, got.report
            acknowledge(recipient, got)
        assert recipient.inbox() == []

    engine = create_engine(second.db_url)
    try:
        with engine.connect() as db:
            receipts = db.execute(text("SELECT document_id, recipient, status FROM receipt")).all()
            deliveries = db.execute(text("SELECT count(*) FROM delivery")).scalar_one()
    finally:
        engine.dispose()
    assert sorted(r[0] for r in receipts) == sorted(acknowledged.values())  # one each, none doubled
    assert {(r[1], r[2]) for r in receipts} == {(RECIPIENT, ReceiptStatus.RECEIVED.value)}
    assert deliveries == len(acknowledged)

    # The evidence log, appended by both processes (one killed mid-run), replays clean.
    replay = second.cli("audit", "log", "verify", "--db", second.db_url, "--data", str(second.data), cwd=workdir)
    assert re.search(r"^TOTAL_PASSED: \d+ entries replayed .*; 0 difference", replay.stdout, re.M), replay.stdout
