"""CSV and JSON: the shape the CLI and the API hand out."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

from exchange.metrics import Breakdown, MeasuresReport
from exchange.reporting import CSV_COLUMNS, to_csv, to_json


def test_json_has_the_measure_shape(report: MeasuresReport) -> None:
    data = json.loads(to_json(report))
    assert data["k1"] == {"numerator": 6, "denominator": 11, "value": 6 / 11, "target": 0.6,
                          "met": False}
    assert data["k3"] == {"numerator": 2, "denominator": 3, "value": 2 / 3, "target": 0.6,
                          "met": True}
    assert data["breakdown"][0]["body"] == "nghe-an" and data["breakdown"][0]["rank"] == 1
    assert "Tỉnh ủy Nghệ An" in to_json(report)  # not \u-escaped


def test_json_no_data_is_null(empty: MeasuresReport) -> None:
    data = json.loads(to_json(empty))
    assert data["k1"]["value"] is None and data["k1"]["met"] is None
    assert all(row["k2"]["value"] is None for row in data["breakdown"])


def test_csv_overall_rows(report: MeasuresReport) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(replace(report, by=None)))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["measure"], r["numerator"], r["denominator"], r["met"]) for r in rows] == [
        ("k1", "6", "11", "false"), ("k1_verified", "6", "11", "false"),
        ("k2", "0", "5", "false"), ("k3", "2", "3", "true")]
    assert rows[0]["value"] == "0.545455" and rows[0]["period"] == "2015H1"


def test_csv_body_breakdown_is_long_and_ranked(report: MeasuresReport) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    body_rows = [r for r in rows if r["group"] == "body"]
    assert len(body_rows) == 5 * 6  # six measures per body
    first = body_rows[0]
    assert (first["key"], first["measure"], first["note"]) == ("nghe-an", "k1_sent", "rank 1")
    silent = [r for r in body_rows if r["key"] == "inspection-commission"]
    k1_sent = next(r for r in silent if r["measure"] == "k1_sent")
    assert (k1_sent["value"], k1_sent["met"]) == ("", "")  # no data: empty, not 0
    assert next(r for r in silent if r["measure"] == "k2_weeks")["note"] == "no_traffic"


def test_csv_month_breakdown(report: MeasuresReport) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(replace(report, by=Breakdown.MONTH)))))
    april_k1 = next(r for r in rows if r["key"] == "2015-04" and r["measure"] == "k1")
    assert (april_k1["denominator"], april_k1["value"]) == ("0", "")
