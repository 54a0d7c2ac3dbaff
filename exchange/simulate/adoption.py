"""How far a body has adopted a practice on a given day: a level that follows a curve.

Three practices are modelled per body, each an :class:`Adoption`:

- ``electronic``: the share of its documents a body sends electronically (the rest on paper);
- ``signing``: the share of its *electronic* documents it signs (the rest unsigned);
- ``scanning``: the share of documents from outside agencies it scans (K3).

A level moves from ``start`` to ``end`` between the dates ``since`` and ``until`` (by default
the scenario's period) along a curve; before ``since`` it is ``start``, after ``until``
``end``. ``step`` jumps on ``since``. With ``spread_days``, each body of a group moves on its
own dates: the curve is shifted by up to half that many days either way, by an amount drawn
from the seed and the body id (so bodies of one group do not all adopt on the same day).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

PRACTICES = ("electronic", "signing", "scanning")


class Curve(StrEnum):
    """The shape of an adoption curve between its ``since`` and ``until`` dates: linear, logistic
    (an S) or a step."""

    LINEAR = "linear"  # a straight ramp from since to until
    LOGISTIC = "logistic"  # an S-curve: slow start, fast middle, slow finish
    STEP = "step"  # start before since, end from since on


#: how sharp the logistic curve is (its slope at the midpoint is STEEPNESS / 4 per period)
STEEPNESS = 10.0


@dataclass(frozen=True, slots=True)
class Adoption:
    """A share in [0, 1] over time. Construct through the scenario parser (fields checked)."""

    start: float
    end: float
    curve: Curve
    since: date
    until: date
    spread_days: float = 0.0

    def shifted(self, seed: int, key: str) -> Adoption:
        """This curve moved by the body's own offset (see ``spread_days``), deterministically."""
        if not self.spread_days:
            return self
        draw = int.from_bytes(hashlib.sha256(f"{seed}/{key}".encode()).digest()[:8], "big") / 2**64
        offset = timedelta(days=round((draw - 0.5) * self.spread_days))
        return replace(self, since=self.since + offset, until=self.until + offset, spread_days=0.0)

    def level(self, moment: datetime | date) -> float:
        """The share on *moment* (a day, or an instant read in UTC)."""
        if isinstance(moment, datetime):
            moment = moment.astimezone(UTC)
            day = moment.date()
            fraction_of_day = (moment.hour * 3600 + moment.minute * 60 + moment.second) / 86400
        else:
            day, fraction_of_day = moment, 0.0
        if self.curve is Curve.STEP:
            return self.start if day < self.since else self.end
        span = (self.until - self.since).days
        if span <= 0:
            return self.start if day < self.since else self.end
        x = ((day - self.since).days + fraction_of_day) / span
        if x <= 0:
            return self.start
        if x >= 1:
            return self.end
        return self.start + (self.end - self.start) * _shape(self.curve, x)


def _shape(curve: Curve, x: float) -> float:
    """The curve on [0, 1], from 0 to 1."""
    if curve is Curve.LINEAR:
        return x
    # A logistic rescaled so that it passes exactly through (0, 0) and (1, 1).
    low, high = _sigmoid(0.0), _sigmoid(1.0)
    return (_sigmoid(x) - low) / (high - low)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-STEEPNESS * (x - 0.5)))


@dataclass(frozen=True, slots=True)
class BodyAdoption:
    """One body's three practices."""

    electronic: Adoption
    signing: Adoption
    scanning: Adoption

    def for_body(self, seed: int, body_id: str) -> BodyAdoption:
        """The practices with the body's own offsets applied (see ``spread_days``)."""
        return BodyAdoption(*(getattr(self, p).shifted(seed, f"{body_id}/{p}") for p in PRACTICES))
