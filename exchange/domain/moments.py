"""Moments and dates given by users: range-checked once, where they enter.

Python's ``datetime`` covers years 1 to 9999, but a moment near either end cannot be moved to
UTC (``0001-01-01T00:00:00+14:00`` is before year 1), a period that ends after 9999 cannot be
represented, and the databases disagree at the edges. Official documents of this exchange are
dated within :data:`EARLIEST` … :data:`LATEST`; anything outside is a user's mistake, refused
with an :class:`~exchange.errors.InputError` that names the field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from exchange.errors import InputError

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
_RANGE = f"{EARLIEST.year} to {LATEST.year - 1}"


def checked_moment(moment: datetime, *, what: str = "time") -> datetime:
    """*moment* in UTC (naive taken as UTC); InputError if outside [EARLIEST, LATEST)."""
    try:
        utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        raise InputError(f"{what} {moment.isoformat()} is outside the years {_RANGE}",
                         code="invalid-time") from None
    if not EARLIEST <= utc < LATEST:
        raise InputError(f"{what} {moment.isoformat()} is outside the years {_RANGE}", code="invalid-time")
    return utc


def checked_date(day: date, *, what: str = "date") -> date:
    """*day*; InputError if its year is outside the years of :func:`checked_moment`."""
    if not EARLIEST.year <= day.year < LATEST.year:
        raise InputError(f"{what} {day.isoformat()} is outside the years {_RANGE}", code="invalid-time")
    return day


def parse_moment(text: str, *, what: str = "time") -> datetime:
    """An ISO-8601 time from a user (naive means UTC), range-checked; InputError otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except (ValueError, TypeError, AttributeError):
        raise InputError(f"{what}: {text!r} is not an ISO-8601 time (e.g. 2015-06-30T12:00:00Z)",
                         code="invalid-time") from None
    return checked_moment(moment, what=what)
