"""``exchange hub serve --workers 2``: several processes behind one port act as one hub."""

from __future__ import annotations

from datetime import UTC, datetime

from exchange.node import acknowledge, fetch, node_verifier

from hub.inprocess import metadata


def test_two_workers_start_on_an_empty_database_and_share_tokens_and_the_register(start, pki, tmp_path):
    # On an empty database every worker used to create the tables at once; the loser of
    # that race took the server down. Tokens are MACed with one secret shared by all workers.
    hub = start(keys=pki.dir, args=("--workers", "2"))
    sender, recipient = hub.client("ha-noi"), hub.client("central-office")
    sent = [sender.send(f"Công văn số {n}\n".encode() * 500,
                        metadata=metadata("central-office", number=f"{n}-CV/TU"), filename=f"{n}.txt")
            for n in range(6)]
    assert {d.channel for d in sent} == {"signed_valid"}

    inbox = {d.id for d in recipient.inbox()}
    assert {d.id for d in sent} <= inbox
    verifier = node_verifier(pki.store, recipient)
    for document in sent:
        got = fetch(recipient, document.id, out_dir=tmp_path / "in", verifier=verifier,
                    at=lambda: datetime.now(UTC))
        assert got.report is not None and got.report.passed
        acknowledge(recipient, got)
    assert all(step.status_name == "received" for d in sent for step in sender.status(d.id))

