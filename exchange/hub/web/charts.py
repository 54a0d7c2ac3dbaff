"""Server-rendered inline SVG charts: measures per month against the target line.

No script and no external resource: the chart is markup in the page, scales with its box,
and prints. Each point carries a ``<title>`` (shown on hover) with its exact counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from exchange.metrics import Measure

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 60, 74, 18, 46  # the target's label sits in the right margin
MARKERS = ("circle", "square", "triangle")  # shapes as well as colours: readable in greyscale
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Series:
    """One line: a CSS class for its colour (``k1``…), its legend text and one measure per month."""

    key: str
    label: str
    points: tuple[Measure, ...]


def month_label(label: str, *, with_year: bool) -> str:
    """``2015-03`` → ``Mar`` (``Mar 2015`` at the first month and each January)."""
    try:
        year, month = label.split("-")[:2]
        name = _MONTHS[int(month) - 1]
    except (ValueError, IndexError):
        return label
    return f"{name} {year}" if with_year else name


def _x(index: int, count: int) -> float:
    inner = WIDTH - LEFT - RIGHT
    if count <= 1:
        return LEFT + inner / 2
    return LEFT + inner * index / (count - 1)


def _y(value: float) -> float:
    inner = HEIGHT - TOP - BOTTOM
    return TOP + inner * (1 - max(0.0, min(1.0, value)))


def _marker(shape: str, x: float, y: float, css: str, title: str) -> str:
    tip = f"<title>{escape(title)}</title>"
    if shape == "square":
        return f'<rect class="pt {css}" x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10">{tip}</rect>'
    if shape == "triangle":
        pts = f"{x:.1f},{y - 6.5:.1f} {x + 6:.1f},{y + 4.5:.1f} {x - 6:.1f},{y + 4.5:.1f}"
        return f'<polygon class="pt {css}" points="{pts}">{tip}</polygon>'
    return f'<circle class="pt {css}" cx="{x:.1f}" cy="{y:.1f}" r="5.5">{tip}</circle>'


def line_chart(months: list[str], series: list[Series], *, target: float | None, title: str) -> Markup:
    """A chart of each series per month (0–100 %) with a dashed target line.

    Months without data leave a gap in the line instead of falling to 0 %.
    """
    count = len(months)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">',
             f"<title>{escape(title)}</title>"]
    for tick in range(0, 101, 20):
        y = _y(tick / 100)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 8}" y="{y + 5:.1f}" text-anchor="end">{tick} %</text>')
    step = max(1, -(-count // 12))  # at most ~12 month labels, whatever the period
    for index, label in enumerate(months):
        if index % step and index != count - 1:
            continue
        with_year = index == 0 or label.endswith("-01")
        x = _x(index, count)
        parts.append(f'<text class="axis" x="{x:.1f}" y="{HEIGHT - BOTTOM + 22}" text-anchor="middle">'
                     f"{escape(month_label(label, with_year=with_year))}</text>")
    if target is not None:
        y = _y(target)
        parts.append(f'<line class="target" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        # Outside the plot, right of the line's end: never on top of a month's point.
        x = WIDTH - RIGHT + 8
        parts.append(f'<text class="target-label" x="{x}" y="{y - 3:.1f}">target</text>'
                     f'<text class="target-label" x="{x}" y="{y + 15:.1f}">{target * 100:g} %</text>')
    for number, line in enumerate(series):
        shape = MARKERS[number % len(MARKERS)]
        runs: list[list[tuple[float, float]]] = [[]]
        markers: list[str] = []
        for index, measure in enumerate(line.points[:count]):
            if measure.value is None:
                runs.append([])
                continue
            x, y = _x(index, count), _y(measure.value)
            runs[-1].append((x, y))
            tip = (f"{line.label}, {months[index]}: {measure.percent()} "
                   f"({measure.numerator} of {measure.denominator})")
            markers.append(_marker(shape, x, y, line.key, tip))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(f'<polyline class="line {line.key}" points="{points}"/>')
        parts.extend(markers)
    if not count:
        parts.append(f'<text class="axis" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no months</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
