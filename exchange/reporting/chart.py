"""A PNG chart of K1–K3 per month over the period, against the target line (60 % in 2015).

Drawn on a standalone :class:`Figure` through the Agg canvas directly (no pyplot, so no
global backend switch, no display, no network); the font is DejaVu Sans, bundled with
matplotlib, which covers Vietnamese. The data the chart is drawn from is
:func:`chart_data`, so tests check data, not pixels.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exchange.metrics import MeasuresReport
from exchange.reporting.verdict import percent

if TYPE_CHECKING:  # matplotlib loads in ~0.5 s: only when a chart is drawn, not per command
    from matplotlib.figure import Figure

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_COLOURS = {"k1": "#1f5fa8", "k2": "#d9822b", "k3": "#2e8b57"}
_NAMES = {"k1": "K1 documents electronic & signed",
          "k2": "K2 bodies signing regularly",
          "k3": "K3 outside documents scanned & entered"}
# typed Any: matplotlib types rc keys as Literals; a wrong key fails at run time (tested)
_STYLE: Any = {"font.family": "DejaVu Sans", "font.size": 10, "axes.spines.top": False,
               "axes.spines.right": False}


@dataclass(frozen=True, slots=True)
class ChartData:
    """What the chart shows: per month labels, each measure's values in percent (``None``:
    no data, drawn as a gap) and the target line(s) in percent."""

    title: str
    months: tuple[str, ...]
    series: dict[str, tuple[float | None, ...]]
    overall: dict[str, float | None]
    targets: dict[str, float]
    #: the overall figures as printed everywhere else (the one rounding rule)
    overall_text: dict[str, str] | None = None

    @property
    def target_lines(self) -> tuple[float, ...]:
        """The distinct target levels drawn (one line when all measures share a target)."""
        return tuple(sorted(set(self.targets.values())))


def chart_data(report: MeasuresReport) -> ChartData:
    """The series of :func:`render_png` for *report*, in percent."""
    def pct(value: float | None) -> float | None:
        return None if value is None else round(value * 100, 4)

    series = {name: tuple(pct(getattr(m, name).value) for m in report.months)
              for name in ("k1", "k2", "k3")}
    return ChartData(
        title=f"K1–K3 by month, {report.period.label} (targets: profile {report.profile.name})",
        months=tuple(f"{_MONTHS[m.period.start.month - 1]} {m.period.start.year}"
                     for m in report.months),
        series=series,
        overall={name: pct(getattr(report, name).value) for name in ("k1", "k2", "k3")},
        targets={name: report.profile.target(name) * 100 for name in ("k1", "k2", "k3")},
        overall_text={name: getattr(report, name).percent() for name in ("k1", "k2", "k3")},
    )


def build_figure(data: ChartData) -> Figure:
    """A matplotlib Figure of *data* (lines per measure, dashed target line(s))."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(_STYLE):
        figure = Figure(figsize=(9, 4.8), dpi=110, layout="constrained")
        axes = figure.add_subplot()
        x = list(range(len(data.months)))
        for name, values in data.series.items():
            overall = data.overall[name]
            if data.overall_text is not None:
                shown = data.overall_text[name]
            else:
                shown = "no data" if overall is None else percent(overall / 100)
            label = f"{_NAMES[name]} ({shown} overall)"
            axes.plot(x, [math.nan if v is None else v for v in values], marker="o",
                      linewidth=2, color=_COLOURS[name], label=label)
        for index in x:
            if all(values[index] is None for values in data.series.values()):
                axes.text(index, 2, "no data", ha="center", va="bottom", fontsize=8,
                          color="#777777", rotation=90)
        shared = len(data.target_lines) == 1
        for level in data.target_lines:
            names = [n.upper() for n, t in data.targets.items() if t == level]
            label = f"target {level:g} %" + ("" if shared else f" ({', '.join(names)})")
            axes.axhline(level, linestyle="--", linewidth=1.5, color="#b22222", label=label,
                         gid=f"target-{level:g}")
        axes.set_xticks(x, _tick_labels(data.months), fontsize=9)
        axes.set_xlim(-0.5, max(len(x) - 0.5, 0.5))
        axes.set_ylim(0, 105)
        axes.set_yticks(range(0, 101, 20), [f"{t} %" for t in range(0, 101, 20)])
        axes.grid(axis="y", alpha=0.3)
        axes.set_title(data.title, loc="left", fontsize=11)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False,
                    fontsize=9)
    return figure


def _tick_labels(months: tuple[str, ...]) -> list[str]:
    """``Jan`` under which the year is shown on the first month and each January; with many
    months, only every second or third is labelled so labels never collide."""
    step = 1 if len(months) <= 18 else 2 if len(months) <= 36 else 3
    labels = []
    for index, text in enumerate(months):
        name, year = text.split(" ")
        if index % step:
            labels.append("")
        elif index == 0 or name == "Jan":
            labels.append(f"{name}\n{year}")
        else:
            labels.append(name)
    return labels


def render_png(report: MeasuresReport) -> bytes:
    """The chart of *report* as PNG bytes."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = build_figure(chart_data(report))
    buffer = io.BytesIO()
    with rc_context(_STYLE):
        FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def write_png(report: MeasuresReport, path: str | Path) -> Path:
    """Write the chart of *report* to *path*; returns the path."""
    path = Path(path)
    path.write_bytes(render_png(report))
    return path
