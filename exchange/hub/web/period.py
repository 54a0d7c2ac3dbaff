"""The period a page shows: from ``?period=``, or the default, with quick choices to switch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from exchange.errors import InputError
from exchange.hub.measures import default_period
from exchange.hub.service import ExchangeService
from exchange.metrics import Period


@dataclass(frozen=True)
class Choice:
    """One period the picker offers: its label, the link that picks it, and whether it is the one
    shown."""

    label: str
    href: str
    active: bool


@dataclass(frozen=True)
class PeriodPicker:
    """The chosen period, what the user typed (kept on error), and links to nearby periods."""

    period: Period
    text: str
    error: str | None = None
    choices: list[Choice] = field(default_factory=list)

    @property
    def query(self) -> str:
        """``period=2015`` for links that keep the period."""
        return urlencode({"period": self.period.label})

    @classmethod
    def from_query(cls, service: ExchangeService, text: str | None, *, at: datetime, path: str,
                   keep: dict[str, str] | None = None) -> PeriodPicker:
        """Parse *text*; a bad period shows the default period with the reason, never a crash."""
        error = None
        try:
            period = Period.parse(text) if text and text.strip() else default_period(service, at=at)
        except InputError as exc:
            period, error = default_period(service, at=at), exc.message
        return cls(period, (text or "").strip() or period.label, error,
                   _choices(service, period, at=at, path=path, keep=keep or {}))


def _choices(service: ExchangeService, period: Period, *, at: datetime, path: str,
             keep: dict[str, str]) -> list[Choice]:
    years = {at.year, period.start.year}
    span = service.register_span()
    if span is not None:
        first, last = span
        years.update(range(max(first.year, last.year - 5), last.year + 1))
    labels = [str(y) for y in sorted(years)]
    year = period.start.year
    labels += [f"{year}H1", f"{year}H2"]
    if period.label not in labels:
        labels.append(period.label)

    def href(label: str) -> str:
        params = {k: v for k, v in keep.items() if v}
        params["period"] = label
        return f"{path}?{urlencode(params)}"

    return [Choice(label, href(label), label == period.label) for label in labels]
