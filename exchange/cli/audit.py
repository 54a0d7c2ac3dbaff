"""``exchange audit``: the auditor's commands over the hub's tamper-evident log.

Exit statuses like ``verify``: 0 passed, 1 failed (something was altered, or a history
rewritten), 3 indeterminate, 2 a usage error.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from exchange.audit import Verdict, verify_file
from exchange.audit.replay import ReplayResult, replay
from exchange.audit.report import indication_of
from exchange.audit.verify import check_signed_checkpoint
from exchange.audit.watch import check_extension, load_state, save_state
from exchange.cli.common import JsonOpt, KeysOpt, settings
from exchange.cli.hublog import HubLog
from exchange.cli.signing import EXIT_BY_INDICATION
from exchange.cms import Indication, Outcome, Verifier
from exchange.errors import InputError, InputFileError, NotFoundError
from exchange.metrics.periods import Period
from exchange.node.client import hub_trust
from exchange.pki import KeyStore, PathValidator, load_certificate_file, load_crl
from exchange.pki.certificates import read_file
from exchange.tlog import SignedCheckpoint

app = typer.Typer(help="Audit the hub's tamper-evident log: checkpoints, evidence bundles and archives "
                       "(checked offline), replays of the whole log, a monitor of its history.",
                  no_args_is_help=True)
log_app = typer.Typer(help="The whole log against the register.", no_args_is_help=True)
app.add_typer(log_app, name="log")

HubOpt = Annotated[str | None, typer.Option("--hub", help="hub URL, or several separated by commas (hub processes "
                                           "sharing one database: the next is used when one is down) [env EXCHANGE_HUB]")]
CaOpt = Annotated[Path | None, typer.Option("--ca", help="trusted root certificate [KEYS/root-ca.pem]")]
CrlOpt = Annotated[Path | None, typer.Option("--crl", help="CRL to enforce on the hub's certificate")]
OutOpt = Annotated[Path, typer.Option("--output", "-o", help="file to write")]


TokenOpt = Annotated[str | None, typer.Option("--token", envvar="EXCHANGE_TOKEN", show_envvar=False,
                                              help="a person's token (exchange users token NAME) for "
                                                   "bundles, archives and the register [env EXCHANGE_TOKEN]")]


def _hub(url: str | None, ca: Path | None = None, keys: Path | None = None, token: str | None = None) -> HubLog:
    """The hub's log (public) and evidence (a person's token); over https, its TLS certificate
    must chain to the demo root."""
    cfg = settings(keys_dir=keys)
    target = url or cfg.hub_url
    return HubLog(target, token=token, verify=hub_trust(target, ca or KeyStore.at(cfg.keys_dir).root_path))


def _verifier(ca: Path | None, keys: Path | None, crl: Path | None = None) -> Verifier:
    store = KeyStore.at(settings(keys_dir=keys).keys_dir)
    root = ca or store.root_path
    if not root.is_file():
        raise InputFileError(f"no trusted root: give --ca ROOT.pem (no {root})")
    crls = [load_crl(read_file(crl), source=str(crl))] if crl else []
    return Verifier(paths=PathValidator(trust_anchors=load_certificate_file(root), crls=crls))


def _print_verdict(verdict: Verdict, *, all_checks: bool) -> None:
    mark = {Indication.TOTAL_PASSED: "✔", Indication.TOTAL_FAILED: "✘", Indication.INDETERMINATE: "?"}
    typer.echo(f"{mark[verdict.indication]} {verdict.subject}: {verdict.indication.value}")
    for check in verdict.checks:
        if all_checks or check.outcome is Outcome.FAILED:
            sign = "FAILED" if check.outcome is Outcome.FAILED else "ok"
            typer.echo(f"    {check.name}: {sign} — {check.detail}")


@app.command("checkpoint")
def checkpoint_command(hub: HubOpt = None, output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="save the signed note here (and its CMS as FILE.p7s)")] = None,
        ca: CaOpt = None, crl: CrlOpt = None, keys: KeysOpt = None, json_out: JsonOpt = False) -> None:
    """Fetch the hub's current checkpoint and check its signatures (CMS and signed note)."""
    verifier = _verifier(ca, keys, crl)
    with _hub(hub, ca, keys) as source:
        signed = source.checkpoint()
    verdict = check_signed_checkpoint(signed, verifier)
    if output is not None:
        output.write_bytes(signed.note)
        output.with_name(output.name + ".p7s").write_bytes(signed.cms)
    if json_out:
        typer.echo(json.dumps({"origin": signed.checkpoint.origin, "size": signed.checkpoint.size,
                               "root_hash": signed.checkpoint.root.hex(), **verdict.to_dict()}, ensure_ascii=False))
    else:
        typer.echo(signed.note.decode("utf-8"), nl=False)
        _print_verdict(verdict, all_checks=True)
        if output is not None:
            typer.echo(f"saved {output} and {output}.p7s "
                       f"(openssl cms -verify -binary -inform DER -in {output}.p7s -content TEXT ...)")
    raise typer.Exit(EXIT_BY_INDICATION[verdict.indication])


