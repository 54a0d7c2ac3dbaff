"""A measure as a page shows it: the figure, its counts, the target, met or missed at a glance.

Only presentation: every number comes from a :class:`exchange.metrics.Measure` as computed.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange.metrics import Measure
from exchange.metrics.rounding import points_text

#: measure name -> (title, Vietnamese title, unit counted)
TITLES = {
    "k1": ("Documents exchanged electronically, signed and valid",
           "Văn bản gửi, nhận điện tử có chữ ký số hợp lệ", "documents"),
    "k1_verified": ("… and verified by the recipient itself",
                    "… và được nơi nhận tự kiểm tra chữ ký", "documents"),
    "k2": ("Bodies using digital signatures regularly",
           "Cơ quan sử dụng chữ ký số thường xuyên", "bodies"),
    "k3": ("Documents from outside agencies scanned and entered",
           "Văn bản đến từ cơ quan ngoài được số hóa, cập nhật", "documents"),
    "k1_sent": ("Sent: electronic, signed and valid", "Văn bản đi có chữ ký số hợp lệ", "documents"),
    "k1_received": ("Received: electronic, signed and valid", "Văn bản đến có chữ ký số hợp lệ",
                    "documents"),
}


@dataclass(frozen=True)
class MeasureCard:
    """What one measure's card shows; ``state`` is ``met``, ``missed`` or ``nodata`` (a CSS class)."""

    key: str
    code: str
    title: str
    title_vi: str
    unit: str
    numerator: int
    denominator: int
    value: float | None
    target: float | None
    met: bool | None
    shown: str = "–"  # the figure by the one rounding rule (exchange.metrics.rounding)
    from_target: int | None = None  # shown figure minus target, tenths of a point

    @classmethod
    def of(cls, measure: Measure, key: str | None = None) -> MeasureCard:
        """The card of *measure*, titled by *key* (default: the measure's name)."""
        key = key or measure.name
        title, title_vi, unit = TITLES.get(key, (measure.label, "", "items"))
        code = key.split("_")[0].upper()
        return cls(key, code, title, title_vi, unit, measure.numerator, measure.denominator, measure.value,
                   measure.target, measure.met, measure.percent() if measure.has_data else "–",
                   measure.points_from_target())

    @property
    def state(self) -> str:
        """``met``, ``missed``, ``nodata`` or ``notarget``: the card's CSS class."""
        if self.value is None:
            return "nodata"
        if self.met is None:
            return "notarget"
        return "met" if self.met else "missed"

    @property
    def verdict(self) -> str:
        """The verdict in words (``✔ target met``, …)."""
        return {"met": "✔ target met", "missed": "✘ target missed", "nodata": "no data",
                "notarget": "no target"}[self.state]

    @property
    def percent(self) -> str:
        """The figure as the terminal and the reports print it (same rounding rule)."""
        return self.shown

    @property
    def target_text(self) -> str:
        """The target as a percentage, or ``–`` without one."""
        return "–" if self.target is None else f"{self.target * 100:g} %"

    @property
    def counts(self) -> str:
        """What the value counts: ``5 of 8 documents``, or that there was nothing in the period."""
        if self.value is None:
            return f"no {self.unit} in the period"
        return f"{self.numerator} of {self.denominator} {self.unit}"

    @property
    def gap(self) -> str:
        """``12.5 points below target`` / ``2.5 points above target`` / ``exactly on target``."""
        units = self.from_target
        if units is None:
            return ""
        if units == 0:
            return "exactly on target" if self.met else "just below target"
        size = points_text(abs(units))[1:-4]
        return f"{size} points {'above' if units > 0 else 'below'} target"

    @property
    def bar(self) -> float:
        """The value as a 0–100 width for the bar (0 without data)."""
        return 0.0 if self.value is None else round(self.value * 100, 2)

    @property
    def target_bar(self) -> float:
        """Where the target's mark sits on the card's bar, in percent (0 without a target)."""
        return 0.0 if self.target is None else round(self.target * 100, 2)
