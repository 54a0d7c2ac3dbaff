"""The six-monthly report: measures, furthest-behind bodies, certificates, trend, wording."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from exchange.domain.bodies import Body, BodyKind
from exchange.errors import InputError
from exchange.metrics import MeasuresReport, Period
from exchange.reporting import HalfYearReport, period_words

CERTIFICATES = [
    ("organization-commission", "valid", datetime(2017, 1, 1, tzinfo=UTC)),  # fine: not listed
    ("nghe-an", "valid", datetime(2015, 8, 1, tzinfo=UTC)),     # expiring: 31 days after 1 July
    ("ha-noi", "REVOKED", datetime(2016, 1, 1, tzinfo=UTC)),    # revoked
    ("central-office", "valid", datetime(2015, 6, 15, tzinfo=UTC)),  # expired 16 days before
]


@pytest.fixture(scope="module")
def half(report: MeasuresReport, previous: MeasuresReport) -> HalfYearReport:
    return HalfYearReport.build(report, previous=previous, certificates=CERTIFICATES)


def test_build_selects_behind_bodies_and_certificates(half: HalfYearReport) -> None:
    # missed K1 on what they sent: nghe-an 0/3 (gap 60 pts), ha-noi 1/3 (gap 26.7 pts)
    assert [row.body.id for row in half.behind] == ["nghe-an", "ha-noi"]
    assert [row.body.id for row in half.no_traffic] == ["inspection-commission"]
    assert [(c.body_id, c.state, c.days_left) for c in half.certificates] == [
        ("ha-noi", "revoked", 184), ("central-office", "expired", -16),
        ("nghe-an", "expiring", 31)]
    assert half.at == datetime(2015, 7, 1, tzinfo=UTC)  # judged at the end of the half-year
    # trend: K1 54.5 % now against 1 / 3 = 33.3 % in 2014H2 -> up 21.2 points
    k1 = half.trends[0]
    assert k1.words == "rose 21.2 points" and k1.arrow == "▲"
    assert half.trends[3].words == "cannot be compared"  # K3 had no data in 2014H2


def test_markdown_reads_like_a_report(half: HalfYearReport) -> None:
    md = half.to_markdown()
    assert md.startswith("# Six-monthly report on electronic document exchange")
    assert "**Period:** the first half of 2015 (2015H1: 2015-01-01 to 2015-06-30, UTC)" in md
    assert "one of the three targets of the programme (profile 2015) was met" in md
    assert ("K1: 6 of the 11 documents exchanged between the bodies (54.5 %) were sent and "
            "received electronically") in md
    assert "1 was refused at the hub" in md and "3 were sent on paper" in md
    assert "Compared with the second half of 2014: K1 rose 21.2 points" in md
    # the measures table, with the previous half-year and the change
    assert re.search(r"\| ✘ \| K1 electronic, signed and delivered \| 54\.5 % \| 6 / 11 \| "
                     r"60 % \| missed \| 33\.3 % \| ▲ \+21\.2 pts \|", md)
    assert re.search(r"\| ✔ \| K3 outside documents scanned and entered \| 66\.7 % \| 2 / 3 \|", md)
    # furthest behind, in order, then the body with no traffic
    behind = md[md.index("## 5. Bodies furthest behind"):md.index("## 6.")]
    assert behind.index("Tỉnh ủy Nghệ An") < behind.index("Thành ủy Hà Nội")
    assert "| 1 | Tỉnh ủy Nghệ An (`nghe-an`) | provincial | 0.0 % (0 / 3) | −60.0 pts |" in behind
    assert "**No traffic.** 1 body sent no document in the period: Ủy ban Kiểm tra Trung ương" in md
    certs = md[md.index("## 6."):md.index("## 7.")]
    assert "| Thành ủy Hà Nội (`ha-noi`) | revoked | 2016-01-01 | – |" in certs
    assert "| Tỉnh ủy Nghệ An (`nghe-an`) | expiring | 2015-08-01 | in 31 days |" in certs
    assert "16 days ago" in certs and "organization-commission" not in certs
    assert "| 2015-04 | – no data |" in md  # April: no data in the monthly trend


def test_html_is_self_contained_with_the_chart(half: HalfYearReport) -> None:
    html = half.to_html()
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched
    assert html.count('src="data:image/png;base64,') == 1
    assert "54.5 %" in html and "Tỉnh ủy Nghệ An" in html and "state-revoked" in html
    assert "rose 21.2 points" in html


def test_html_escapes_names(report: MeasuresReport) -> None:
    rows = tuple(replace(r, body=Body(r.body.id, BodyKind.PROVINCIAL, "<b>Xấu</b>", "x"))
                 if r.body.id == "nghe-an" else r for r in report.bodies)
    html = HalfYearReport.build(replace(report, bodies=rows)).to_html(chart=False)
    assert "&lt;b&gt;Xấu&lt;/b&gt;" in html and "<b>Xấu" not in html


def test_without_previous_or_data(empty: MeasuresReport) -> None:
    half = HalfYearReport.build(empty)
    md = half.to_markdown()
    assert "Compared with" not in md
    assert "the register holds no documents, so none of the three measures can be reported" in md
    assert "No documents were exchanged in the period." in md
    assert "No certificate was revoked" in md
    assert "data:image/png" in half.to_html()  # an empty chart still renders


def test_bad_certificate_entry_is_an_input_error(report: MeasuresReport) -> None:
    with pytest.raises(InputError, match="not_after"):
        HalfYearReport.build(report, certificates=[("ha-noi", "revoked", "2016-01-01")])  # type: ignore[list-item]


@pytest.mark.parametrize(("text", "words"), [
    ("2015H1", "the first half of 2015"), ("2014H2", "the second half of 2014"),
    ("2015", "the year 2015"), ("2015Q3", "the third quarter of 2015"), ("2015-06", "June 2015"),
    ("2015-01-15..2015-03-10", "the period 15 Jan 2015 – 10 Mar 2015"),
])
def test_period_words(text: str, words: str) -> None:
    assert period_words(Period.parse(text)) == words
