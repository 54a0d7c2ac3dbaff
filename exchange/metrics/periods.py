"""Reporting periods: a year, half-year, quarter, month or any from/to range, in UTC.

A :class:`Period` is a half-open interval ``[start, end)`` of timezone-aware UTC datetimes
with a label. Its text forms round-trip through :meth:`Period.parse`::

    2015            the calendar year
    2015H1          the first half-year (H1 = January–June, H2 = July–December)
    2015Q3          the third quarter
    2015-06         a calendar month
    2015-06-10      a single day
    2015-01-15..2015-03-10   a from/to range, both dates inclusive ("/" also separates)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from exchange.domain.moments import EARLIEST, LATEST
from exchange.errors import InputError

_FORMS = "2015, 2015H1, 2015Q3, 2015-06, 2015-06-10 or 2015-01-01..2015-06-30"
_YEAR = re.compile(r"^(\d{4})$")
_HALF = re.compile(r"^(\d{4})-?H([12])$", re.IGNORECASE)
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^\s*(\S+?)\s*(?:\.\.|/)\s*(\S+)\s*$")


def as_utc(moment: datetime) -> datetime:
    """*moment* in UTC; a naive datetime is taken to be UTC already (as SQLite returns it)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def _whole_months(start: datetime, end: datetime) -> int | None:
    """How many calendar months [start, end) spans, if it starts and ends on month boundaries."""
    for moment in (start, end):
        if (moment.day, moment.hour, moment.minute, moment.second, moment.microsecond) != (
            1, 0, 0, 0, 0,
        ):
            return None
    return (end.year * 12 + end.month) - (start.year * 12 + start.month)


