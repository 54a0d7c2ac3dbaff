"""Adoption curves and the planned traffic: pure functions of the scenario and its seed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from exchange.simulate import Adoption, Curve, Intent, Traffic
from exchange.simulate.traffic import WORKDAY, WORKDAY_START
from tests.simulate.conftest import build

START, END = date(2015, 1, 1), date(2015, 12, 31)


def test_curves_run_from_start_to_end() -> None:
    for curve in Curve:
        adoption = Adoption(0.2, 0.8, curve, START, END)
        assert adoption.level(date(2014, 12, 1)) == 0.2
        assert adoption.level(date(2016, 2, 1)) == 0.8
    linear = Adoption(0.2, 0.8, Curve.LINEAR, START, date(2015, 1, 11))
    assert abs(linear.level(date(2015, 1, 6)) - 0.5) < 1e-9
    logistic = Adoption(0.0, 1.0, Curve.LOGISTIC, START, END)
    assert logistic.level(date(2015, 2, 1)) < 0.05 and logistic.level(date(2015, 12, 1)) > 0.95
    step = Adoption(0.0, 0.3, Curve.STEP, date(2015, 9, 1), END)
    assert step.level(date(2015, 8, 31)) == 0.0 and step.level(date(2015, 9, 1)) == 0.3


def test_spread_shifts_each_body_deterministically() -> None:
    adoption = Adoption(0.2, 0.8, Curve.LINEAR, START, END, spread_days=120)
    one, again = adoption.shifted(1, "ha-noi/signing"), adoption.shifted(1, "ha-noi/signing")
    assert one == again and one.spread_days == 0
    shifts = {(adoption.shifted(1, f"{b}/signing").since - START).days for b in ("a", "b", "c", "d", "e")}
    assert len(shifts) > 1 and all(-60 <= s <= 60 for s in shifts)


def _plan(data: dict[str, Any]) -> list[Any]:
    return [doc for day in Traffic(build(data)).days() for doc in day.documents]


def test_same_seed_same_traffic_other_seed_other(tiny: dict[str, Any]) -> None:
    first, again = _plan(tiny), _plan(tiny)
    assert first == again and len(first) > 100
    tiny["seed"] = 8
    assert _plan(tiny) != first


def test_documents_are_sent_in_working_hours_on_working_days(tiny: dict[str, Any]) -> None:
    tiny["faults"] = {}
    tiny["period"]["holidays"] = [date(2015, 3, 10)]
    for doc in _plan(tiny):
        day = doc.sent_at.date()
        assert day.weekday() < 5 and day != date(2015, 3, 10)
        start = datetime.combine(day, WORKDAY_START, tzinfo=UTC)
        assert start <= doc.sent_at < start + WORKDAY


def test_hub_outage_with_wait_delays_electronic_sends(tiny: dict[str, Any]) -> None:
    window = (datetime(2015, 3, 17, 1, tzinfo=UTC), datetime(2015, 3, 17, 6, tzinfo=UTC))
    plan = _plan(tiny)
    electronic = [d for d in plan if d.intent is not Intent.PAPER]
    assert not [d for d in electronic if window[0] <= d.sent_at < window[1]]
    # The held documents go out within the hour after the window, not on paper.
    held = [d for d in electronic if window[1] <= d.sent_at < window[1].replace(hour=7)]
    assert held
    for doc in plan:
        for fetch in doc.fetches:
            assert not window[0] <= fetch.at < window[1], "recipients cannot fetch while the hub is down"


def test_node_offline_with_paper_fallback_sends_on_paper(tiny: dict[str, Any]) -> None:
    plan = _plan(tiny)
    days = (date(2015, 3, 4), date(2015, 3, 5), date(2015, 3, 6))  # offline until 7 March
    offline = [d for d in plan if d.sender == "ha-noi" and d.sent_at.date() in days]
    assert offline and all(d.intent is Intent.PAPER for d in offline)
    tiny["faults"]["offline"][0]["fallback"] = "wait"
    waited = [d for d in _plan(tiny) if d.sender == "ha-noi" and d.intent is not Intent.PAPER]
    assert not [d for d in waited if d.sent_at.date() in days]
    # Held until the node is back (Saturday 7 March, 00:00 UTC), then sent.
    assert [d for d in waited if d.sent_at.date() == date(2015, 3, 7)]


def test_altered_share_marks_only_signed_documents(tiny: dict[str, Any]) -> None:
    tiny["faults"] = {"altered": 1.0}
    plan = _plan(tiny)
    assert all(d.altered == (d.intent is Intent.SIGNED) for d in plan)
