"""What a simulation leaves in its output folder, each file written whole or not at all.

- ``register.csv``   the register: one row per (document, recipient), every channel
- ``incoming.csv``   documents from outside agencies, scanned and entered or not (K3)
- ``refusals.csv``   every document or receipt the hub refused, and why (ETSI sub-indication)
- ``measures.json``  K1–K3 over the period and per month (``exchange report`` JSON), plus
  ``simulation``: the scenario, seed, the month each target was first met, and counts
- ``measures.csv``   the same measures, long format
- ``chart.png``      K1–K3 per month against the targets
- ``keys/`` and ``hub/``: the run's own demo PKI and hub store (SQLite, blobs)

Nothing in these files depends on the wall clock or the machine: the same scenario and seed
give byte-identical CSV and JSON.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from exchange.domain.register import IncomingEntry, RegisterEntry
from exchange.errors import InputError
from exchange.metrics import MeasuresReport, MonthMeasures
from exchange.reporting.chart import render_png
from exchange.reporting.export import to_csv

#: the file that marks a folder as a simulation's output, so a re-run may replace it
MARKER = ".exchange-simulation"
REGISTER_COLUMNS = ("document_id", "sender", "recipient", "channel", "sent_at", "delivered",
                    "verified_by_recipient", "receipt_status", "receipt_at")
INCOMING_COLUMNS = ("entry_id", "body", "from_agency", "received_at", "scanned", "entered")
REFUSAL_COLUMNS = ("kind", "document_id", "sender", "recipient", "at", "code", "indication",
                   "sub_indication", "explanation")
MEASURES = ("k1", "k2", "k3")


E = TypeVar("E")  # a register or incoming entry


def prepare(output: Path) -> None:
    """Make *output* an empty folder for a new run.

    A folder that a previous simulation wrote (it holds the marker) is replaced; any other
    non-empty folder is refused (InputError), so a typo cannot wipe someone's files.
    """
    if output.exists():
        if not output.is_dir():
            raise InputError(f"--output {output} exists and is not a folder")
        if any(output.iterdir()):
            if not (output / MARKER).is_file():
                raise InputError(f"--output {output} is not empty and is not a simulation's output; "
                                 "choose another folder")
            shutil.rmtree(output)
    output.mkdir(parents=True, exist_ok=True)
    (output / MARKER).write_text("output of `exchange simulate`; replaced by the next run here\n",
                                 encoding="utf-8")


@contextmanager
def atomic(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Write *path* through a temporary file renamed into place only on success."""
    part = path.with_name(f".{path.name}.part")
    try:
        with part.open(mode, encoding="utf-8", newline="") if "b" not in mode else part.open(mode) as out:
            yield out
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def text(value: object) -> str:
    """One CSV cell: ISO-8601 UTC times with Z, true/false, empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def register_rows(entries: Iterable[RegisterEntry], out: IO[str]) -> Iterator[RegisterEntry]:
    """Pass *entries* through while writing them to *out* as CSV (so the measures and the file
    come from the same single read of the register).

    The hub streams the register ordered by time; rows of the same instant (the recipients
    of one document) are written sorted, so the file does not depend on storage order.
    """
    return _stream_csv(entries, out, REGISTER_COLUMNS, moment=lambda e: e.sent_at,
                       order=lambda e: (e.document_id, e.recipient), row=_register_row)


def _register_row(e: RegisterEntry) -> tuple[str, ...]:
    return (e.document_id, e.sender, e.recipient, e.channel.value, text(e.sent_at), text(e.delivered),
            text(e.verified_by_recipient), e.receipt_status.label if e.receipt_status else "",
            text(e.receipt_at))


def incoming_rows(entries: Iterable[IncomingEntry], out: IO[str]) -> Iterator[IncomingEntry]:
    """As :func:`register_rows`, for the incoming log."""
    return _stream_csv(entries, out, INCOMING_COLUMNS, moment=lambda e: e.received_at,
                       order=lambda e: e.entry_id, row=_incoming_row)


def _incoming_row(e: IncomingEntry) -> tuple[str, ...]:
    return (e.entry_id, e.body, e.from_agency, text(e.received_at), text(e.scanned), text(e.entered))


def _stream_csv(entries: Iterable[E], out: IO[str], columns: Sequence[str], *, moment: Callable[[E], Any],
                order: Callable[[E], Any], row: Callable[[E], Sequence[str]]) -> Iterator[E]:
    """Yield *entries* while writing them as CSV rows; rows of one *moment* sorted by *order*."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    group: list[E] = []
    for entry in entries:
        if group and moment(entry) != moment(group[0]):
            writer.writerows(row(e) for e in sorted(group, key=order))
            group = []
        group.append(entry)
        yield entry
    writer.writerows(row(e) for e in sorted(group, key=order))


class RefusalLog:
    """``refusals.csv``, appended to while the simulation runs."""

    def __init__(self, out: IO[str]) -> None:
        self._writer = csv.writer(out, lineterminator="\n")
        self._writer.writerow(REFUSAL_COLUMNS)

    def add(self, *, kind: str, document_id: str, sender: str, recipient: str, at: datetime, code: str,
            indication: str, sub_indication: str, explanation: str) -> None:
        """Append one refused document or receipt: who, when, the hub's code and the validation's
        indication and why."""
        self._writer.writerow((kind, document_id, sender, recipient, text(at), code, indication,
                               sub_indication, explanation))


def first_met(report: MeasuresReport) -> dict[str, MonthMeasures | None]:
    """For K1, K2 and K3: the first month in which the month's own figure met its target."""
    found: dict[str, MonthMeasures | None] = {}
    for name in MEASURES:
        found[name] = next((m for m in report.months if getattr(m, name).met), None)
    return found


@dataclass(frozen=True)
class Written:
    """The files a simulation wrote: register, incoming, refusals, measures (JSON, CSV) and the
    chart."""

    register: Path
    incoming: Path
    refusals: Path
    measures_json: Path
    measures_csv: Path
    chart: Path


def write_measures(output: Path, report: MeasuresReport, simulation: dict[str, Any]) -> tuple[Path, Path, Path]:
    """``measures.json`` (the report's JSON plus *simulation*), ``measures.csv``, ``chart.png``."""
    data = report.to_dict()
    data["simulation"] = simulation
    json_path, csv_path, png_path = output / "measures.json", output / "measures.csv", output / "chart.png"
    with atomic(json_path) as out:
        out.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    with atomic(csv_path) as out:
        out.write(to_csv(report))
    with atomic(png_path, "wb") as out:
        out.write(render_png(report))
    return json_path, csv_path, png_path