def _label(start: datetime, end: datetime) -> str:
    """The canonical text of [start, end): the shortest form that :meth:`Period.parse` reads."""
    months = _whole_months(start, end)
    if months == 12 and start.month == 1:
        return f"{start.year}"
    if months == 6 and start.month in (1, 7):
        return f"{start.year}H{1 if start.month == 1 else 2}"
    if months == 3 and start.month in (1, 4, 7, 10):
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    if months == 1:
        return f"{start.year}-{start.month:02d}"
    last = end - timedelta(microseconds=1)
    if start.time() == datetime.min.time() and end.time() == datetime.min.time():
        if end - start == timedelta(days=1):
            return start.date().isoformat()
        return f"{start.date().isoformat()}..{last.date().isoformat()}"
    return f"{start.isoformat()}..{end.isoformat()}"


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open UTC interval ``[start, end)`` with a human label (``2015H1``).

    Construct with :meth:`parse`, :meth:`between` or the unit constructors; a constructed
    period is valid (aware datetimes, start before end). Raises InputError otherwise.
    """

    start: datetime
    end: datetime
    label: str = ""

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InputError("a period's start and end must be timezone-aware")
        try:
            start, end = self.start.astimezone(UTC), self.end.astimezone(UTC)
        except OverflowError:
            start, end = EARLIEST.min, EARLIEST.max  # refused just below
        if start < EARLIEST or end > LATEST:
            raise InputError(f"a period must lie within the years {EARLIEST.year} to {LATEST.year - 1}")
        if not start < end:
            raise InputError(f"a period must end after it starts "
                             f"({start.isoformat()} .. {end.isoformat()})")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        if not self.label:
            object.__setattr__(self, "label", _label(start, end))

    # --- constructors ---------------------------------------------------------------------

    @classmethod
    def year(cls, year: int) -> Period:
        """The calendar *year*, January to December."""
        return cls.months_from(date(year, 1, 1), 12)

    @classmethod
    def half(cls, year: int, half: int) -> Period:
        """Half-year *half* (1: January–June, 2: July–December) of *year*; raises InputError for
        another number."""
        if half not in (1, 2):
            raise InputError(f"half-year must be 1 or 2, not {half!r}")
        return cls.months_from(date(year, 1 + 6 * (half - 1), 1), 6)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        """Quarter *quarter* (1–4) of *year*; raises InputError for another number."""
        if quarter not in (1, 2, 3, 4):
            raise InputError(f"quarter must be 1 to 4, not {quarter!r}")
        return cls.months_from(date(year, 1 + 3 * (quarter - 1), 1), 3)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """Month *month* (1–12) of *year*; raises InputError for another number."""
        if not 1 <= month <= 12:
            raise InputError(f"month must be 1 to 12, not {month!r}")
        return cls.months_from(date(year, month, 1), 1)

    @classmethod
    def months_from(cls, first: date, count: int) -> Period:
        """*count* calendar months starting with the month of *first*."""
        if count < 1:
            raise InputError(f"a period needs at least one month, not {count}")
        first = first.replace(day=1)
        return cls(_midnight(first), _midnight(_add_months(first, count)))

    @classmethod
    def between(cls, first: date | datetime, last: date | datetime) -> Period:
        """From *first* to *last*: dates are whole days, both inclusive (the CLI's --from/--to).

        Datetimes are taken as exact instants, *last* exclusive.
        """
        start = as_utc(first) if isinstance(first, datetime) else _midnight(first)
        end = as_utc(last) if isinstance(last, datetime) else _midnight(last) + timedelta(days=1)
        if not start < end:
            raise InputError(f"period 'from' {first} must not be after 'to' {last}")
        return cls(start, end)

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read any of the forms in the module docstring; raises InputError naming *text*."""
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"period {text!r} is empty; use one of {_FORMS}")
        value = text.strip()
        try:
            if m := _YEAR.match(value):
                return cls.year(int(m[1]))
            if m := _HALF.match(value):
                return cls.half(int(m[1]), int(m[2]))
            if m := _QUARTER.match(value):
                return cls.quarter(int(m[1]), int(m[2]))
            if m := _MONTH.match(value):
                return cls.month(int(m[1]), int(m[2]))
            if m := _RANGE.match(value):
                return cls.between(_parse_date(m[1]), _parse_date(m[2]))
            return cls.between(_parse_date(value), _parse_date(value))
        except InputError as exc:
            raise InputError(f"period {text!r}: {exc.message}") from None
        except (ValueError, OverflowError):  # date(2015, 2, 30), 9999-12-31 + 1 day and friends
            raise InputError(f"period {text!r} is not a valid date or lies outside the years "
                             f"{EARLIEST.year} to {LATEST.year - 1}; use one of {_FORMS}") from None

    # --- views ----------------------------------------------------------------------------

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= as_utc(moment) < self.end

    def __str__(self) -> str:
        return self.label

    @property
    def last_day(self) -> date:
        """The last calendar day the period touches (inclusive)."""
        return (self.end - timedelta(microseconds=1)).date()

    def months(self) -> list[Period]:
        """The calendar months the period overlaps, clipped to it, in order."""
        result: list[Period] = []
        cursor = _midnight(self.start.date().replace(day=1))
        while cursor < self.end:
            following = _midnight(_add_months(cursor.date(), 1))
            start, end = max(cursor, self.start), min(following, self.end)
            label = f"{cursor.year}-{cursor.month:02d}"
            result.append(Period(start, end, label))
            cursor = following
        return result

    def weeks(self) -> list[Period]:
        """The ISO weeks (Monday to Sunday) the period overlaps, whole, labelled ``2015-W01``.

        Weeks are *not* clipped: the regular-use rule counts a partial first or last week as
        a week of the period.
        """
        result: list[Period] = []
        day = self.start.date()
        monday = day - timedelta(days=day.weekday())
        cursor = _midnight(monday)
        while cursor < self.end:
            iso_year, iso_week, _ = cursor.date().isocalendar()
            result.append(Period(cursor, cursor + timedelta(days=7), f"{iso_year}-W{iso_week:02d}"))
            cursor += timedelta(days=7)
        return result

    def previous(self) -> Period:
        """The period of the same length just before: 2015H1 → 2014H2, 2015-03 → 2015-02.

        Whole calendar months shift by months; any other range by its exact duration.
        """
        months = _whole_months(self.start, self.end)
        if months is not None:
            return Period.months_from(_add_months(self.start.date(), -months), months)
        return Period(self.start - (self.end - self.start), self.start)

    def to_dict(self) -> dict[str, str]:
        """The period as JSON-able data: its label, start and end dates (end exclusive)."""
        return {"label": self.label, "start": self.start.isoformat(), "end": self.end.isoformat()}


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date (YYYY-MM-DD); use one of {_FORMS}") from None
