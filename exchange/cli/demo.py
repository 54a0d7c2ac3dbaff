"""``exchange demo``: a hub and one process per body exchanging real signed documents, live.

The work is :class:`exchange.simulate.demo.Demo`'s; this module presents it: a live table of
what each body has sent, had refused and received, the measures K1–K3 as the hub computes
them, then the final measures table and the dashboard's address.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from exchange.domain.bodies import BodyKind
from exchange.metrics import Measure, MeasuresReport
from exchange.reporting import breakdown_table, renderable
from exchange.reporting.verdict import count_text, verdict
from exchange.simulate.demo import Demo, DemoConfig, Progress, RevocationProof
from exchange.simulate.demo_plan import DEFAULT_BODIES, DEFAULT_DOCUMENTS

_STATE_STYLE = {"starting": "dim", "ready": "dim", "sending": "cyan", "locked": "bold red",
                "sent-all": "green", "done": "green", "failed": "bold red"}


def demo_command(
    bodies: Annotated[int, typer.Option("--bodies", min=2, max=80, help="how many bodies (central and provincial)")]
    = DEFAULT_BODIES,
    documents: Annotated[int, typer.Option("--documents", min=1, max=5000, help="how many documents they send")]
    = DEFAULT_DOCUMENTS,
    port: Annotated[int | None, typer.Option("--port", min=1, max=65535,
                                             help="the hub's port [8000, or the next free one]")] = None,
    exit_: Annotated[bool, typer.Option("--exit", help="stop as soon as the traffic ends")] = False,
    data: Annotated[Path, typer.Option("--data", help="the demo folder, replaced at each run")] = Path("demo-data"),
    seconds: Annotated[float | None, typer.Option("--seconds", min=1.0, max=3600.0,
                                                  help="seconds of traffic [0.25 per document, at least 6]")] = None,
    seed: Annotated[int, typer.Option(help="random seed of the plan")] = 2015,
    scenario: Annotated[Path | None, typer.Option("--scenario", help="a scenario file instead of the built-in "
                                                  "one (its first --bodies bodies, its period compressed)")] = None,
    tls: Annotated[bool, typer.Option("--tls/--no-tls", help="HTTPS (the hub's certificate from the demo PKI) "
                                      "or plain HTTP")] = True,
) -> None:
    """Start a hub and one node process per body; they exchange real signed documents over HTTPS.

    Shows K1–K3 as they move, then the final measures and the dashboard's address.

    The hub keeps serving until Ctrl-C (--exit: stop when the traffic ends); every process is stopped.
    """
    console = Console(highlight=False)
    if not console.is_terminal:  # a log or a pipe: wide enough for the tables, no live redraw
        console = Console(highlight=False, width=120)
    config = DemoConfig(folder=data, bodies=bodies, documents=documents, port=port, seed=seed,
                        duration=seconds, scenario_file=scenario, tls=tls)
    started = time.monotonic()

    def event(text: str) -> None:
        console.print(f"[dim]{time.monotonic() - started:5.1f}s[/] {text}")

    with _signals_interrupt(), Demo(config, on_event=event) as demo:
        plan = demo.prepare()
        central = sum(1 for b in plan.bodies if b.kind is BodyKind.CENTRAL)
        clock = plan.clock()
        event(f"{len(plan.bodies)} bodies ({central} central, {len(plan.bodies) - central} provincial), "
              f"{plan.documents} documents to {plan.rows} recipients and {plan.arrivals} from outside agencies, "
              f"over {plan.duration:.0f} s; a fresh demo PKI in {demo.keys_dir}/")
        event(f"the programme's calendar: {clock.start:%d %b %Y} to {clock.end or clock.start:%d %b %Y} in "
              f"{plan.duration:.0f} s (a day every {86400 / clock.rate:.2f} s); hub and nodes share the "
              f"clock in {demo.clock_path}")
        demo.start()
        assert demo.hub is not None
        event(f"hub on {demo.url}/ (pid {demo.hub.process.pid}, SQLite in {demo.hub_dir}/, trainer buttons on); "
              f"{len(demo.nodes)} node processes logged in (pids in {demo.folder}/pids.json)")
        event("the pages need a login: " + ", ".join(f"{name} / {password}" for name, password in demo.logins.items())
              + f" (in {demo.folder}/logins.txt)")
        try:
            with Live(_view(demo.progress), console=console, refresh_per_second=4) as live:
                demo.run_traffic(refresh=lambda p: live.update(_view(p)))
        except KeyboardInterrupt:
            console.print("\ninterrupted: stopping the nodes and the hub…")
            raise
        finally:
            console.print()
        report = demo.final_report()
        console.print(renderable(report, limit=len(plan.bodies)))
        console.print(breakdown_table(demo.final_report(by="month"), "month"))
        console.print(_halves_table([demo.final_report(half, by=None) for half in demo.halves()]))
        for proof in demo.revocation_proofs():
            _print_proof(console, proof, demo.url)
        console.print(f"dashboard: [bold]{demo.url}/[/]  (this run: {demo.dashboard_url()})")
        console.print("log in as " + " or ".join(f"[bold]{name}[/] / [bold]{password}[/]"
                                                  for name, password in demo.logins.items())
                      + f"  (also in {demo.folder}/logins.txt)")
        console.print(f"the same figures from the database, with the CA's history: exchange report --db "
                      f"sqlite:///{demo.hub_dir}/hub.db --keys {demo.keys_dir} --half {demo.halves()[0].label}  "
                      f"(or --period {demo.period().label} --by month; a body's year: --year "
                      f"{demo.period().start.year} --body ID)")
        event("traffic done")
        if exit_:
            return
        console.print(f"The hub keeps serving; press Ctrl-C to stop it. Try, in another shell (the hub's clock "
                      f"stands at the end of the run):\n"
                      f"  EXCHANGE_CLOCK={demo.clock_path} exchange node inbox --all --as {plan.bodies[0].id} "
                      f"--hub {demo.url} --keys {demo.keys_dir}"
                      + (f"\n  curl --cacert {demo.keys_dir}/root-ca.pem -H 'Authorization: Bearer {demo.auditor_token}' "
                         f"'{demo.url}/api/measures?period={demo.period().label}'" if tls else ""))
        try:
            demo.serve()
        except KeyboardInterrupt:
            console.print("stopping the hub…")
    console.print("stopped every process the demo started")


def _print_proof(console: Console, proof: RevocationProof, url: str) -> None:
    """What revoking a body did to the documents it had already sent: nothing, thanks to the
    hub's time-stamps."""
    when = proof.revoked_at.strftime("%d %b %Y %H:%M:%S")  # the run's calendar
    if not proof.documents:
        console.print(f"{proof.body}: revoked at {when} UTC before the hub accepted any of its signed documents")
        return
    def counts(verdicts: Counter[str]) -> str:
        return ", ".join(f"{n} {verdict}" for verdict, n in verdicts.most_common())
    documents = "signed document" if proof.documents == 1 else "signed documents"
    console.print(
        f"[bold]{proof.body}[/]: certificate revoked at {when} UTC. Its {proof.documents} {documents} "
        f"accepted before then, validated again now with the CRL that revokes it: "
        f"[green]{counts(proof.stamped)}[/] — each carries the hub's RFC 3161 time-stamp, proof the signature "
        f"existed before the revocation. The same signatures without it: [yellow]{counts(proof.bare)}[/].")
    if proof.example:
        console.print(f"  see {url}/documents/{proof.example}  (\"Validated again now\")")


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP end the demo as Ctrl-C does, so its children are stopped too; Ctrl-C
    works even if the shell started us with SIGINT ignored (a background job)."""

    def interrupt(signum: int, _: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _halves_table(reports: list[MeasuresReport]) -> Table:
    """K1–K3 of each half-year: what ``exchange report --half`` prints for it."""
    table = Table(title="Half-years (the six-monthly reports)", title_justify="left")
    table.add_column("Half-year")
    for name in ("K1", "K1 verified", "K2", "K3"):
        table.add_column(name, justify="right")
    for report in reports:
        cells = []
        for measure in report.measures():
            v = verdict(measure)
            cells.append(Text(f"{v.mark} {measure.percent()}  {count_text(measure)}", style=v.colour))
        table.add_row(report.period.label, *cells)
    return table


def _view(progress: Progress | None) -> RenderableType:
    if progress is None:
        return Text("")
    return Group(_headline(progress), _bodies_table(progress))


def _headline(progress: Progress) -> Text:
    text = Text()
    text.append(f"{progress.phase:<9} ", style="bold")
    text.append(f"{progress.done}/{progress.planned} documents  "
                f"{min(progress.elapsed, progress.duration):4.0f}/{progress.duration:.0f} s   ")
    measures = progress.measures or {}
    for name in ("k1", "k2", "k3"):
        text.append_text(_measure(name, measures.get(name)))
        text.append("   ")
    return text


def _measure(name: str, data: dict[str, Any] | None) -> Text:
    if not data or data.get("value") is None:
        return Text(f"{name.upper()} —", style="dim")
    style = "green" if data.get("met") else "red"
    mark = "✔" if data.get("met") else "✘"
    shown = Measure.of(name, data["numerator"], data["denominator"], data.get("target")).percent()
    return Text(f"{name.upper()} {mark} {shown} ({data['numerator']}/{data['denominator']})", style=style)


def _bodies_table(progress: Progress) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column, justify in (("body", "left"), ("kind", "left"), ("sent", "right"), ("signed", "right"),
                            ("unsigned", "right"), ("paper", "right"), ("refused", "left"), ("received", "right"),
                            ("acked", "right"), ("outside (scanned)", "right"), ("state", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for b in progress.bodies.values():
        refused = ", ".join(f"{n} {why}" for why, n in sorted(b.refused.items())) or "—"
        table.add_row(b.body, b.kind, f"{b.documents}/{b.planned}", str(b.sent["signed_valid"]),
                      str(b.sent["unsigned"]), str(b.sent["paper"]),
                      Text(refused, style="red" if b.refused else "dim"), str(b.received), str(b.acknowledged),
                      f"{b.incoming} ({b.scanned})", Text(b.state, style=_STATE_STYLE.get(b.state, "")))
    return table
