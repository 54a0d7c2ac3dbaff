"""Target profiles: the level each measure must reach, and the rule for "regular use" (K2).

Two profiles are built in:

``2015``
    Decision 260-QĐ/TW, section A.I: 60 % for K1, K2 and K3.
``2020``
    Section A.II, the orientation for 2020: "hầu hết các giao dịch giữa các cơ quan đảng
    được thực hiện trên môi trường mạng máy tính" (almost all transactions between Party
    bodies happen on the network). The decision gives no number; **95 % is our reading** of
    "almost all", applied to all three measures.

Any other profile is a TOML file (see :meth:`TargetProfile.from_toml`)::

    name = "pilot-2016"
    description = "Targets agreed with the pilot provinces"
    [targets]          # fractions of 1: 0.6 means 60 %
    k1 = 0.7
    k2 = 0.6
    k3 = 0.5
    [regular_use]      # optional; these are the defaults
    min_week_share = 0.5
    min_weekly_documents = 1
    count_receipts = false
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exchange.domain.tomlfile import read_toml
from exchange.errors import InputError, InputFileError

MEASURE_NAMES = ("k1", "k2", "k3")


@dataclass(frozen=True, slots=True)
class RegularUseRule:
    """When a body counts as *regularly* using digital signatures in a period (K2).

    A week of the period is *active* for a body if the body sent at least
    ``min_weekly_documents`` distinct documents with a valid signature (channel
    ``signed_valid``) in it; with ``count_receipts`` a signed receipt the body returned also
    makes the week active. The body is a regular user if its active weeks are at least
    ``min_week_share`` of the ISO weeks the period overlaps (exactly that share is enough).
    """

    min_week_share: float = 0.5
    min_weekly_documents: int = 1
    count_receipts: bool = False

    def __post_init__(self) -> None:
        share = self.min_week_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
            raise InputError(
                f"regular_use.min_week_share must be a fraction in (0, 1], not {share!r}")
        docs = self.min_weekly_documents
        if isinstance(docs, bool) or not isinstance(docs, int) or docs < 1:
            raise InputError(
                f"regular_use.min_weekly_documents must be a whole number >= 1, not {docs!r}")
        if not isinstance(self.count_receipts, bool):
            raise InputError(f"regular_use.count_receipts must be true or false, "
                             f"not {self.count_receipts!r}")

    def describe(self) -> str:
        """The rule in one plain sentence, for reports."""
        docs = ("at least one document" if self.min_weekly_documents == 1
                else f"at least {self.min_weekly_documents} documents")
        receipts = " or returned a signed receipt" if self.count_receipts else ""
        return (f"a body is a regular user if it sent {docs} with a valid digital signature"
                f"{receipts} in at least {self.min_week_share * 100:g} % of the weeks of the "
                "period")

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON-able data (its three settings)."""
        return {"min_week_share": self.min_week_share,
                "min_weekly_documents": self.min_weekly_documents,
                "count_receipts": self.count_receipts}


@dataclass(frozen=True, slots=True)
class TargetProfile:
    """Targets for K1, K2, K3 as fractions of 1, plus the K2 regular-use rule."""

    name: str
    k1: float
    k2: float
    k3: float
    regular_use: RegularUseRule = field(default_factory=RegularUseRule)
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError("a target profile needs a non-empty name")
        for measure in MEASURE_NAMES:
            value = getattr(self, measure)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not 0 <= value <= 1:
                hint = " (targets are fractions: 0.6 means 60 %)" if number else ""
                raise InputError(f"target profile {self.name!r}: {measure} must be between "
                                 f"0 and 1, not {value!r}{hint}")
            object.__setattr__(self, measure, float(value))

    @classmethod
    def builtin(cls, name: str) -> TargetProfile:
        """One of the built-in profiles (``2015``, ``2020``); raises InputError otherwise."""
        try:
            return BUILTIN_PROFILES[str(name).strip()]
        except KeyError:
            known = ", ".join(BUILTIN_PROFILES)
            raise InputError(f"unknown target profile {name!r}; built in: {known}, "
                             "or give the path of a TOML file") from None

    @classmethod
    def load(cls, name_or_path: str | Path) -> TargetProfile:
        """A built-in profile by name, else a TOML file at that path."""
        if isinstance(name_or_path, str) and name_or_path.strip() in BUILTIN_PROFILES:
            return BUILTIN_PROFILES[name_or_path.strip()]
        path = Path(name_or_path)
        if path.suffix.lower() == ".toml" or path.exists():
            return cls.from_toml(path)
        return cls.builtin(str(name_or_path))

    @classmethod
    def from_toml(cls, path: str | Path) -> TargetProfile:
        """Read a profile from a TOML file (format in the module docstring).

        Raises InputFileError if the file cannot be read, InputError naming a bad field.
        """
        path = Path(path)
        data = read_toml(path, what="target profile file", error=InputFileError)
        targets = data.get("targets")
        if not isinstance(targets, dict):
            raise InputError(f"{path}: expected a [targets] table with k1, k2 and k3")
        missing = [m for m in MEASURE_NAMES if m not in targets]
        if missing:
            raise InputError(f"{path}: [targets] is missing {', '.join(missing)}")
        rule_table = data.get("regular_use", {})
        if not isinstance(rule_table, dict):
            raise InputError(f"{path}: [regular_use] must be a table")
        unknown = set(rule_table) - set(RegularUseRule.__dataclass_fields__)
        if unknown:
            raise InputError(f"{path}: unknown [regular_use] field(s) {', '.join(sorted(unknown))}")
        try:
            return cls(
                name=str(data.get("name") or path.stem),
                k1=targets["k1"],
                k2=targets["k2"],
                k3=targets["k3"],
                regular_use=RegularUseRule(**rule_table),
                description=str(data.get("description", "")),
            )
        except InputError as exc:
            raise InputError(f"{path}: {exc.message}") from None

    def target(self, measure: str) -> float:
        """The target of ``k1``, ``k2`` or ``k3`` (``k1_verified`` shares K1's)."""
        key = "k1" if measure == "k1_verified" else measure
        if key not in MEASURE_NAMES:
            raise InputError(f"unknown measure {measure!r}; one of k1, k1_verified, k2, k3")
        return float(getattr(self, key))

    def to_dict(self) -> dict[str, Any]:
        """The profile as JSON-able data: name, description, K1–K3 targets and the regular-use rule."""
        return {"name": self.name, "description": self.description,
                "k1": self.k1, "k2": self.k2, "k3": self.k3,
                "regular_use": self.regular_use.to_dict()}


BUILTIN_PROFILES: dict[str, TargetProfile] = {
    "2015": TargetProfile(
        name="2015", k1=0.60, k2=0.60, k3=0.60,
        description="Decision 260-QĐ/TW, section A.I: the 2015 targets (60 % each)",
    ),
    "2020": TargetProfile(
        name="2020", k1=0.95, k2=0.95, k3=0.95,
        description=("Decision 260-QĐ/TW, section A.II: 'almost all' transactions on the "
                     "network by 2020; 95 % is this project's reading, not a figure of the "
                     "decision"),
    ),
}
