"""``exchange simulate`` as a user runs it: bad input is one line on stderr, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.simulate.conftest import TINY, run_cli


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = TINY.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "variant.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _fails_with_one_line(result: object, *needles: str) -> None:
    assert result.returncode == 2, result.stderr  # type: ignore[attr-defined]
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in result.stderr  # type: ignore[attr-defined]
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize(("old", "new", "needles"), [
    ("end = 0.95, curve = \"logistic\"", "end = 1.5, curve = \"logistic\"",
     ("variant.toml", "adoption.all.signing.end", "between 0 and 1")),
    ('"da-nang"]', '"atlantis"]', ("bodies", "unknown body id 'atlantis'")),
    ("seed = 7", "seed = = 7", ("not valid TOML",)),
    ('fallback = "paper"', 'fallback = "pigeon"', ("faults.offline[1].fallback",)),
])
def test_bad_scenario_field(tmp_path: Path, old: str, new: str, needles: tuple[str, ...]) -> None:
    _fails_with_one_line(run_cli("simulate", _variant(tmp_path, old, new), cwd=tmp_path), *needles)


def test_missing_file_bad_seed_and_output_that_is_a_file(tmp_path: Path) -> None:
    _fails_with_one_line(run_cli("simulate", "nowhere.toml", cwd=tmp_path), "scenario file not found")
    _fails_with_one_line(run_cli("simulate", TINY, "--seed", "abc", cwd=tmp_path), "--seed", "'abc'")
    _fails_with_one_line(run_cli("simulate", TINY, "--seed", "-4", cwd=tmp_path), "--seed")
    (tmp_path / "taken").write_text("x", encoding="utf-8")
    _fails_with_one_line(run_cli("simulate", TINY, "--output", "taken", cwd=tmp_path),
                         "taken exists and is not a folder")


def test_runs_a_short_scenario(tmp_path: Path) -> None:
    short = _variant(tmp_path, "end = 2015-03-20", "end = 2015-03-03")
    short.write_text(short.read_text(encoding="utf-8").split("[faults]")[0], encoding="utf-8")
    result = run_cli("simulate", short, "--seed", "11", "--output", "out", "--workers", "0", "--json",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["simulation"]["seed"] == 11 and data["simulation"]["scenario"] == "tiny"
    assert data["k1"]["denominator"] > 0
    assert (tmp_path / "out" / "register.csv").is_file() and (tmp_path / "out" / "chart.png").is_file()
    shown = run_cli("simulate", short, "--output", "out", "--workers", "0", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "By month" in shown.stdout and "First month each target was met" in shown.stdout
