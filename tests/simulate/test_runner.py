"""The simulator end to end on the tiny scenario: real PKI, real signatures, real hub service.

One full run of ``tiny.toml`` (module fixture) is checked against itself: the measures it
reports are recomputed here by hand from the register it wrote, and each injected fault must
show up as the right refusal. Determinism is checked on a one-week variant run three times.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from exchange.errors import InputError
from exchange.simulate import Scenario, SimulationResult, simulate
from exchange.simulate.outputs import MARKER
from tests.simulate.conftest import TINY, build, tiny_data

OUTPUTS = ("register.csv", "incoming.csv", "refusals.csv", "measures.json", "measures.csv")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(Scenario.from_toml(TINY), tmp_path_factory.mktemp("tiny") / "out", workers=2)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _in_period(text: str, start: date, end: date) -> bool:
    moment = _at(text)
    return datetime.combine(start, datetime.min.time(), UTC) <= moment < datetime.combine(
        end + timedelta(days=1), datetime.min.time(), UTC)


def test_writes_every_output(tiny_run: SimulationResult) -> None:
    out = tiny_run.output
    for name in (*OUTPUTS, "chart.png", MARKER):
        assert (out / name).is_file(), name
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob(".*.part"))


def test_measures_agree_with_the_register(tiny_run: SimulationResult) -> None:
    """K1, K1 verified, K2 and K3 recounted by hand from register.csv and incoming.csv."""
    out, scenario = tiny_run.output, tiny_run.scenario
    measures = json.loads((out / "measures.json").read_text(encoding="utf-8"))
    register = [r for r in _rows(out / "register.csv")
                if _in_period(r["sent_at"], scenario.start, scenario.end)]
    incoming = [r for r in _rows(out / "incoming.csv")
                if _in_period(r["received_at"], scenario.start, scenario.end)]
    assert register and incoming

    passed = [r for r in register if r["channel"] == "signed_valid" and r["delivered"] == "true"]
    verified = [r for r in passed if r["verified_by_recipient"] == "true"]
    assert (measures["k1"]["numerator"], measures["k1"]["denominator"]) == (len(passed), len(register))
    assert measures["k1_verified"]["numerator"] == len(verified)

    # K2: a body is a regular user if it sent a validly signed document in at least half of the
    # ISO weeks that overlap the period.
    weeks = {(scenario.start + timedelta(days=d)).isocalendar()[:2]
             for d in range((scenario.end - scenario.start).days + 1)}
    active: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for r in register:
        if r["channel"] == "signed_valid":
            active[r["sender"]].add(_at(r["sent_at"]).isocalendar()[:2])
    regular = [b for b in active if len(active[b]) >= math.ceil(len(weeks) / 2)]
    assert (measures["k2"]["numerator"], measures["k2"]["denominator"]) == (len(regular), len(scenario.bodies))

    done = [r for r in incoming if r["scanned"] == "true" and r["entered"] == "true"]
    assert (measures["k3"]["numerator"], measures["k3"]["denominator"]) == (len(done), len(incoming))

    # Per month (tiny is all March): the month's K1 and K3 are the same counts.
    (month,) = measures["breakdown"]
    assert month["k1"]["numerator"] == len(passed) and month["k3"]["denominator"] == len(incoming)
    # The counts shown on screen agree with the register's channels.
    counts = measures["simulation"]["counts"]
    assert counts["documents"] == len({r["document_id"] for r in register})
    assert counts["paper"] == len({r["document_id"] for r in register if r["channel"] == "paper"})


def _refusals(result: SimulationResult, kind: str = "document") -> list[dict[str, str]]:
    return [r for r in _rows(result.output / "refusals.csv") if r["kind"] == kind]


def test_altered_documents_are_refused_with_hash_failure(tiny_run: SimulationResult) -> None:
    altered = [r for r in _refusals(tiny_run) if r["sub_indication"] == "HASH_FAILURE"]
    assert altered
    assert all(r["indication"] == "TOTAL_FAILED" and r["code"] == "invalid-signature" for r in altered)
    register = {(r["document_id"], r["channel"]) for r in _rows(tiny_run.output / "register.csv")}
    assert all((r["document_id"], "signed_invalid") in register for r in altered)


def test_revoked_signer_is_refused_until_renewed(tiny_run: SimulationResult) -> None:
    revoked_on, renewed_on = datetime(2015, 3, 9, tzinfo=UTC), datetime(2015, 3, 13, tzinfo=UTC)
    revoked = [r for r in _refusals(tiny_run) if r["sub_indication"] == "REVOKED"]
    assert revoked
    assert {r["sender"] for r in revoked} == {"nghe-an"}
    assert all(revoked_on <= _at(r["at"]) < renewed_on for r in revoked)
    nghe_an = [r for r in _rows(tiny_run.output / "register.csv")
               if r["sender"] == "nghe-an" and r["channel"] == "signed_valid"]
    assert not [r for r in nghe_an if revoked_on <= _at(r["sent_at"]) < renewed_on]
    assert [r for r in nghe_an if _at(r["sent_at"]) >= renewed_on], "the renewed key signs again"


def test_expired_certificate_is_refused_as_expired(tiny_run: SimulationResult) -> None:
    expired_on = datetime(2015, 3, 11, tzinfo=UTC)
    expired = [r for r in _refusals(tiny_run) if r["sub_indication"] == "EXPIRED"]
    assert expired and {r["sender"] for r in expired} == {"da-nang"}
    assert all(_at(r["at"]) >= expired_on - timedelta(minutes=10) for r in expired)
    # Its signed receipts are refused too: da-nang's only key has expired.
    receipts = [r for r in _refusals(tiny_run, "receipt") if r["recipient"] == "da-nang"]
    assert receipts and all(r["sub_indication"] == "EXPIRED" for r in receipts)


def test_outage_delays_and_offline_falls_back_to_paper(tiny_run: SimulationResult) -> None:
    register = _rows(tiny_run.output / "register.csv")
    outage = (datetime(2015, 3, 17, 1, tzinfo=UTC), datetime(2015, 3, 17, 6, tzinfo=UTC))
    electronic = [r for r in register if r["channel"] != "paper"]
    assert not [r for r in electronic if outage[0] <= _at(r["sent_at"]) < outage[1]]
    assert [r for r in electronic if outage[1] <= _at(r["sent_at"]) < outage[1] + timedelta(hours=1)]
    offline = [r for r in register if r["sender"] == "ha-noi"
               and date(2015, 3, 4) <= _at(r["sent_at"]).date() < date(2015, 3, 7)]
    assert offline and all(r["channel"] == "paper" for r in offline)


# -- determinism ----------------------------------------------------------------------------

def _week(seed: int) -> Scenario:
    """tiny over a week (revocation on Monday 9 March, renewal on Friday 13 March)."""
    data = tiny_data()
    data["seed"] = seed
    data["period"] = {"start": date(2015, 3, 6), "end": date(2015, 3, 13)}
    data["faults"] = {"altered": 0.1, "revoked": data["faults"]["revoked"]}
    return build(data)


@pytest.fixture(scope="module")
def week_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("week")
    runs = {"seed7-2workers": (7, 2), "seed7-inline": (7, 0), "seed8": (8, 2)}
    return {name: simulate(_week(seed), base / name, workers=workers).output
            for name, (seed, workers) in runs.items()}


def test_same_seed_gives_identical_files_whatever_the_workers(week_runs: dict[str, Path]) -> None:
    for name in OUTPUTS:
        assert (week_runs["seed7-2workers"] / name).read_bytes() == (week_runs["seed7-inline"] / name).read_bytes(), name


def test_another_seed_gives_other_results(week_runs: dict[str, Path]) -> None:
    for name in ("register.csv", "measures.json"):
        assert (week_runs["seed7-2workers"] / name).read_bytes() != (week_runs["seed8"] / name).read_bytes()


def test_a_rerun_replaces_its_own_output(tmp_path: Path) -> None:
    data: dict[str, Any] = tiny_data()
    data["bodies"] = ["central-office", "ha-noi"]
    data["period"] = {"start": date(2015, 3, 2), "end": date(2015, 3, 3)}
    data["faults"] = {}
    scenario = build(data)
    first = simulate(scenario, tmp_path / "out", workers=0)
    before = first.files.register.read_bytes()
    again = simulate(scenario, tmp_path / "out", workers=0)
    assert again.files.register.read_bytes() == before


def test_output_that_is_not_a_simulation_is_refused(tmp_path: Path) -> None:
    scenario = Scenario.from_toml(TINY)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious", encoding="utf-8")
    with pytest.raises(InputError, match="not empty and is not a simulation's output"):
        simulate(scenario, tmp_path / "mine", workers=0)
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="is not a folder"):
        simulate(scenario, tmp_path / "file", workers=0)
    assert (tmp_path / "mine" / "thesis.tex").read_text(encoding="utf-8") == "precious"
