"""Target profiles: the two built-ins, custom TOML files, and the regular-use rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.errors import InputError, InputFileError
from exchange.metrics import BUILTIN_PROFILES, RegularUseRule, TargetProfile


def test_builtin_2015_is_sixty_percent_each() -> None:
    profile = TargetProfile.builtin("2015")
    assert (profile.k1, profile.k2, profile.k3) == (0.6, 0.6, 0.6)
    assert profile.regular_use == RegularUseRule()  # half the weeks, 1 document, no receipts


def test_builtin_2020_is_our_documented_reading_of_almost_all() -> None:
    profile = TargetProfile.builtin("2020")
    assert (profile.k1, profile.k2, profile.k3) == (0.95, 0.95, 0.95)
    assert "reading" in profile.description


def test_unknown_builtin_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="2015, 2020"):
        TargetProfile.builtin("2030")


def test_custom_profile_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "pilot.toml"
    path.write_text(
        'name = "pilot"\n[targets]\nk1 = 0.7\nk2 = 0.5\nk3 = 0.4\n'
        "[regular_use]\nmin_week_share = 0.75\nmin_weekly_documents = 2\ncount_receipts = true\n",
        encoding="utf-8")
    profile = TargetProfile.load(path)
    assert (profile.name, profile.k1, profile.k2, profile.k3) == ("pilot", 0.7, 0.5, 0.4)
    assert profile.regular_use == RegularUseRule(0.75, 2, True)
    assert TargetProfile.load("2015") is BUILTIN_PROFILES["2015"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[targets]\nk1 = 0.6\nk3 = 0.6\n", "missing k2"),
        ("[targets]\nk1 = 60\nk2 = 0.6\nk3 = 0.6\n", "0.6 means 60 %"),
        ("[targets]\nk1 = 0.6\nk2 = 0.6\nk3 = 0.6\n[regular_use]\nweeks = 3\n", "unknown"),
        ("[targets]\nk1 = 0.6\nk2 = 0.6\nk3 = 0.6\n[regular_use]\nmin_week_share = 0\n",
         "min_week_share"),
        ("name = 'x'\n", "[targets]"),
    ],
)
def test_bad_profile_names_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        TargetProfile.from_toml(path)


def test_missing_or_broken_file_is_an_input_file_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not found"):
        TargetProfile.from_toml(tmp_path / "none.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[targets\n", encoding="utf-8")
    with pytest.raises(InputFileError):
        TargetProfile.from_toml(broken)


def test_rule_describes_itself_in_words() -> None:
    assert RegularUseRule().describe() == (
        "a body is a regular user if it sent at least one document with a valid digital "
        "signature in at least 50 % of the weeks of the period")
    assert "signed receipt" in RegularUseRule(count_receipts=True).describe()
