"""The measures as CSV and JSON.

JSON is :meth:`MeasuresReport.to_dict` verbatim (``{"k1": {"numerator", "denominator",
"value", "target", "met"}, ...}``). CSV is *long*: one line per (group, key, measure) with the
same columns whatever the breakdown, so a spreadsheet can pivot it::

    period,group,key,name,measure,numerator,denominator,value,shown,target,met,note
    2015,overall,,,k1,6,10,0.6,60.0 %,0.6,true,
    2015,body,nghe-an,Tỉnh ủy Nghệ An,k1_sent,0,2,0.0,0.0 %,0.6,false,rank 1

``value`` is the exact ratio (6 decimals); ``shown`` the figure as every other output prints it
(one rounding rule, ``exchange.metrics.rounding``).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from exchange.metrics import Breakdown, Measure, MeasuresReport

CSV_COLUMNS = ("period", "group", "key", "name", "measure", "numerator", "denominator",
               "value", "shown", "target", "met", "note")


def to_json(report: MeasuresReport, *, indent: int | None = 2) -> str:
    """The report as JSON text (UTF-8 names kept readable, not escaped)."""
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=indent)


def csv_rows(report: MeasuresReport) -> list[dict[str, Any]]:
    """The lines of :func:`to_csv` as dicts: the overall measures, then the breakdown."""
    rows: list[dict[str, Any]] = []

    def add(group: str, key: str, name: str, measure: Measure, note: str = "") -> None:
        rows.append({
            "period": report.period.label, "group": group, "key": key, "name": name,
            "measure": measure.name, "numerator": measure.numerator,
            "denominator": measure.denominator,
            "value": "" if measure.value is None else round(measure.value, 6),
            "shown": measure.percent() if measure.has_data else "",
            "target": "" if measure.target is None else measure.target,
            "met": "" if measure.met is None else str(measure.met).lower(),
            "note": note,
        })

    for measure in report.measures():
        add("overall", "", "", measure)
    if report.by is Breakdown.BODY:
        for rank, row in enumerate(report.ranked_bodies(), 1):
            key, name, note = row.body.id, row.body.name_vi, f"rank {rank}"
            add("body", key, name, _renamed(row.sent, "k1_sent"), note)
            add("body", key, name, _renamed(row.sent_verified, "k1_sent_verified"), note)
            add("body", key, name, _renamed(row.received, "k1_received"), note)
            add("body", key, name, _renamed(row.received_verified, "k1_received_verified"), note)
            add("body", key, name, row.use.weeks, row.use.status.value)
            add("body", key, name, row.incoming, note)
    elif report.by is Breakdown.DIRECTION:
        for d in report.directions:
            add("direction", d.direction.value, d.direction.label, d.k1)
            add("direction", d.direction.value, d.direction.label, d.k1_verified)
    elif report.by is Breakdown.MONTH:
        for m in report.months:
            for measure in (m.k1, m.k1_verified, m.k2, m.k3):
                add("month", m.period.label, "", measure)
    return rows


def to_csv(report: MeasuresReport) -> str:
    """The report as CSV text (header line first, ``\\n`` line ends)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(report))
    return buffer.getvalue()


def _renamed(measure: Measure, name: str) -> Measure:
    return Measure.of(name, measure.numerator, measure.denominator, measure.target)
