"""How a measure's verdict is shown everywhere: ✔ met, ✘ missed, – no data, and its colour."""

from __future__ import annotations

from dataclasses import dataclass

from exchange.metrics import Measure
from exchange.metrics.rounding import points_text, shown_units, units_text


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a measure is shown against its target: a mark (✔ ✘ – ·), a word (met, missed, no data, no
    target) and a colour."""

    mark: str  # ✔ ✘ – (or · when there is no target)
    word: str  # met / missed / no data / no target
    colour: str  # a rich colour name; also used as a CSS class


MET = Verdict("✔", "met", "green")
MISSED = Verdict("✘", "missed", "red")
NO_DATA = Verdict("–", "no data", "yellow")
NO_TARGET = Verdict("·", "no target", "white")


def verdict(measure: Measure) -> Verdict:
    """The verdict of *measure* against its target."""
    if measure.value is None:
        return NO_DATA
    if measure.met is None:
        return NO_TARGET
    return MET if measure.met else MISSED


def percent(value: Measure | float | None, digits: int = 1) -> str:
    """``62.5 %`` or ``no data``; a Measure by the one rounding rule (``exchange.metrics.rounding``)."""
    if isinstance(value, Measure):
        return value.percent(digits)
    if value is None:
        return "no data"
    return units_text(shown_units(round(value * 10**9), 10**9, digits=digits), digits)


def target_text(target: float | None) -> str:
    """A target as people read it (``60 %``), or ``–`` when there is none."""
    return "–" if target is None else f"{target * 100:g} %"


def count_text(measure: Measure) -> str:
    """``5 / 8`` (numerator / denominator) or ``0 / 0``."""
    return f"{measure.numerator:,} / {measure.denominator:,}"


def points(units: int | None) -> str:
    """A difference between two shown figures, in tenths of a point: ``+8.1 pts``, ``−2.5 pts``,
    ``±0.0 pts`` or ``–``."""
    return points_text(units)


def shortfall(measure: Measure) -> str:
    """A body's K1 against its target, shown figure minus target: ``−2.8 pts`` when behind."""
    return points_text(measure.points_from_target())
