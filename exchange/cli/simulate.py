"""``exchange simulate``: run a scenario file on a simulated clock and show the measures over time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from exchange.errors import InputError
from exchange.simulate.scenario import Scenario

if TYPE_CHECKING:
    from exchange.simulate.runner import DayDone, SimulationResult

#: where a run goes without --output (git-ignored)
DEFAULT_OUTPUT = Path("out/simulate")


def simulate_command(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help="scenario file (samples/scenarios/*.toml)",
                                             show_default=False)],
    seed: Annotated[str | None, typer.Option(help="random seed, a whole number >= 0 [default: the file's]")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="folder for the results "
                                                "[default: out/simulate/NAME-seedN]")] = None,
    workers: Annotated[int | None, typer.Option(help="worker processes for the bodies' signing and "
                                                "verifying [default: one per core; 0: none]")] = None,
    behind: Annotated[int, typer.Option("--behind", help="bodies furthest behind to list (0: none)")] = 10,
    json_out: Annotated[bool, typer.Option("--json", help="print the measures JSON, no progress bar")] = False,
) -> None:
    """Run SCENARIO through the hub's service on a simulated clock, with real signatures.

    Shows K1–K3 per month, the month each target was first met, and writes register.csv,
    incoming.csv, refusals.csv, measures.json/.csv and chart.png into --output. The same
    scenario and seed give identical results.
    """
    plan = Scenario.from_toml(scenario).with_seed(_seed(seed))
    # Imported once the scenario is known good: the hub's stack takes a moment to load.
    from exchange.simulate.runner import simulate

    if workers is not None and workers < 0:
        raise InputError(f"--workers: must be 0 or more, not {workers}")
    folder = output if output is not None else DEFAULT_OUTPUT / f"{plan.name}-seed{plan.seed}"
    if json_out:
        result = simulate(plan, folder, workers=workers)
        typer.echo(_json(result))
        return
    console = Console()
    console.print(f"[bold]{plan.name}[/]: {plan.description or ''}\n"
                  f"{len(plan.registry)} bodies, {plan.start} → {plan.end}, seed {plan.seed}")
    with _progress(console) as bar:
        task = bar.add_task("simulating", total=(plan.end - plan.start).days + 1, day="", docs=0)

        def advance(done: DayDone) -> None:
            bar.update(task, completed=done.index, day=done.day.isoformat(), docs=done.counts.documents)

        result = simulate(plan, folder, workers=workers, progress=advance)
    _show(console, result, behind)


def _seed(text: str | None) -> int | None:
    """The --seed option: one readable line for anything but a whole number >= 0."""
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"--seed: must be a whole number >= 0, not {text!r}") from None
    if value < 0:
        raise InputError(f"--seed: must be a whole number >= 0, not {value}")
    return value


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("days · {task.fields[day]} · {task.fields[docs]:,} documents"),
                    TimeElapsedColumn(), console=console, transient=False)


def _show(console: Console, result: SimulationResult, behind: int) -> None:
    from exchange.reporting import bodies_table, breakdown_table, measures_table

    report = result.report
    console.print(breakdown_table(report, "month"))
    console.print(measures_table(report))
    console.print(_first_met_table(result))
    if behind > 0:
        console.print(bodies_table(report.ranked_bodies(behind),
                                   title=f"Bodies furthest behind (K1 sent) · {report.period.label}"))
    counts = result.counts
    refused = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.refused.items())) or "none"
    console.print(f"{counts.documents:,} documents ({counts.signed:,} signed, {counts.unsigned:,} unsigned, "
                  f"{counts.paper:,} paper), {counts.receipts:,} signed receipts, "
                  f"{counts.incoming:,} incoming; refused: {refused}")
    console.print(f"{counts.signatures:,} signatures and {counts.verifications:,} verifications in "
                  f"{result.elapsed:.1f} s on {max(result.workers, 1)} worker(s)")
    console.print(f"written to {result.output}/: " + ", ".join(
        p.name for p in (result.files.register, result.files.incoming, result.files.refusals,
                         result.files.measures_json, result.files.measures_csv, result.files.chart)))


def _first_met_table(result: SimulationResult) -> Table:
    report = result.report
    table = Table(title="First month each target was met", title_justify="left")
    table.add_column("Measure")
    table.add_column("Target", justify="right")
    table.add_column("First met")
    for name, label in (("k1", "K1 documents electronic, signed, delivered"),
                        ("k2", "K2 bodies signing regularly"),
                        ("k3", "K3 outside documents scanned and entered")):
        month = result.first_met[name]
        target = getattr(report, name).target
        cell = (Text(f"✔ {month.period.label} ({getattr(month, name).percent()})", style="green")
                if month is not None else Text("✘ not met in the period", style="red"))
        table.add_row(label, "–" if target is None else f"{target * 100:g} %", cell)
    return table


def _json(result: SimulationResult) -> str:
    data: dict[str, Any] = json.loads(result.files.measures_json.read_text(encoding="utf-8"))
    data["output"] = str(result.output)
    return json.dumps(data, ensure_ascii=False, indent=2)
