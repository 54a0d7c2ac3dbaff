"""How validation reports and the hub's answers look on a terminal (the JSON form is their own)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import typer
from pydantic import BaseModel

from exchange.cms import Indication, Outcome, ValidationReport

_MARK = {Outcome.PASSED: ("✔", "green"), Outcome.FAILED: ("✘", "red"), Outcome.SKIPPED: ("–", "yellow")}
_COLOUR = {Indication.TOTAL_PASSED: "green", Indication.TOTAL_FAILED: "red", Indication.INDETERMINATE: "yellow"}


def print_report(report: ValidationReport, *, json_out: bool = False) -> None:
    """Print *report* as JSON or as a human-readable block."""
    if json_out:
        typer.echo(report.to_json(indent=2))
        return
    head = report.indication.value + (f" / {report.sub_indication.value}" if report.sub_indication else "")
    typer.secho(head, fg=_COLOUR[report.indication], bold=True)
    if not report.passed:
        typer.echo(f"  why: {report.reason}")
    if report.signer:
        s = report.signer
        typer.echo(f"signer:     {s.body_id or '?'} — {s.name} (serial {s.certificate.serial[:16]}…)")
    typer.echo(f"signed at:  {report.signing_time or 'not stated'}")
    if report.timestamp is not None:
        stamp = report.timestamp
        proof = "proof of existence" if stamp.passed else "NOT a proof of existence"
        typer.echo(f"time-stamp: {stamp.time} by {stamp.tsa or '?'} ({proof})")
    typer.echo(f"checked at: {report.validation_time}")
    if report.document_sha256:
        typer.echo(f"sha-256:    {report.document_sha256}")
    typer.echo("checks:")
    for number, check in enumerate(report.checks, 1):
        mark, colour = _MARK[check.outcome]
        typer.echo(f"  {typer.style(mark, fg=colour)} {number:>2} {check.name}: {check.detail}")
    for warning in report.warnings:
        typer.secho(f"warning: {warning}", fg="yellow")


def wire_json(value: BaseModel | Sequence[BaseModel]) -> str:
    """A hub's answer (a wire model, or a list of them) as ``--json`` prints it: the API's own
    JSON, indented, non-ASCII kept."""
    data = [item.model_dump(mode="json") for item in value] if isinstance(value, Sequence) else \
        value.model_dump(mode="json")
    return json.dumps(data, ensure_ascii=False, indent=2)
