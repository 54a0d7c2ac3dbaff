"""``exchange report``: K1–K3 over a period (table, CSV, JSON, PNG chart), and the six-monthly report.

The register is read from a running hub (``--hub URL --token T``: its ``/api/bodies`` and
``/api/register``, with a person's token from ``exchange users token``) or straight from the hub's database (``--db URL``; by default the local
hub's, ``EXCHANGE_DB`` or ``EXCHANGE_DATA/hub.db``), and the measures are computed here with
:func:`exchange.metrics.compute`: the same function over the same rows as ``GET /api/measures``,
so the figures agree. Definitions: ``docs/measures.md``.

Where the output goes: ``table``, ``csv`` and ``json`` to standard output unless ``--output
FILE``; ``png``, ``md`` and ``html`` to a file, by default ``measures-PERIOD.png`` or
``report-PERIOD.md|html`` in the current directory (the path is printed). ``--output -`` sends
any text format to standard output; a PNG never goes there. Files are written whole or not at
all (a temporary file, then a rename).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from exchange.cli.common import BodiesOpt, CaOpt, JsonOpt, KeysOpt, parse_time, settings
from exchange.cli.sources import DatabaseSource, HubSource, RegisterSource
from exchange.config import Settings
from exchange.domain.bodies import BodyRegistry
from exchange.errors import InputError, InputFileError
from exchange.metrics import Breakdown, MeasuresReport, Period, TargetProfile, Unit, compute
from exchange.node.client import hub_trust
from exchange.pki import KeyStore, certificate_status
from exchange.pki.history import Revocation

_HALF = re.compile(r"^\d{4}H[12]$")


class ReportFormat(StrEnum):
    """The formats ``exchange report`` writes: a terminal table, CSV, JSON, a PNG chart, Markdown,
    HTML (and print-ready HTML)."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    PNG = "png"
    MD = "md"
    HTML = "html"
    PRINT = "print"  # HTML laid out for A4 paper: a browser's "Save as PDF" makes the PDF

    @classmethod
    def parse(cls, text: str) -> ReportFormat:
        """The format named *text* (any case); raises InputError listing the formats for an unknown
        one."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InputError(f"unknown format {text!r}; one of {', '.join(f.value for f in cls)}") from None

    @property
    def is_file(self) -> bool:
        """Written to a file unless told otherwise (an image, or a whole document)."""
        return self in (ReportFormat.PNG, ReportFormat.MD, ReportFormat.HTML, ReportFormat.PRINT)

    @property
    def is_document(self) -> bool:
        """The six-monthly report (with the previous period for the trend)."""
        return self in (ReportFormat.MD, ReportFormat.HTML, ReportFormat.PRINT)

    @property
    def suffix(self) -> str:
        """The file-name suffix of a report in this format (``print.html`` for print-ready HTML)."""
        return "print.html" if self is ReportFormat.PRINT else self.value


def report_command(
    period: Annotated[str | None, typer.Option(
        "--period", "-p", help="2015, 2015H1, 2015Q2, 2015-03 or FROM..TO (UTC) [this year, or the "
        "years the register spans]")] = None,
    from_day: Annotated[str | None, typer.Option("--from", help="first day YYYY-MM-DD (with --to)")] = None,
    to_day: Annotated[str | None, typer.Option("--to", help="last day YYYY-MM-DD, included")] = None,
    half: Annotated[str | None, typer.Option(
        "--half", help="the six-monthly report for a half-year, e.g. 2015H1 (format md unless --format)")] = None,
    by: Annotated[str | None, typer.Option("--by", help="breakdown: body (furthest behind first), "
                                                        "direction or month")] = None,
    unit: Annotated[str | None, typer.Option(
        "--unit", help="what K1 counts: row (document × recipient) or document (once, signed only if it "
        "reached every recipient so) [row]")] = None,
    year: Annotated[int | None, typer.Option(
        "--year", min=1900, max=9999, help="with --body: the body's yearly report (md, html or print)")] = None,
    body: Annotated[str | None, typer.Option("--body", help="with --year: the body (id) whose yearly report "
                                                            "to make")] = None,
    output_format: Annotated[str | None, typer.Option(
        "--format", "-f", help="table, csv, json, png, md, html or print (HTML for A4 paper) "
        "[table; md with --half or --year]")] = None,
    json_out: JsonOpt = False,
    output: Annotated[str | None, typer.Option(
        "--output", "-o", help="write to FILE (whole or not at all); - for standard output")] = None,
    profile: Annotated[str, typer.Option(help="targets: 2015 (60 %), 2020 (95 %) or a TOML file")] = "2015",
    top: Annotated[int | None, typer.Option(help="show at most N bodies")] = None,
    hub: Annotated[str | None, typer.Option("--hub", help="read the register of a running hub at URL (several, separated by commas: the next when one is down)")] = None,
    token: Annotated[str | None, typer.Option("--token", envvar="EXCHANGE_TOKEN", show_envvar=False,
                                              help="a person's token for --hub (exchange users token NAME) "
                                                   "[env EXCHANGE_TOKEN]")] = None,
    db: Annotated[str | None, typer.Option("--db", help="read the hub's database at URL [env EXCHANGE_DB; "
                                                        "default SQLite in --data]")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="the local hub's data directory [env "
                                                             "EXCHANGE_DATA, default data]")] = None,
    ca: CaOpt = None,
    keys: KeysOpt = None,
    bodies: BodiesOpt = None,
    at: Annotated[str | None, typer.Option(
        "--at", help="the time of the report (ISO-8601): certificates are judged then, or at the "
        "period's end if earlier [now]")] = None,
) -> None:
    """K1–K3 against the targets for a period, the programme's six-monthly report, or a body's
    yearly report."""
    if (year is None) != (body is None):
        raise InputError("--year and --body go together (a body's yearly report, e.g. --year 2015 --body "
                         "nghe-an); for the whole register give --period 2015")
    if year is not None and (period or from_day or to_day or half):
        raise InputError("--year names the period of a body's yearly report: leave out --period, --from/--to "
                         "and --half")
    fmt = _format(output_format, json_out=json_out, half=half or (str(year) if year else None))
    if year is not None and not fmt.is_document:
        raise InputError(f"a body's yearly report is md, html or print, not {fmt.value}")
    breakdown = Breakdown.parse(by)
    counted = Unit.parse(unit)
    if counted is Unit.DOCUMENT and breakdown is Breakdown.DIRECTION:
        raise InputError("K1 by direction counts register rows: a document may go to central and provincial "
                         "bodies at once (leave out --unit document, or choose another --by)")
    if counted is Unit.DOCUMENT and fmt.is_document:
        raise InputError("--unit document applies to the table, csv, json and png formats; the reports "
                         "count register rows, as the decision's K1 does")
    if breakdown is not None and fmt in (ReportFormat.PNG, ReportFormat.MD, ReportFormat.HTML, ReportFormat.PRINT):
        raise InputError(f"--by applies to the table, csv and json formats, not {fmt.value}")
    if top is not None and top < 1:
        raise InputError(f"--top must be at least 1, not {top}")
    if fmt is ReportFormat.PNG and output == "-":
        raise InputError("a PNG chart cannot go to standard output: give --output FILE.png")
    if hub and db:
        raise InputError("give --hub URL or --db URL, not both")
    chosen = Period.year(year) if year is not None else _period_option(period, from_day, to_day, half)
    targets = TargetProfile.load(profile)
    moment = parse_time(at)
    cfg = settings(keys_dir=keys, bodies_file=bodies, db_url=db, data_dir=data)

    source = _source(cfg, hub, ca, token)
    if body is not None and chosen is not None:
        try:
            document = _body_year(fmt, source, cfg, body, chosen, targets, moment)
        finally:
            source.close()
        for note in source.notes:
            typer.echo(f"note: {note}", err=True)
        _emit(fmt, document, output, chosen, stem=f"report-{chosen.label}-{body}")
        return
    try:
        the_period = chosen or source.default_period(at=moment)
        registry = source.bodies(the_period)
        previous = the_period.previous() if fmt.is_document else None
        before_bodies = source.bodies(previous) if previous is not None else registry
        # A receipt counts when it was made, always after its document was sent: only a rule
        # that counts receipts needs rows sent before the period (as GET /api/measures does).
        start = None if targets.regular_use.count_receipts else (previous or the_period).start
        rows = source.rows(start=start, end=the_period.end)
    finally:
        source.close()
    for note in source.notes:
        typer.echo(f"note: {note}", err=True)

    report = compute(rows.entries, rows.incoming, registry, the_period, targets, by=breakdown, unit=counted)
    if fmt.is_document:
        before = compute(rows.entries, rows.incoming, before_bodies, previous or the_period.previous(), targets)
        _emit(fmt, _document(fmt, report, before, cfg, registry, moment, top), output, the_period)
    elif fmt is ReportFormat.PNG:
        from exchange.reporting import render_png

        _emit(fmt, render_png(report), output, the_period)
    else:
        _emit(fmt, _text(fmt, report, source.description, len(rows.entries), len(rows.incoming),
                         top=top, to_terminal=output in (None, "-")), output, the_period)


# -- choosing ---------------------------------------------------------------------------------


def _format(text: str | None, *, json_out: bool, half: str | None) -> ReportFormat:
    if json_out and text is not None and ReportFormat.parse(text) is not ReportFormat.JSON:
        raise InputError(f"--json is short for --format json: it cannot go with --format {text}")
    if json_out:
        return ReportFormat.JSON
    if text is not None:
        return ReportFormat.parse(text)
    return ReportFormat.MD if half else ReportFormat.TABLE  # --half or --year: a document


def _period_option(period: str | None, from_day: str | None, to_day: str | None,
                   half: str | None) -> Period | None:
    """The period the options name, or None for the default; InputError when they conflict."""
    given = [name for name, value in (("--period", period), ("--from/--to", from_day or to_day),
                                      ("--half", half)) if value]
    if len(given) > 1:
        raise InputError(f"give one of --period, --from/--to and --half, not {' and '.join(given)}")
    if half:
        chosen = Period.parse(half)
        if not _HALF.match(chosen.label):
            raise InputError(f"--half {half!r} is not a half-year: give e.g. 2015H1 or 2015H2 "
                             "(--period takes any period)")
        return chosen
    if from_day or to_day:
        if not (from_day and to_day):
            raise InputError("--from and --to go together: give both days (YYYY-MM-DD), or --period")
        return Period.between(_day("--from", from_day), _day("--to", to_day))
    return Period.parse(period) if period else None


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{option} {text!r} is not a day (YYYY-MM-DD)") from None


def _source(cfg: Settings, hub: str | None, ca: Path | None, token: str | None) -> RegisterSource:
    if hub:
        return HubSource(hub, token=token, verify=hub_trust(hub, ca or cfg.keys_dir / "root-ca.pem"))
    url = cfg.db_url or f"sqlite:///{cfg.data_dir / 'hub.db'}"
    return DatabaseSource(url, bodies_file=cfg.bodies_file, fallback_bodies=cfg.resolved_bodies_file())


# -- rendering --------------------------------------------------------------------------------


def _text(fmt: ReportFormat, report: MeasuresReport, where: str, entries: int, incoming: int, *,
          top: int | None, to_terminal: bool) -> str:
    from exchange.reporting import render_text, to_csv, to_json

    if fmt is ReportFormat.JSON:
        return to_json(report) + "\n"
    if fmt is ReportFormat.CSV:
        return to_csv(report)
    colour = to_terminal and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    # Wide enough for the per-body table when written to a file or a pipe.
    width = max(100, shutil.get_terminal_size((150, 24)).columns) if colour else 150
    table = render_text(report, width=width, color=colour, limit=top)
    return table + (f"Read from {where}: {entries:,} register rows and {incoming:,} incoming "
                    f"documents; definitions in docs/measures.md.\n")


def _document(fmt: ReportFormat, report: MeasuresReport, previous: MeasuresReport, cfg: Settings,
              registry: BodyRegistry, moment: datetime, top: int | None) -> str:
    from exchange.reporting import HalfYearReport

    # Certificates are judged when the report is made, or at the period's end for a past one.
    judged = min(moment, report.period.end)
    half = HalfYearReport.build(report, previous=previous, certificates=_certificates(cfg, registry, judged),
                                at=judged, top=top or 10, prepared_at=moment, revocations=_revocations(cfg))
    if fmt is ReportFormat.MD:
        return half.to_markdown()
    return half.to_html(print_ready=fmt is ReportFormat.PRINT)


def _body_year(fmt: ReportFormat, source: RegisterSource, cfg: Settings, body_id: str, year: Period,
               targets: TargetProfile, moment: datetime) -> str:
    """A body's yearly report (section E.5): its rows split out of the whole register's."""
    from exchange.reporting.body_year import BodyYearReport

    registry = source.bodies(year)
    registry.get(body_id)  # UnknownBodyError naming the register's list
    start = None if targets.regular_use.count_receipts else year.start
    rows = source.rows(start=start, end=year.end)
    whole = compute(rows.entries, rows.incoming, registry, year, targets)
    sent = compute([e for e in rows.entries if e.sender == body_id],
                   [i for i in rows.incoming if i.body == body_id], registry, year, targets)
    received = compute([e for e in rows.entries if e.recipient == body_id], (), registry, year, targets)
    store = KeyStore.at(cfg.keys_dir)
    certificates = None
    if store.exists():
        from exchange.pki.history import issued

        certificates = issued(store)
    document = BodyYearReport.build(body_id, whole, sent_by_month=sent, received_by_month=received,
                                    refusals=source.refusals(body_id, year, rows.entries),
                                    certificates=certificates, revocations=_revocations(cfg) or (),
                                    prepared_at=moment)
    if fmt is ReportFormat.MD:
        return document.to_markdown()
    return document.to_html(print_ready=fmt is ReportFormat.PRINT)


def _revocations(cfg: Settings) -> list[Revocation] | None:
    """Every revocation in the CA's history (current and renewed certificates); None without a PKI."""
    from exchange.pki.history import revocations

    store = KeyStore.at(cfg.keys_dir)
    return revocations(store) if store.exists() else None


