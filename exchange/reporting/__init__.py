"""Rendering the measures: rich tables, CSV and JSON, a PNG chart, the six-monthly report.

Everything here takes a :class:`exchange.metrics.MeasuresReport` (computed by the caller) and
only presents it; no figure is computed here.
"""

from exchange.reporting.chart import ChartData, build_figure, chart_data, render_png, write_png
from exchange.reporting.export import CSV_COLUMNS, csv_rows, to_csv, to_json
from exchange.reporting.halfyear import CertificateNotice, HalfYearReport, Trend, period_words
from exchange.reporting.table import (
    bodies_table,
    breakdown_table,
    measures_table,
    render_text,
    renderable,
)
from exchange.reporting.verdict import Verdict, verdict

__all__ = [
    "CSV_COLUMNS",
    "CertificateNotice",
    "ChartData",
    "HalfYearReport",
    "Trend",
    "Verdict",
    "bodies_table",
    "breakdown_table",
    "build_figure",
    "chart_data",
    "csv_rows",
    "measures_table",
    "period_words",
    "render_png",
    "render_text",
    "renderable",
    "to_csv",
    "to_json",
    "verdict",
    "write_png",
]
