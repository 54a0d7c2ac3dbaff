"""The access log: entries kept with who, what, when and why, filtered, and the actors refused
repeatedly within the window (a second either side of it)."""

from __future__ import annotations

from datetime import timedelta

from exchange.hub.people import AccessLog, AccessRecord, Action, ActorKind
from exchange.hub.people.access_log import REPEAT_THRESHOLD, REPEAT_WINDOW

from hub.people.conftest import T0


def refusal(actor: str, kind: ActorKind, seconds: int, code: str = "role-not-allowed") -> AccessRecord:
    return AccessRecord(at=T0 + timedelta(seconds=seconds), actor=actor, actor_kind=kind, action=Action.REFUSED,
                        target="GET /access", allowed=False, code=code, client="10.0.0.7")


def test_entries_keep_who_what_when_and_why_newest_first(access_log: AccessLog) -> None:
    heard: list[AccessRecord] = []
    access_log.listen(heard.append)
    view = AccessRecord(at=T0, actor="lan", actor_kind=ActorKind.PERSON, role="auditor", action=Action.VIEW,
                        target="doc-1", allowed=True, client="127.0.0.1")
    access_log.record(view)
    access_log.record(refusal("nghe-an", ActorKind.BODY, 5, "not-delivered"))
    entries, total = access_log.entries()
    assert total == 2 and entries[0].actor == "nghe-an" and entries[1] == view
    assert entries[0].outcome == "refused" and entries[0].code == "not-delivered"
    assert heard == [view, refusal("nghe-an", ActorKind.BODY, 5, "not-delivered")]
    assert access_log.entries(allowed=False)[1] == 1
    assert access_log.entries(action=Action.VIEW)[0] == [view]
    assert access_log.entries(actor="lan")[0] == [view]


def test_an_actor_refused_repeatedly_in_the_window_is_named(access_log: AccessLog) -> None:
    for i in range(REPEAT_THRESHOLD):
        access_log.record(refusal("minh", ActorKind.PERSON, i, "other-body" if i % 2 else "role-not-allowed"))
    for i in range(REPEAT_THRESHOLD - 1):
        access_log.record(refusal("da-nang", ActorKind.BODY, i))  # one short of the threshold
    last = T0 + timedelta(seconds=REPEAT_THRESHOLD - 1)
    found = access_log.repeated_refusals(at=last)
    assert [(r.actor, r.actor_kind, r.count, r.codes) for r in found] == [
        ("minh", ActorKind.PERSON, REPEAT_THRESHOLD, ("other-body", "role-not-allowed"))]
    assert found[0].last_at == last
    # The window: the first refusal leaves it a second after it is REPEAT_WINDOW old.
    assert access_log.repeated_refusals(at=T0 + REPEAT_WINDOW - timedelta(seconds=1))
    assert access_log.repeated_refusals(at=T0 + REPEAT_WINDOW + timedelta(seconds=1)) == []


def test_long_texts_are_cut_to_fit(access_log: AccessLog) -> None:
    access_log.record(AccessRecord(at=T0, actor="x" * 500, actor_kind=ActorKind.ANONYMOUS, action=Action.REFUSED,
                                   target="/" * 1000, allowed=False, code="c" * 100))
    entry = access_log.entries()[0][0]
    assert (len(entry.actor), len(entry.target), len(entry.code)) == (64, 300, 48)
