"""Periods: the text forms, boundaries (end exclusive, UTC), months, ISO weeks, previous()."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from exchange.errors import InputError
from exchange.metrics import Period

HANOI = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2015", date(2015, 1, 1), date(2016, 1, 1), "2015"),
        ("2015H1", date(2015, 1, 1), date(2015, 7, 1), "2015H1"),
        ("2015h2", date(2015, 7, 1), date(2016, 1, 1), "2015H2"),
        ("2015Q3", date(2015, 7, 1), date(2015, 10, 1), "2015Q3"),
        ("2015-06", date(2015, 6, 1), date(2015, 7, 1), "2015-06"),
        ("2015-12", date(2015, 12, 1), date(2016, 1, 1), "2015-12"),
        ("2015-06-10", date(2015, 6, 10), date(2015, 6, 11), "2015-06-10"),
        # from/to dates are both inclusive
        ("2015-01-15..2015-03-10", date(2015, 1, 15), date(2015, 3, 11), "2015-01-15..2015-03-10"),
        ("2015-01-15/2015-03-10", date(2015, 1, 15), date(2015, 3, 11), "2015-01-15..2015-03-10"),
        # a range that is exactly a calendar unit takes that unit's label
        ("2015-04-01..2015-06-30", date(2015, 4, 1), date(2015, 7, 1), "2015Q2"),
    ],
)
def test_parse_forms(text: str, start: date, end: date, label: str) -> None:
    period = Period.parse(text)
    assert period.start == datetime(start.year, start.month, start.day, tzinfo=UTC)
    assert period.end == datetime(end.year, end.month, end.day, tzinfo=UTC)
    assert period.label == label
    assert period.start.tzinfo is UTC
    assert Period.parse(period.label) == period  # the label round-trips


@pytest.mark.parametrize("text", ["2015H3", "2015Q5", "2015-13", "2015-02-30", "soon", "",
                                  "2015-03-10..2015-01-01", "15", "2015-6"])
def test_bad_text_is_an_input_error_naming_the_value(text: str) -> None:
    with pytest.raises(InputError) as caught:
        Period.parse(text)
    assert repr(text) in str(caught.value)


def test_between_dates_is_inclusive_and_rejects_reversed() -> None:
    period = Period.between(date(2015, 1, 1), date(2015, 1, 31))
    assert period == Period.parse("2015-01")
    with pytest.raises(InputError, match="must not be after"):
        Period.between(date(2015, 2, 1), date(2015, 1, 1))


def test_naive_datetimes_are_refused_by_the_constructor() -> None:
    with pytest.raises(InputError, match="timezone-aware"):
        Period(datetime(2015, 1, 1), datetime(2015, 2, 1))


def test_contains_start_inclusive_end_exclusive_in_utc() -> None:
    june = Period.parse("2015-06")
    assert datetime(2015, 6, 1, tzinfo=UTC) in june
    assert datetime(2015, 6, 30, 23, 59, 59, tzinfo=UTC) in june
    assert datetime(2015, 7, 1, tzinfo=UTC) not in june
    # 03:00 on 1 July in Hanoi is 20:00 on 30 June UTC: June.
    assert datetime(2015, 7, 1, 3, 0, tzinfo=HANOI) in june
    # a naive datetime (as SQLite returns) is read as UTC
    assert datetime(2015, 6, 15) in june


def test_months_are_clipped_to_the_period() -> None:
    months = Period.parse("2015-01-15..2015-03-10").months()
    assert [m.label for m in months] == ["2015-01", "2015-02", "2015-03"]
    assert months[0].start == datetime(2015, 1, 15, tzinfo=UTC)
    assert months[-1].end == datetime(2015, 3, 11, tzinfo=UTC)
    assert len(Period.parse("2015").months()) == 12


def test_weeks_are_whole_iso_weeks_overlapping_the_period() -> None:
    # 1 January 2015 is a Thursday: ISO week 1 of 2015 starts on Monday 29 December 2014,
    # and 31 December 2015 (Thursday) is in week 53.
    weeks = Period.parse("2015").weeks()
    assert len(weeks) == 53
    assert weeks[0].start == datetime(2014, 12, 29, tzinfo=UTC)
    assert weeks[0].label == "2015-W01" and weeks[-1].label == "2015-W53"
    # June 2015: Monday 1 June .. Tuesday 30 June -> W23, W24, W25, W26, W27
    assert [w.label for w in Period.parse("2015-06").weeks()] == [
        "2015-W23", "2015-W24", "2015-W25", "2015-W26", "2015-W27"]
    # Monday 1 June .. Sunday 28 June: exactly four weeks
    assert len(Period.parse("2015-06-01..2015-06-28").weeks()) == 4


@pytest.mark.parametrize(
    ("text", "previous"),
    [("2015", "2014"), ("2015H1", "2014H2"), ("2015H2", "2015H1"), ("2015Q1", "2014Q4"),
     ("2015-03", "2015-02"), ("2015-01", "2014-12"),
     ("2015-01-11..2015-01-20", "2015-01-01..2015-01-10")],
)
def test_previous_is_the_same_length_period_before(text: str, previous: str) -> None:
    assert Period.parse(text).previous() == Period.parse(previous)