def _certificates(cfg: Settings, registry: BodyRegistry, at: datetime
                  ) -> list[tuple[str, str, datetime]] | None:
    """(body id, status, not_after) of each body's current certificate as ``keys list`` shows
    them; None when there is no key directory at hand (the report then says so)."""
    store = KeyStore.at(cfg.keys_dir)
    if not store.exists():
        return None
    crl = store.crl()
    found = []
    for body in registry:
        if store.has_body(body.id):
            cert = store.certificate(body.id)
            found.append((body.id, certificate_status(cert, crl, at=at).value, cert.not_valid_after_utc))
    return found


# -- writing ----------------------------------------------------------------------------------


def _emit(fmt: ReportFormat, content: str | bytes, output: str | None, period: Period, *,
          stem: str | None = None) -> None:
    if output == "-" or (output is None and not fmt.is_file):
        text = content if isinstance(content, str) else content.decode()
        typer.echo(text, nl=False)
        return
    if output:
        path = Path(output)
    elif stem:
        path = Path(f"{re.sub(r'[^0-9A-Za-z-]+', '_', stem)}.{fmt.suffix}")
    else:
        path = Path(_default_name(fmt, period))
    data = content.encode("utf-8") if isinstance(content, str) else content
    write_atomically(path, data)
    typer.echo(f"wrote {path} ({fmt.value}, {period.label})")


def _default_name(fmt: ReportFormat, period: Period) -> str:
    slug = re.sub(r"[^0-9A-Za-z-]+", "_", period.label.replace("..", "_to_"))
    stem = "measures" if fmt is ReportFormat.PNG else "report"
    return f"{stem}-{slug}.{fmt.suffix}"


def write_atomically(path: Path, data: bytes) -> None:
    """Write *data* to *path* through a temporary file in the same directory and a rename, so
    a reader never sees half a report. Raises InputFileError for a missing folder."""
    folder = path.parent
    if not folder.is_dir():
        raise InputFileError(f"cannot write {path}: no such directory {folder}")
    if path.is_dir():
        raise InputFileError(f"cannot write {path}: it is a directory")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise InputFileError(f"cannot write {path}: {exc.strerror or exc}") from None
