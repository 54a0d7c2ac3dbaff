"""The one rounding rule every figure is shown with (terminal, CSV, pages, charts, reports).

A percentage is shown to one decimal, **rounded to the nearest tenth (halves up), except that
a figure never crosses its target against its verdict**: a missed target is rounded down (so
59.96 % shows as 59.9 %, never as "60.0 %"), and a met target whose nearest tenth would fall
below the target is rounded up. With the programme's targets (60 %, 95 %: whole tenths) only
the first case can happen. Everything is computed on the exact fraction, never on a float.

Differences in percentage points (a gap to the target, a change since the previous period) are
taken between the *shown* figures, so a reader who subtracts the printed numbers gets the
printed difference: 60.9 % against a 60 % target is "+0.9 pts".
"""

from __future__ import annotations

from fractions import Fraction
from math import ceil, floor


def _exact(value: Fraction | float) -> Fraction:
    return value if isinstance(value, Fraction) else Fraction(repr(float(value)))


def shown_units(numerator: int, denominator: int, *, target: float | None = None,
                met: bool | None = None, digits: int = 1) -> int:
    """The shown percentage in units of ``10**-digits`` %: ``shown_units(14, 23) == 609``.

    *met* (with *target*) applies the verdict guard described in the module's docstring.
    Raises ZeroDivisionError for a zero *denominator* (a measure without data shows no figure).
    """
    scale = 100 * 10**digits
    exact = Fraction(numerator * scale, denominator)
    nearest = floor(exact + Fraction(1, 2))
    if target is None or met is None:
        return nearest
    line = _exact(target) * scale
    if met and nearest < line:
        return ceil(exact)  # exact >= line, so the figure stays on the target's side
    if not met and nearest >= line:
        return floor(exact)  # exact < line, so the figure stays below the target
    return nearest


def units_text(units: int, digits: int = 1) -> str:
    """``609`` → ``60.9 %`` (``digits`` decimals)."""
    if not digits:
        return f"{units} %"
    scale = 10**digits
    sign = "-" if units < 0 else ""
    units = abs(units)
    return f"{sign}{units // scale}.{units % scale:0{digits}d} %"


def target_units(target: float, digits: int = 1) -> int:
    """A target in the same units as :func:`shown_units` (60 % → 600), to the nearest unit."""
    return int(floor(_exact(target) * 100 * 10**digits + Fraction(1, 2)))


def points_text(units: int | None, digits: int = 1) -> str:
    """A difference of shown figures in points: ``+0.9 pts``, ``−2.5 pts``, ``±0.0 pts``, ``–``."""
    if units is None:
        return "–"
    if units == 0:
        return f"±{0:.{digits}f} pts"
    scale = 10**digits
    size = abs(units)
    body = f"{size // scale}.{size % scale:0{digits}d}" if digits else str(size)
    return f"{'+' if units > 0 else '−'}{body} pts"
