"""How a measure's verdict is shown everywhere: ✔ met, ✘ missed, – no data, and its colour."""

from __future__ import annotations

import math
from dataclasses import dataclass

from exchange.metrics import Measure


@dataclass(frozen=True, slots=True)
class Verdict:
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
    """``62.5 %`` or ``no data``; a Measure is rounded down exactly (see Measure.percent)."""
    if isinstance(value, Measure):
        return value.percent(digits)
    return "no data" if value is None else f"{value * 100:.{digits}f} %"


def target_text(target: float | None) -> str:
    return "–" if target is None else f"{target * 100:g} %"


def count_text(measure: Measure) -> str:
    """``5 / 8`` (numerator / denominator) or ``0 / 0``."""
    return f"{measure.numerator:,} / {measure.denominator:,}"


def points(delta: float | None, *, away_from_zero: bool = False) -> str:
    """A change in percentage points: ``+8.1 pts``, ``−2.5 pts``, ``±0.0 pts`` or ``–``.

    With *away_from_zero* a non-zero delta never shows as 0.0 (for gaps to a target: a body
    0.02 points short is still short).
    """
    if delta is None:
        return "–"
    tenths = delta * 1000
    if away_from_zero:
        value = (math.ceil(tenths - 1e-9) if tenths > 0 else math.floor(tenths + 1e-9)) / 10
    else:
        value = round(tenths) / 10
    if value == 0:
        return "±0.0 pts"
    return f"{'+' if value > 0 else '−'}{abs(value):.1f} pts"


def shortfall(gap: float | None) -> str:
    """A body's K1 gap (target − value) shown as value − target: ``−2.8 pts`` when behind."""
    return points(None if gap is None else -gap, away_from_zero=True)
