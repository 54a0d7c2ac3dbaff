"""K1–K3 over the hub's register: the one path both ``GET /api/measures`` and the web pages take.

The arithmetic is :func:`exchange.metrics.compute`'s; this module only chooses the period,
the target profile and the rows to read, so the overview page and the JSON endpoint can never
disagree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from exchange.errors import InputError
from exchange.hub.service import ExchangeService
from exchange.metrics import MeasuresReport, Period, TargetProfile, compute


def default_period(service: ExchangeService, *, at: datetime) -> Period:
    """The period a page shows when none is asked for: the calendar year of *at* if the
    register holds anything in it, else the whole years the register spans (a simulation
    of 2015 run today shows 2015), else the year of *at*."""
    return period_for_span(service.reader.register_span(), at=at)


def period_for_span(span: tuple[datetime, datetime] | None, *, at: datetime) -> Period:
    """:func:`default_period` for a register whose first and last moments are *span*."""
    this_year = Period.year(at.astimezone(UTC).year)
    if span is None:
        return this_year
    first, last = span
    if first < this_year.end and last >= this_year.start:
        return this_year
    years = last.year - first.year + 1
    return Period.months_from(date(first.year, 1, 1), 12 * years)


def resolve_period(service: ExchangeService, text: str | None, *, at: datetime) -> Period:
    """*text* parsed (``2015``, ``2015H1``, ``2015-01-01..2015-03-31``…), or the default
    period when it is empty. Raises InputError naming a bad period."""
    if text is None or not text.strip():
        return default_period(service, at=at)
    return Period.parse(text)


def profile_named(name: str) -> TargetProfile:
    """A built-in target profile (``2015``, ``2020``). Files are not read from an HTTP query."""
    return TargetProfile.builtin(name)


def measures_report(service: ExchangeService, period: Period, *, profile: TargetProfile,
                    by: str | None = None) -> MeasuresReport:
    """:func:`exchange.metrics.compute` over the hub's register for *period*."""
    # Register rows are selected by the time they were sent; a receipt counts at the time it
    # was made, which is always after its document was sent, so rows sent after the period
    # cannot matter. Rows sent before it can, when the K2 rule counts receipts.
    start = None if profile.regular_use.count_receipts else period.start
    entries = service.reader.register_entries(start=start, end=period.end)
    incoming = service.reader.incoming_entries(start=period.start, end=period.end)
    return compute(entries, incoming, service.reader.served_bodies(period), period, profile, by=by)


def measures_for(service: ExchangeService, period_text: str | None, by: str | None = None,
                 profile_name: str = "2015", *, at: datetime | None = None) -> dict[str, Any]:
    """The measures as JSON-ready data: :meth:`MeasuresReport.to_dict` for the period.

    *period_text* empty means the default period (see :func:`default_period`), judged at
    *at* (the caller's clock; now if omitted). *by* is ``body``, ``direction``, ``month`` or
    None. Raises InputError for a bad period, breakdown or profile name.
    """
    if at is not None and at.tzinfo is None:
        raise InputError("the time a default period is judged at must be timezone-aware")
    period = resolve_period(service, period_text, at=at or datetime.now(UTC))
    return measures_report(service, period, profile=profile_named(profile_name), by=by or None).to_dict()


def body_reports(service: ExchangeService, body_id: str, period: Period, *, profile: TargetProfile
                 ) -> tuple[MeasuresReport, MeasuresReport]:
    """Two reports restricted to one body: over what it sent (with its incoming documents) and
    over what it received. Their per-month K1 and K3 are that body's trend; their K2 is not
    meaningful (the other bodies' rows are left out) and must not be shown."""
    service.bodies.get(body_id)
    entries = service.reader.register_entries(start=period.start, end=period.end)  # read once, split twice
    sent = [e for e in entries if e.sender == body_id]
    received = [e for e in entries if e.recipient == body_id]
    incoming = (i for i in service.reader.incoming_entries(start=period.start, end=period.end) if i.body == body_id)
    bodies = service.reader.served_bodies(period)
    return (compute(sent, incoming, bodies, period, profile),
            compute(received, (), bodies, period, profile))