@app.command("bundle")
def bundle_command(document_id: Annotated[str, typer.Argument(help="document id")], output: OutOpt,
                   hub: HubOpt = None, ca: CaOpt = None, keys: KeysOpt = None, token: TokenOpt = None) -> None:
    """Download one document's evidence bundle (a zip) to check offline with `audit verify`."""
    with _hub(hub, ca, keys, token) as source:
        source.download(f"/api/audit/documents/{document_id}/bundle", output)
    typer.echo(f"saved {output}: check it offline with `exchange audit verify {output} --ca ROOT.pem`")


@app.command("archive")
def archive_command(period: Annotated[str, typer.Option("--period", help="2015, 2015H1, 2015-03 …")],
                    output: OutOpt, hub: HubOpt = None, ca: CaOpt = None, keys: KeysOpt = None,
                    token: TokenOpt = None) -> None:
    """Download every document of PERIOD with its evidence (one zip) to check offline."""
    chosen = Period.parse(period)
    with _hub(hub, ca, keys, token) as source:
        source.download("/api/audit/archive", output, period=chosen.label)
    typer.echo(f"saved {output}: check it offline with `exchange audit verify {output} --ca ROOT.pem`")


@app.command("verify")
def verify_command(file: Annotated[Path, typer.Argument(help="evidence bundle or archive (zip)")],
                   ca: Annotated[Path, typer.Option("--ca", help="trusted root certificate (PEM)")],
                   workers: Annotated[int | None, typer.Option("--workers", help="processes [all cores]")] = None,
                   verbose: Annotated[bool, typer.Option("--verbose", "-v", help="every check, not only failures")]
                   = False, json_out: JsonOpt = False) -> None:
    """Check a bundle or archive offline: the checkpoint's signatures, each entry's inclusion
    proof, the register's rows, the document's bytes and signature, the receipts."""
    if not file.is_file():
        raise InputFileError(f"no such file: {file}")
    if workers is not None and workers < 1:
        raise InputError("--workers must be at least 1")
    counts = {i: 0 for i in Indication}
    worst: list[Indication] = []
    console = Console(stderr=True)
    show_bar = not json_out and console.is_terminal
    with Progress(TextColumn("[bold]verifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not show_bar) as bar:
        task = bar.add_task("documents", total=None)
        for verdict in verify_file(file, ca, workers=workers,
                                   progress=lambda done, total: bar.update(task, completed=done, total=total)):
            if verdict.subject != "checkpoint":
                counts[verdict.indication] += 1
            worst.append(verdict.indication)
            if json_out:
                typer.echo(json.dumps(verdict.to_dict(), ensure_ascii=False))
            elif verbose or verdict.indication is not Indication.TOTAL_PASSED or verdict.subject == "checkpoint":
                _print_verdict(verdict, all_checks=verbose or verdict.subject == "checkpoint")
            if len(worst) > 2:  # keep only the worst so far: memory stays flat
                worst[:] = [_worst(worst)]
    result = _worst(worst) if worst else Indication.TOTAL_FAILED
    if not json_out:
        total = sum(counts.values())
        typer.echo(f"{result.value}: {total} documents — {counts[Indication.TOTAL_PASSED]} passed, "
                   f"{counts[Indication.TOTAL_FAILED]} failed, {counts[Indication.INDETERMINATE]} indeterminate")
    raise typer.Exit(EXIT_BY_INDICATION[result])


def _worst(indications: list[Indication]) -> Indication:
    if Indication.TOTAL_FAILED in indications:
        return Indication.TOTAL_FAILED
    if Indication.INDETERMINATE in indications:
        return Indication.INDETERMINATE
    return Indication.TOTAL_PASSED


@log_app.command("verify")
def log_verify_command(hub: Annotated[str | None, typer.Option("--hub", help="a running hub's URL (or several, separated by commas)")] = None,
                       db: Annotated[str | None, typer.Option("--db", help="the hub's database URL")] = None,
                       data: Annotated[Path | None, typer.Option(
                           "--data", help="the hub's data folder, to check its blobs (with --db)")] = None,
                       ca: CaOpt = None, keys: KeysOpt = None, token: TokenOpt = None,
                       json_out: JsonOpt = False) -> None:
    """Replay the whole log against the register (and, with --db, the blob store): every row,
    blob or entry edited, added or deleted is reported (exit 1)."""
    if (hub is None) == (db is None):
        raise InputError("give exactly one of --hub URL or --db URL")
    verifier = _verifier(ca, keys)
    console = Console(stderr=True)
    with Progress(TextColumn("[bold]replaying the log"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=json_out or not console.is_terminal) as bar:
        task = bar.add_task("entries", total=None)
        signed, result = (_replay_hub(_hub(hub, ca, keys, token), bar, task) if hub is not None
                          else _replay_db(str(db), data, bar, task))
    checks = [check_signed_checkpoint(s, verifier) for s in signed]
    bad_signatures = [f"checkpoint of size {s.checkpoint.size}: {v.summary()}" for s, v in zip(signed, checks, strict=True)
                      if v.indication is not Indication.TOTAL_PASSED]
    indication = indication_of([c for v in checks for c in v.checks])
    if result.findings:
        indication = Indication.TOTAL_FAILED
    if json_out:
        typer.echo(json.dumps({"indication": indication.value, "entries": result.entries,
                               "root_hash": result.root.hex(), "checkpoints": len(signed),
                               "checkpoint_problems": bad_signatures,
                               "findings": [f.__dict__ for f in result.findings]}, ensure_ascii=False))
    else:
        for finding in result.findings:
            typer.echo(f"✘ {finding.line()}")
        for problem in bad_signatures:
            typer.echo(f"✘ {problem}")
        typer.echo(f"{indication.value}: {result.entries} entries replayed against {len(signed)} signed "
                   f"checkpoint(s); {len(result.findings)} difference(s)")
    raise typer.Exit(EXIT_BY_INDICATION[indication])


def _replay_hub(hub: HubLog, bar: Progress, task: object) -> tuple[list[SignedCheckpoint], ReplayResult]:
    with hub as source:
        signed = source.checkpoint()
        snapshot = source.snapshot()
        result = replay(source.entries(signed.checkpoint.size), snapshot, checkpoints=[signed.checkpoint],
                        progress=lambda n: bar.update(task, completed=n, total=signed.checkpoint.size))  # type: ignore[arg-type]
    return [signed], result


def _replay_db(url: str, data: Path | None, bar: Progress, task: object) -> tuple[list[SignedCheckpoint], ReplayResult]:
    from exchange.hub import log_audit
    from exchange.hub.blobs import BlobStore
    from exchange.hub.store.db import make_engine

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise NotFoundError(f"no hub database at {url.removeprefix('sqlite:///')}")
    engine = make_engine(url)
    try:
        signed = log_audit.checkpoints(engine)
        blobs = log_audit.blob_checker(BlobStore(data / "blobs")) if data is not None else None
        result = replay(log_audit.entries(engine), log_audit.snapshot(engine),
                        checkpoints=[s.checkpoint for s in signed], blob_problem=blobs,
                        progress=lambda n: bar.update(task, completed=n))  # type: ignore[arg-type]
    finally:
        engine.dispose()
    return signed, result


@app.command("watch")
def watch_command(state: Annotated[Path, typer.Option("--state", help="where the monitor keeps the last checkpoint")],
                  hub: HubOpt = None, ca: CaOpt = None, keys: KeysOpt = None,
                  interval: Annotated[float, typer.Option("--interval", help="seconds between checks")] = 10.0,
                  once: Annotated[bool, typer.Option("--once", help="check once and exit")] = False) -> None:
    """Monitor the hub: each new checkpoint must be signed by the hub and extend the last one
    seen (a consistency proof); a rewritten history is reported (exit 1)."""
    if interval <= 0:
        raise InputError("--interval must be positive")
    verifier = _verifier(ca, keys)
    with _hub(hub, ca, keys) as source:
        while True:
            signed = source.checkpoint()
            verdict = check_signed_checkpoint(signed, verifier)
            if verdict.indication is not Indication.TOTAL_PASSED:
                typer.echo(f"✘ {verdict.summary()}")
                raise typer.Exit(EXIT_BY_INDICATION[verdict.indication])
            result = check_extension(load_state(state), signed.checkpoint, source.consistency)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            if not result.ok:
                typer.echo(f"{stamp} ✘ {result.message}")
                raise typer.Exit(1)  # the state keeps the last good checkpoint, as evidence
            save_state(state, signed.checkpoint)
            typer.echo(f"{stamp} ✔ {result.message}")
            sys.stdout.flush()
            if once:
                return
            time.sleep(interval)
