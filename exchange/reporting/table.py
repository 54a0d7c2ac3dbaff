"""The measures as rich tables: met and missed targets visible at a glance (✔ green, ✘ red).

:func:`measures_table` is the headline (K1, K1 verified, K2, K3); :func:`breakdown_table` the
rows of a breakdown, bodies ranked from furthest behind; :func:`render_text` both, as text.
"""

from __future__ import annotations

import io

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from exchange.metrics import (
    BodyMeasures,
    Breakdown,
    ChannelCounts,
    Measure,
    MeasuresReport,
    Unit,
    UseStatus,
)
from exchange.reporting.verdict import count_text, shortfall, target_text, verdict

_USE_STYLE = {UseStatus.REGULAR: "green", UseStatus.OCCASIONAL: "yellow",
              UseStatus.NO_SIGNATURES: "red", UseStatus.NO_TRAFFIC: "dim"}


def _value_cell(measure: Measure, *, with_count: bool = True) -> Text:
    """``✔ 62.5 %  5 / 8`` coloured by the verdict."""
    v = verdict(measure)
    text = Text(f"{v.mark} {measure.percent()}", style=v.colour)
    if with_count and measure.denominator:
        text.append(f"  {count_text(measure)}", style="dim")
    return text


def _channels_text(channels: ChannelCounts) -> str:
    return (f"{channels.signed_valid:,} signed · {channels.signed_invalid:,} refused · "
            f"{channels.unsigned:,} unsigned · {channels.paper:,} paper")


def measures_table(report: MeasuresReport) -> Table:
    """K1, K1 verified, K2, K3 against the profile's targets, one row each."""
    unit = " · K1 per document" if report.unit is Unit.DOCUMENT else ""
    table = Table(title=f"Measures K1–K3 · {report.period.label} · targets {report.profile.name}{unit}",
                  title_justify="left", caption=_caption(report), caption_justify="left")
    table.add_column("", width=1)
    table.add_column("Measure")
    table.add_column("Value", justify="right")
    table.add_column("Count", justify="right")
    table.add_column("Target", justify="right")
    table.add_column("Verdict")
    for measure in report.measures():
        v = verdict(measure)
        strict = measure.name == "k1_verified"
        table.add_row(
            Text(v.mark, style=f"bold {v.colour}"),
            Text(measure.label, style="dim" if strict else ""),
            Text(measure.percent(), style=f"bold {v.colour}" if not strict else v.colour),
            count_text(measure),
            target_text(measure.target),
            Text(v.word, style=v.colour),
        )
    return table


def _caption(report: MeasuresReport) -> str:
    counted = "documents" if report.unit is Unit.DOCUMENT else "register rows"
    parts = [f"{counted} by channel: {_channels_text(report.channels)}"]
    if report.k2_reach is not None and report.k2.met is False and report.k2_reach.explanation():
        parts.append(str(report.k2_reach.explanation()))
    if report.excluded_entries or report.excluded_incoming:
        parts.append(f"left out (not between two configured bodies): "
                     f"{report.excluded_entries:,} rows, {report.excluded_incoming:,} incoming")
    return "\n".join(parts)


def breakdown_table(report: MeasuresReport, by: Breakdown | str | None = None, *,
                    limit: int | None = None) -> Table:
    """The rows of one breakdown (``by`` defaults to the report's); bodies furthest behind first."""
    choice = Breakdown.parse(by) if by is not None else report.by
    if choice is Breakdown.BODY:
        return bodies_table(report.ranked_bodies(limit), title=f"Bodies, furthest behind first · "
                            f"{report.period.label}")
    if choice is Breakdown.DIRECTION:
        return _directions_table(report)
    if choice is Breakdown.MONTH:
        return _months_table(report)
    return measures_table(report)


def bodies_table(rows: list[BodyMeasures], *, title: str = "Bodies") -> Table:
    """One row per body, in the order given (rank them with ``furthest_behind`` first)."""
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("Body")
    table.add_column("Kind")
    table.add_column("K1 sent", justify="right")
    table.add_column("vs target", justify="right")
    table.add_column("K1 received", justify="right")
    table.add_column("K2 use (weeks)")
    table.add_column("K3", justify="right")
    for rank, row in enumerate(rows, 1):
        gap = row.gap
        gap_text = Text(shortfall(row.sent), style="red" if gap is not None and gap > 0 else "dim")
        use = row.use
        table.add_row(
            str(rank),
            Text(row.body.name_vi).append(f"\n{row.body.id}", style="dim"),
            row.body.kind.value,
            _value_cell(row.sent),
            gap_text,
            _value_cell(row.received),
            Text(f"{use.status.value} {use.weeks.numerator}/{use.weeks.denominator}",
                 style=_USE_STYLE[use.status]),
            _value_cell(row.incoming, with_count=False),
        )
    return table


def _directions_table(report: MeasuresReport) -> Table:
    table = Table(title=f"K1 by direction · {report.period.label}", title_justify="left")
    table.add_column("Direction")
    table.add_column("K1", justify="right")
    table.add_column("K1 verified", justify="right")
    table.add_column("Channels")
    for row in report.directions:
        table.add_row(row.direction.label, _value_cell(row.k1), _value_cell(row.k1_verified),
                      Text(_channels_text(row.channels), style="dim"))
    return table


def _months_table(report: MeasuresReport) -> Table:
    table = Table(title=f"By month · {report.period.label}", title_justify="left")
    table.add_column("Month")
    table.add_column("K1", justify="right")
    table.add_column("K2", justify="right")
    table.add_column("K3", justify="right")
    table.add_column("Rows", justify="right")
    for row in report.months:
        table.add_row(row.period.label, _value_cell(row.k1), _value_cell(row.k2),
                      _value_cell(row.k3), f"{row.channels.total:,}")
    return table


def renderable(report: MeasuresReport, *, limit: int | None = None) -> RenderableType:
    """The headline table, followed by the requested breakdown if any."""
    parts: list[RenderableType] = [measures_table(report)]
    if report.by is not None:
        parts += [Text(""), breakdown_table(report, limit=limit)]
    return Group(*parts)


def render_text(report: MeasuresReport, *, width: int = 110, color: bool = False,
                limit: int | None = None) -> str:
    """The tables as text (ANSI colours only with ``color=True``)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None, legacy_windows=False)
    console.print(renderable(report, limit=limit))
    return buffer.getvalue()
