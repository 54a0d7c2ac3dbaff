"""Scenario files: the shipped ones parse; every bad field is named in the error."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from exchange.domain.bodies import BodyKind
from exchange.errors import InputError
from exchange.simulate import Scenario, ScenarioError
from tests.simulate.conftest import SCENARIOS, TINY, build

SHIPPED = ("baseline-2014", "target-2015", "lagging-provinces", "orientation-2020", "tiny")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_parse(name: str) -> None:
    scenario = Scenario.from_toml(SCENARIOS / f"{name}.toml")
    assert scenario.name == name
    assert scenario.documents, "sample documents are what gets signed"
    assert all(p.parent.name == "documents" for p in scenario.documents)


def test_full_scenarios_have_all_80_bodies() -> None:
    for name in ("baseline-2014", "target-2015", "lagging-provinces", "orientation-2020"):
        scenario = Scenario.from_toml(SCENARIOS / f"{name}.toml")
        kinds = [b.kind for b in scenario.bodies]
        assert (kinds.count(BodyKind.CENTRAL), kinds.count(BodyKind.PROVINCIAL)) == (17, 63)


def test_lagging_provinces_override_wins_over_its_group() -> None:
    scenario = Scenario.from_toml(SCENARIOS / "lagging-provinces.toml")
    late = scenario.adoption["lai-chau"].electronic
    usual = scenario.adoption["nghe-an"].electronic
    assert late.end < 0.5 < usual.end


def test_population_rule_scales_volume() -> None:
    scenario = Scenario.from_toml(SCENARIOS / "target-2015.toml")
    volume, registry = scenario.volume, scenario.registry
    assert volume.factor(registry.get("lai-chau")) == 0.7  # 0.4 M people
    assert volume.factor(registry.get("tp-ho-chi-minh")) == 1.3  # > 1.5 M
    assert volume.factor(registry.get("central-office")) == 1.5  # central_factor
    medium = [b for b in registry.of_kind(BodyKind.PROVINCIAL)
              if b.population_millions is not None and 1.0 <= b.population_millions <= 1.5]
    assert medium and all(volume.factor(b) == 1.0 for b in medium)


def test_restricted_and_with_seed() -> None:
    scenario = Scenario.from_toml(TINY)
    two = scenario.restricted(["central-office", "nghe-an"])
    assert [b.id for b in two.bodies] == ["central-office", "nghe-an"]
    assert [f.body for f in two.faults.revoked] == ["nghe-an"] and two.faults.expired == ()
    assert scenario.with_seed(None) is scenario
    assert scenario.with_seed(99).seed == 99
    with pytest.raises(ScenarioError, match="seed"):
        scenario.with_seed(-1)


def _set(data: dict[str, Any], dotted: str, value: object) -> dict[str, Any]:
    *parents, last = dotted.split(".")
    table = data
    for key in parents:
        table = table[int(key)] if isinstance(table, list) else table[key]
    table[last] = value
    return data


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("adoption.all.signing.end", 1.5, "adoption.all.signing.end: must be between 0 and 1"),
    ("adoption.all.scanning.curve", "cubic", "adoption.all.scanning.curve: must be linear, logistic or step"),
    ("bodies", ["central-office", "atlantis"], "bodies: unknown body id 'atlantis'"),
    ("seed", "seven", "seed: must be a whole number >= 0"),
    ("seed", -3, "seed: must be a whole number >= 0"),
    ("period.end", date(2015, 3, 1), "period.end: 2015-03-01 is before period.start"),
    ("volume.documents_per_day", -1, "volume.documents_per_day: must be between 0 and 1000"),
    ("receipts.delay_hours", [5, 1], "receipts.delay_hours: must be [min, max] hours"),
    ("faults.altered", 2, "faults.altered: must be between 0 and 1, not 2 (a fraction"),
    ("faults.revoked.0.body", "hai-phong", "faults.revoked[1].body: 'hai-phong' is not among"),
    ("faults.offline.0.fallback", "pigeon", "faults.offline[1].fallback: must be wait or paper"),
    ("faults.expired.0.on", date(2016, 1, 1), "faults.expired[1].on: must be after period.start"),
    ("targets", "2030", "targets:"),
    ("volume.colour", "blue", "volume.colour: unknown field"),
])
def test_bad_field_is_named(tiny: dict[str, Any], field: str, value: object, expected: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        build(_set(tiny, field, value))
    message = str(caught.value)
    assert message.startswith("test.toml: ")
    assert expected in message
    assert isinstance(caught.value, InputError) and "\n" not in message


def test_missing_required_fields(tiny: dict[str, Any]) -> None:
    for key, expected in (("seed", "seed: missing"), ("period", "period: missing"),
                          ("adoption", "adoption: missing"), ("volume", "volume: missing")):
        data = dict(tiny)
        del data[key]
        with pytest.raises(ScenarioError, match=expected):
            build(data)


def test_practice_missing_for_a_kind(tiny: dict[str, Any]) -> None:
    del tiny["adoption"]["all"]["scanning"]
    with pytest.raises(ScenarioError, match=r"adoption\.(central|provincial)\.scanning: missing for"):
        build(tiny)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="scenario file not found"):
        Scenario.from_toml(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\nseed = = 3\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="bad.toml: not valid TOML"):
        Scenario.from_toml(bad)
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        Scenario.from_toml(tmp_path)
