"""The rich tables: met and missed targets marked at a glance, bodies from furthest behind."""

from __future__ import annotations

from dataclasses import replace

from exchange.metrics import Breakdown, MeasuresReport
from exchange.reporting import render_text


def _line(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


def test_headline_marks_met_and_missed(report: MeasuresReport) -> None:
    text = render_text(replace(report, by=None), width=160)
    # K1 6 / 11 = 54.5 % missed; K2 0 / 5 missed; K3 2 / 3 = 66.7 % (nearest tenth) met
    k1 = _line(text, "K1 electronic")
    assert "✘" in k1 and "54.5 %" in k1 and "6 / 11" in k1 and "missed" in k1
    k3 = _line(text, "K3 outside")
    assert "✔" in k3 and "66.7 %" in k3 and "met" in k3
    assert "✘" in _line(text, "K2 bodies") and "0 / 5" in _line(text, "K2 bodies")
    assert "1 refused" in text and "3 paper" in text  # the channels under the table
    assert "\x1b[" not in text  # plain text unless asked


def test_colour_makes_marks_green_and_red(report: MeasuresReport) -> None:
    text = render_text(replace(report, by=None), width=160, color=True)
    assert "\x1b[1;32m✔" in text  # bold green tick
    assert "\x1b[1;31m✘" in text  # bold red cross


def test_no_data_is_shown_as_such(empty: MeasuresReport) -> None:
    text = render_text(replace(empty, by=None), width=160)
    k1 = _line(text, "K1 electronic")
    assert "no data" in k1 and "–" in k1 and "0 %" not in k1.replace("60 %", "")


def test_bodies_ranked_from_furthest_behind(report: MeasuresReport) -> None:
    text = render_text(report, width=160)
    order = [text.index(id_) for id_ in ("nghe-an", "ha-noi", "central-office",
                                         "organization-commission", "inspection-commission")]
    assert order == sorted(order)
    assert "✘ 0.0 %" in _line(text, "Tỉnh ủy Nghệ An")        # nghe-an sent 0 / 3
    assert "−60.0 pts" in _line(text, "Tỉnh ủy Nghệ An")
    assert "no_traffic" in _line(text, "Ủy ban Kiểm tra")


def test_direction_and_month_tables(report: MeasuresReport) -> None:
    text = render_text(replace(report, by=Breakdown.DIRECTION), width=160)
    assert "central → provincial" in text and "provincial → provincial" in text
    months = render_text(replace(report, by=Breakdown.MONTH), width=160)
    april = _line(months, "2015-04")
    assert "no data" in april
    assert "✔ 100.0 %" in _line(months, "2015-03")  # March: 2 / 2
