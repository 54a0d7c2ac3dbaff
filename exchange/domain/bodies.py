"""The bodies that exchange documents: central Party bodies and provincial committees.

Bodies are data, read from a TOML file (``samples/bodies.toml`` by default); nothing in the
code lists them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from exchange.domain.tomlfile import read_toml
from exchange.errors import BodiesFileError, UnknownBodyError

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_ORGAN_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.]{0,34}$")  # QCVN 102 organ ids: at most 35 characters


class BodyKind(StrEnum):
    """Whether a body is one of the 17 central Party bodies or one of the 63 provincial committees
    (the measures break down by it)."""

    CENTRAL = "central"
    PROVINCIAL = "provincial"


@dataclass(frozen=True, slots=True)
class Body:
    """One exchanging body: a stable ASCII id, its Vietnamese and English names, its kind."""

    id: str
    kind: BodyKind
    name_vi: str
    name_en: str
    population_millions: float | None = None
    organ_id: str = ""  # edXML organ id (mã định danh, QCVN 102:2016), e.g. 000.00.00.A41

    @property
    def name(self) -> str:
        """The body's name as documents and pages give it: the Vietnamese one."""
        return self.name_vi


class BodyRegistry:
    """An ordered, validated set of bodies, looked up by id."""

    def __init__(self, bodies: list[Body], *, source: str = "<memory>") -> None:
        self.source = source
        self._by_id: dict[str, Body] = {}
        for body in bodies:
            if body.id in self._by_id:
                raise BodiesFileError(f"{source}: duplicate body id {body.id!r}")
            self._by_id[body.id] = body

    @classmethod
    def from_toml(cls, path: str | Path) -> BodyRegistry:
        """Read ``[[body]]`` tables from *path*; raises BodiesFileError naming the bad field."""
        path = Path(path)
        data = read_toml(path, what="bodies file", error=BodiesFileError)
        tables = data.get("body")
        if not isinstance(tables, list) or not tables:
            raise BodiesFileError(f"{path}: expected one or more [[body]] tables")
        return cls([_parse_body(t, i, path) for i, t in enumerate(tables, 1)], source=str(path))

    def get(self, body_id: str) -> Body:
        """The body with *body_id*; raises UnknownBodyError with a readable message."""
        try:
            return self._by_id[body_id]
        except KeyError:
            raise UnknownBodyError(
                f"unknown body id {body_id!r} (see {self.source} for the {len(self)} known ids)"
            ) from None

    def __contains__(self, body_id: object) -> bool:
        return body_id in self._by_id

    def __iter__(self) -> Iterator[Body]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def by_organ_id(self, organ_id: str) -> Body | None:
        """The body whose edXML organ id is *organ_id*, or None (an outside agency)."""
        wanted = organ_id.strip()
        return next((b for b in self if b.organ_id and b.organ_id == wanted), None)

    def ids(self) -> list[str]:
        """Every body's id, in the file's order."""
        return list(self._by_id)

    def of_kind(self, kind: BodyKind) -> list[Body]:
        """The bodies of *kind*, in the file's order."""
        return [b for b in self if b.kind is kind]

    def to_toml(self, *, comment: str = "") -> str:
        """The bodies as a ``[[body]]`` file that :meth:`from_toml` reads back."""
        lines = [f"# {line}" for line in comment.splitlines()] + ([""] if comment else [])
        for body in self:
            # JSON strings are valid TOML basic strings
            lines += ["[[body]]", f"id = {json.dumps(body.id)}", f"kind = {json.dumps(body.kind.value)}",
                      f"name_vi = {json.dumps(body.name_vi, ensure_ascii=False)}",
                      f"name_en = {json.dumps(body.name_en, ensure_ascii=False)}"]
            if body.population_millions is not None:
                lines.append(f"population_millions = {body.population_millions!r}")
            if body.organ_id:
                lines.append(f"organ_id = {json.dumps(body.organ_id)}")
            lines.append("")
        return "\n".join(lines)


def _parse_body(table: object, index: int, path: Path) -> Body:
    where = f"{path}: body #{index}"
    if not isinstance(table, dict):
        raise BodiesFileError(f"{where}: expected a table")

    def text(field: str) -> str:
        value = table.get(field)
        if not isinstance(value, str) or not value.strip():
            raise BodiesFileError(f"{where}: field {field!r} must be a non-empty string")
        return unicodedata.normalize("NFC", value.strip())

    body_id = text("id")
    if not _ID.match(body_id):
        raise BodiesFileError(
            f"{where}: field 'id' {body_id!r} must be lowercase ASCII letters, digits, hyphens"
        )
    try:
        kind = BodyKind(text("kind"))
    except ValueError:
        raise BodiesFileError(f"{where} ({body_id}): field 'kind' must be central or provincial") from None
    population = table.get("population_millions")
    if population is not None and (
        isinstance(population, bool) or not isinstance(population, int | float) or population <= 0
    ):
        raise BodiesFileError(f"{where} ({body_id}): field 'population_millions' must be > 0")
    organ_id = table.get("organ_id", "")
    if not isinstance(organ_id, str) or (organ_id and not _ORGAN_ID.match(organ_id.strip())):
        raise BodiesFileError(f"{where} ({body_id}): field 'organ_id' must look like 000.00.00.A41 "
                              "(an edXML organ id)")
    return Body(
        organ_id=organ_id.strip(),
        id=body_id,
        kind=kind,
        name_vi=text("name_vi"),
        name_en=text("name_en"),
        population_millions=float(population) if population is not None else None,
    )
