"""The register knows its bodies: ``report --db`` on a simulation's output gives the simulation's K2.

The recount is by hand from ``register.csv``: a body is a regular user in a period if it sent a
``signed_valid`` document in at least half of the ISO weeks overlapping it; K2's denominator
is the number of bodies the scenario names (six in tiny.toml), not the 80 of the sample file.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from tests.simulate.conftest import REPO, TINY, run_cli


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sim")
    short = folder / "short.toml"
    text = TINY.read_text(encoding="utf-8").replace("end = 2015-03-20", "end = 2015-03-16", 1)
    text = text.replace("documents_per_day = 2.0", "documents_per_day = 0.3", 1)  # some bodies fall short
    short.write_text(text.split("[faults]")[0], encoding="utf-8")
    result = run_cli("simulate", short, "--seed", "3", "--output", "out", "--workers", "0", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "out"


def _recount_k2(register: Path, bodies: int, first: date, last: date) -> tuple[int, int]:
    weeks = set()
    day = first
    while day <= last:
        weeks.add(day.isocalendar()[:2])
        day += timedelta(days=1)
    active: dict[str, set[tuple[int, int]]] = {}
    with register.open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            sent = datetime.fromisoformat(row["sent_at"].replace("Z", "+00:00")).date()
            if row["channel"] == "signed_valid" and first <= sent <= last and row["sender"] != row["recipient"]:
                active.setdefault(row["sender"], set()).add(sent.isocalendar()[:2])
    need = math.ceil(len(weeks) / 2)
    return sum(1 for w in active.values() if len(w & weeks) >= need), bodies


def test_report_on_a_simulations_database_gives_the_simulations_k2(simulated: Path) -> None:
    measures = json.loads((simulated / "measures.json").read_text(encoding="utf-8"))
    label = measures["period"]["label"]
    # the simulation's own figure, and the same by hand: six bodies, not eighty
    regular, bodies = _recount_k2(simulated / "register.csv", 6, date(2015, 3, 2), date(2015, 3, 16))
    assert (measures["k2"]["numerator"], measures["k2"]["denominator"]) == (regular, bodies)
    assert 0 < regular < bodies  # a figure that can tell a wrong denominator or rule apart
    assert "nghe-an" in (simulated / "bodies.toml").read_text(encoding="utf-8")

    # report --db reads the list the register recorded, whatever bodies file is at hand
    done = run_cli("report", "--db", f"sqlite:///{simulated / 'hub' / 'hub.db'}", "--period", label, "--json",
                   cwd=simulated.parent)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["k2"] == measures["k2"]
    assert figures["k1"] == measures["k1"] and figures["k3"] == measures["k3"]
    assert done.stderr == ""

    by_body = run_cli("report", "--db", f"sqlite:///{simulated / 'hub' / 'hub.db'}", "--period", label,
                      "--by", "body", "--json", cwd=simulated.parent)
    assert len(json.loads(by_body.stdout)["breakdown"]) == 6


def test_an_explicit_bodies_file_that_disagrees_is_reported(simulated: Path) -> None:
    measures = json.loads((simulated / "measures.json").read_text(encoding="utf-8"))
    done = run_cli("report", "--db", f"sqlite:///{simulated / 'hub' / 'hub.db'}", "--period",
                   measures["period"]["label"], "--json", "--bodies", REPO / "samples" / "bodies.toml",
                   cwd=simulated.parent)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["k2"]["denominator"] == 80  # used, as asked …
    note = done.stderr.strip()
    assert note.startswith("note: the bodies file") and "(80 bodies)" in note  # … and said so
    assert "(6 bodies)" in note and "74 the register did not serve" in note
    # the register's own file agrees: nothing to report
    same = run_cli("report", "--db", f"sqlite:///{simulated / 'hub' / 'hub.db'}", "--period",
                   measures["period"]["label"], "--json", "--bodies", simulated / "bodies.toml",
                   cwd=simulated.parent)
    assert same.returncode == 0 and same.stderr == ""
