"""The PNG chart: the data drawn (K1–K3 per month, the 60 % line), and a real PNG."""

from __future__ import annotations

import math
import struct
from dataclasses import replace
from pathlib import Path

from exchange.metrics import MeasuresReport, TargetProfile
from exchange.reporting import build_figure, chart_data, render_png, write_png


def test_chart_data_is_k1_to_k3_per_month_in_percent(report: MeasuresReport) -> None:
    data = chart_data(report)
    assert data.months == ("Jan 2015", "Feb 2015", "Mar 2015", "Apr 2015", "May 2015",
                           "Jun 2015")
    # K1 by month: 1/2, 1/3, 2/2, no data, 1/2, 1/2
    assert data.series["k1"] == (50.0, 33.3333, 100.0, None, 50.0, 50.0)
    assert data.series["k3"][0] == 100.0 and data.series["k3"][1] is None
    assert data.targets == {"k1": 60.0, "k2": 60.0, "k3": 60.0}
    assert data.target_lines == (60.0,)
    assert data.overall["k1"] == round(600 / 11, 4)


def test_figure_draws_the_sixty_percent_line_and_gaps(report: MeasuresReport) -> None:
    axes = build_figure(chart_data(report)).axes[0]
    target = [line for line in axes.lines if line.get_label() == "target 60 %"]
    assert len(target) == 1 and list(target[0].get_ydata()) == [60.0, 60.0]
    k1 = next(line for line in axes.lines if line.get_label().startswith("K1"))
    assert math.isnan(k1.get_ydata()[3])  # April: a gap, not 0
    assert "54.5 % overall" in k1.get_label()


def test_profiles_with_different_targets_draw_one_line_each(report: MeasuresReport) -> None:
    custom = replace(report, profile=TargetProfile("mixed", k1=0.7, k2=0.6, k3=0.5))
    data = chart_data(custom)
    assert data.target_lines == (50.0, 60.0, 70.0)
    labels = [line.get_label() for line in build_figure(data).axes[0].lines]
    assert "target 70 % (K1)" in labels and "target 50 % (K3)" in labels


def test_png_is_a_real_png(report: MeasuresReport, tmp_path: Path) -> None:
    png = render_png(report)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (990, 528)  # 9 x 4.8 inches at 110 dpi
    path = write_png(report, tmp_path / "k.png")
    assert path.read_bytes()[:8] == png[:8]
