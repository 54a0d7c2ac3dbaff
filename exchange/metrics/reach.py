"""Why K2 is low: how many weeks the regular-use rule needs against what the register holds.

K2 counts a body as a regular user if it signed in at least a share (half, by default) of the
ISO weeks of the period. Over a year that is 27 weeks: a register that holds only a few weeks
of traffic in the period (a run that just started, a demo, a period chosen too long) gives a
K2 near 0 whatever the bodies did. :class:`K2Reach` holds the facts that tell this case apart
and says it in one sentence, so the pages and reports never leave such a figure unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from math import ceil
from typing import Any

from exchange.metrics.periods import Period
from exchange.metrics.targets import RegularUseRule


def weeks_needed(weeks: int, rule: RegularUseRule) -> int:
    """The fewest active weeks of *weeks* that meet *rule* (3 of 5 at half: 2.5 rounded up)."""
    return ceil(Fraction(repr(float(rule.min_week_share))) * weeks)


@dataclass(frozen=True, slots=True)
class K2Reach:
    """The regular-use rule against the register for one period.

    ``weeks``: ISO weeks overlapping the period; ``needed``: active weeks a regular user needs;
    ``covered``: weeks from the first to the last register row sent in the period (0 without
    rows); ``best``: the most active weeks any body reached.
    """

    period: Period
    weeks: int
    needed: int
    covered: int
    best: int

    @property
    def data_too_short(self) -> bool:
        """The register's rows in the period span fewer weeks than the rule needs: no body can
        be a regular user over this period, whatever it signed."""
        return 0 < self.covered < self.needed

    @property
    def nobody_reached(self) -> bool:
        """Whether the register covers enough weeks but still no body was active in as many as the
        rule needs."""
        return self.covered > 0 and self.best < self.needed

    def explanation(self) -> str | None:
        """One sentence when K2 is low for want of weeks (None otherwise)."""
        rule = (f"a regular user must sign in at least {self.needed} of the {self.weeks} weeks of "
                f"{self.period.label}")
        if self.data_too_short:
            return (f"K2 is low because the period is longer than the data: {rule}, but the register's "
                    f"documents in it span only {self.covered} week{'s' if self.covered != 1 else ''}, so no "
                    f"body can reach the rule yet. Choose a shorter period (a month, a quarter) or see K2 by "
                    f"month.")
        if self.nobody_reached:
            return (f"No body signed regularly enough: {rule}; the most active body signed in {self.best} of them. "
                    f"K2 measures steady weekly use, not the number of signed documents.")
        return None

    def to_dict(self) -> dict[str, Any]:
        """The reach as JSON-able data, with the sentence that explains it."""
        return {"weeks": self.weeks, "needed": self.needed, "covered": self.covered, "best": self.best,
                "explanation": self.explanation()}

    @classmethod
    def of(cls, period: Period, rule: RegularUseRule, *, first: datetime | None, last: datetime | None,
           best: int) -> K2Reach:
        """The reach of *rule* over *period*, from the first and last row sent in it and the most
        active weeks any body reached (*best*)."""
        weeks = period.weeks()
        covered = 0
        if first is not None and last is not None:
            first_week, last_week = first.isocalendar()[:2], last.isocalendar()[:2]
            covered = sum(1 for w in weeks if first_week <= w.start.isocalendar()[:2] <= last_week)
            covered = max(covered, 1)
        return cls(period, len(weeks), weeks_needed(len(weeks), rule), covered, best)
