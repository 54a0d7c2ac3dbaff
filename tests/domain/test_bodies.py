"""The bodies registry: the 80 bodies of the sample file, and what a malformed file says."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

import pytest

from exchange.domain import Body, BodyKind, BodyRegistry
from exchange.errors import BodiesFileError, UnknownBodyError

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import TestPKI

GOOD = """
[[body]]
id = "ha-noi"
kind = "provincial"
name_vi = "Thành ủy Hà Nội"
name_en = "Ha Noi City Party Committee"
population_millions = 7.2
"""


@pytest.fixture(scope="module")
def registry(samples_dir: Path) -> BodyRegistry:
    return BodyRegistry.from_toml(samples_dir / "bodies.toml")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bodies.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the sample file -------------------------------------------------------------------------


def test_sample_has_the_80_bodies_of_the_programme(registry: BodyRegistry) -> None:
    assert len(registry) == 80
    assert len(registry.of_kind(BodyKind.CENTRAL)) == 17
    assert len(registry.of_kind(BodyKind.PROVINCIAL)) == 63


def test_sample_ids_are_unique_lowercase_ascii(registry: BodyRegistry) -> None:
    ids = registry.ids()
    assert len(set(ids)) == len(ids) == 80
    for body_id in ids:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", body_id), body_id


def test_sample_names_are_vietnamese_with_diacritics_in_nfc(registry: BodyRegistry) -> None:
    for body in registry:
        assert unicodedata.is_normalized("NFC", body.name_vi), body.id
        assert not body.name_vi.isascii(), body.id
        assert body.name_en.isascii() and body.name_en, body.id
    assert "Hà Nội" in registry.get("ha-noi").name_vi
    assert registry.get("central-office").name == "Văn phòng Trung ương Đảng"


def test_sample_lookup(registry: BodyRegistry) -> None:
    body = registry.get("nghe-an")
    assert body == Body(
        "nghe-an", BodyKind.PROVINCIAL, body.name_vi, body.name_en, body.population_millions,
        organ_id="000.00.00.A41",
    )
    assert body.kind is BodyKind.PROVINCIAL
    assert "nghe-an" in registry and "atlantis" not in registry
    assert registry.ids()[0] == "central-office"  # file order is kept


def test_every_body_has_a_distinct_edxml_organ_id(registry: BodyRegistry) -> None:
    ids = [b.organ_id for b in registry]
    assert all(ids) and len(set(ids)) == len(ids) == 80
    assert registry.by_organ_id("000.00.00.A41").id == "nghe-an"  # Nghệ An is H41 among the state codes
    assert registry.by_organ_id("000.00.00.G12") is None  # an outside agency


def test_the_test_pki_bodies_file_is_a_valid_subset(pki: TestPKI, registry: BodyRegistry) -> None:
    for body in pki.bodies:
        if body.id != "revoked-body":
            assert registry.get(body.id) == body


# -- reading a file --------------------------------------------------------------------------


def test_a_good_file(tmp_path: Path) -> None:
    registry = BodyRegistry.from_toml(_write(tmp_path, GOOD))
    (body,) = registry
    assert body.population_millions == 7.2
    assert registry.source == str(tmp_path / "bodies.toml")


def test_names_are_normalized_to_nfc(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "Thành ủy Hà Nội")
    registry = BodyRegistry.from_toml(_write(tmp_path, GOOD.replace("Thành ủy Hà Nội", decomposed)))
    assert registry.get("ha-noi").name_vi == unicodedata.normalize("NFC", decomposed)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('id = "ha-noi"', 'id = "Hà-Nội"', r"field 'id' 'Hà-Nội' must be lowercase ASCII"),
        ('id = "ha-noi"', 'id = "ha_noi"', r"field 'id'"),
        ('id = "ha-noi"', 'id = ""', r"field 'id' must be a non-empty string"),
        (
            'name_en = "Ha Noi City Party Committee"',
            "",
            r"field 'name_en' must be a non-empty string",
        ),
        ('name_vi = "Thành ủy Hà Nội"', "name_vi = 42", r"field 'name_vi'"),
        ('kind = "provincial"', 'kind = "federal"', r"field 'kind' must be central or provincial"),
        ("population_millions = 7.2", "population_millions = -1", r"field 'population_millions'"),
        ("population_millions = 7.2", "population_millions = true", r"field 'population_millions'"),
    ],
)
def test_a_bad_field_is_named(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD
    with pytest.raises(BodiesFileError, match=message):
        BodyRegistry.from_toml(_write(tmp_path, GOOD.replace(old, new)))


def test_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BodiesFileError, match="duplicate body id 'ha-noi'"):
        BodyRegistry.from_toml(_write(tmp_path, GOOD + GOOD))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[body]\nid = ", "cannot read bodies file"),
        ("", "expected one or more"),
        ('title = "no bodies"\n', "expected one or more"),
        ("body = 3\n", "expected one or more"),
        ('[body]\nid = "ha-noi"\n', "expected one or more"),
        ("body = [1, 2]\n", "body #1: expected a table"),
    ],
)
def test_not_a_bodies_file(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(BodiesFileError, match=message):
        BodyRegistry.from_toml(_write(tmp_path, text))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bodies.toml"
    path.write_bytes(GOOD.encode("utf-16"))
    with pytest.raises(BodiesFileError, match="cannot read"):
        BodyRegistry.from_toml(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(BodiesFileError, match="not found"):
        BodyRegistry.from_toml(tmp_path / "missing.toml")
    with pytest.raises(BodiesFileError, match="cannot read"):
        BodyRegistry.from_toml(tmp_path)


def test_an_unknown_id_is_one_readable_error(registry: BodyRegistry) -> None:
    with pytest.raises(
        UnknownBodyError,
        match=r"unknown body id 'atlantis' \(see .*bodies.toml for the 80 known ids\)",
    ):
        registry.get("atlantis")
    assert UnknownBodyError.code == "unknown-body"
