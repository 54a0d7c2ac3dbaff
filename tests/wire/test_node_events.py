"""The node runner ↔ demo protocol: every event survives its line, and a line that is not an
event is refused saying why (the demo ignores it as a stray print), never a KeyError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest

from exchange.errors import MalformedError
from exchange.simulate.demo import BodyProgress, Demo, DemoConfig, Progress
from exchange.wire import node_events as events
from exchange.wire.node_events import NodeEvent, encode_event, parse_event

EVERY_KIND: list[NodeEvent] = [
    events.Ready(body="ha-noi"),
    events.Sent(body="ha-noi", id="d-1", channel="signed_valid", rows=2),
    events.Refused(body="ha-noi", id="d-2", code="invalid-signature", sub="HASH_FAILURE", rows=1, altered=True),
    events.Refused(body="ha-noi", id=None, code="signer-mismatch", sub="signer-mismatch", rows=1, altered=False),
    events.Received(body="nghe-an", id="d-1", sender="ha-noi", verdict="TOTAL_PASSED"),
    events.Acknowledged(body="nghe-an", id="d-1", status="01"),
    events.Incoming(body="nghe-an", id="i-1", scanned=True, entered=False),
    events.Locked(body="da-nang", serial="1f2e", reason="certificate-revoked"),
    events.Renewed(body="da-nang", serial="3a4b"),
    events.SentAll(body="ha-noi"),
    events.Done(body="ha-noi"),
    events.Error(body="ha-noi", message="cannot reach the hub at http://127.0.0.1:9: refused"),
]


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda e: f"{e.e}")
def test_every_event_survives_its_line(event: NodeEvent) -> None:
    line = encode_event(event)
    assert "\n" not in line
    assert json.loads(line)["e"] == event.e and json.loads(line)["body"] == event.body
    assert parse_event(line) == event


def test_the_list_above_covers_every_kind() -> None:
    kinds = {cls.model_fields["e"].default for cls in get_args(get_args(NodeEvent)[0])}
    assert kinds == {e.e for e in EVERY_KIND} and len(kinds) == 11


def test_vietnamese_text_stays_readable_on_the_line() -> None:
    line = encode_event(events.Error(body="ha-noi", message="không kết nối được"))
    assert "không kết nối được" in line
    assert parse_event(line) == events.Error(body="ha-noi", message="không kết nối được")


@pytest.mark.parametrize(("line", "words"), [
    ("Traceback (most recent call last):", "not JSON"),
    ("", "not JSON"),
    ('{"e": "exploded", "body": "ha-noi"}', "unknown kind"),
    ('{"body": "ha-noi"}', "unknown kind"),
    ('{"e": "sent", "body": "ha-noi", "id": "d-1", "rows": 2}', "sent.channel"),
    ('{"e": "sent", "body": "ha-noi", "id": "d-1", "channel": "paper", "rows": "many"}', "sent.rows"),
    ('{"e": "done", "body": "ha-noi", "surprise": 1}', "done.surprise"),
    ('["e", "done"]', "malformed node event"),
])
def test_a_line_that_is_not_an_event_says_why(line: str, words: str) -> None:
    with pytest.raises(MalformedError) as refused:
        parse_event(line)
    assert words in refused.value.message


def test_the_demo_counts_what_its_nodes_report(tmp_path: Path) -> None:
    """The reading side: the demo's handler turns each event into its progress, and skips
    a stray line (a print, a garbled event) instead of failing."""
    seen: list[str] = []
    demo = Demo(DemoConfig(folder=tmp_path), on_event=seen.append)
    demo.progress = Progress(bodies={"ha-noi": BodyProgress("ha-noi", "provincial", planned=3)}, planned=3)
    for event in EVERY_KIND:
        demo._handle("ha-noi", encode_event(event))
    demo._handle("ha-noi", "a stray print")
    demo._handle("ha-noi", '{"e": "sent", "body": "ha-noi"}')
    state = demo.progress.bodies["ha-noi"]
    assert dict(state.sent) == {"signed_valid": 1}
    assert dict(state.refused) == {"HASH_FAILURE": 1, "signer-mismatch": 1}
    assert (state.received, state.acknowledged, state.incoming, state.scanned) == (1, 1, 1, 0)
    assert state.state == "failed" and state.error.startswith("cannot reach the hub")
    assert len(seen) == 2  # locked, renewed
