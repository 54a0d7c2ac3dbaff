"""``exchange node``: a body's side of the exchange: send, inbox, fetch, ack, status."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from exchange.cli.common import CaOpt, JsonOpt, KeysOpt, known_body, parse_time, settings
from exchange.cli.render import print_report
from exchange.cli.signing import EXIT_BY_INDICATION
from exchange.clock import clock_from_option
from exchange.config import Settings
from exchange.domain.business import BusinessAction, BusinessStatement, check_changes
from exchange.domain.documents import Classification, DocumentMetadata, ReceiptStatus
from exchange.edxml import DEFAULT_MAX_PACKAGE, read_package
from exchange.errors import InputError, InputFileError, TooLargeError, TransportError
from exchange.node import HubClient, RetryPolicy, acknowledge, fetch, node_verifier
from exchange.node.agent import Fetched
from exchange.node.client import body_trust
from exchange.node.secret import send_secret
from exchange.pki import Credential, KeyStore

#: an unsigned document cannot be validated: exit as INDETERMINATE
EXIT_UNSIGNED = 3

app = typer.Typer(help="A body's side: send, inbox, fetch and verify, acknowledge, status trail.",
                  no_args_is_help=True)

AsOpt = Annotated[str, typer.Option("--as", help="your body id")]
HubOpt = Annotated[str | None, typer.Option("--hub", help="hub URL, or several separated by commas (hub processes "
                                           "sharing one database: the next is used when one is down) [env EXCHANGE_HUB]")]


def _client(cfg: Settings, body_id: str, ca: Path | None) -> HubClient:
    known_body(cfg, body_id)
    store = KeyStore.at(cfg.keys_dir)
    # The demo's hub runs on a simulated calendar: EXCHANGE_CLOCK=demo-data/clock.json signs on it
    # too; TLS certificates are checked at the real time (parse_time(None)).
    clock = clock_from_option(str(cfg.clock_file) if cfg.clock_file else None)
    return HubClient(cfg.hub_url, credential=store.credential(body_id), retry=_retry(), clock=clock.now,
                     verify=body_trust(cfg.hub_url, store, body_id, ca=ca, at=parse_time(None)))


def _retry() -> RetryPolicy:
    """The default policy (retries over 30 s, covering a hub restart), or ``EXCHANGE_RETRY_WINDOW``
    seconds (``0``: one attempt, for scripts that handle failures themselves)."""
    text = os.environ.get("EXCHANGE_RETRY_WINDOW", "").strip()
    if not text:
        return RetryPolicy()
    try:
        window = float(text)
    except ValueError:
        raise InputError(f"EXCHANGE_RETRY_WINDOW must be a number of seconds, not {text!r}") from None
    if not 0 <= window <= 3600:
        raise InputError("EXCHANGE_RETRY_WINDOW must be 0 to 3600 seconds")
    return RetryPolicy(window=window)


@app.command("send")
def send(
    as_body: AsOpt,
    to: Annotated[list[str], typer.Option("--to", help="recipient body id (repeatable)")],
    file: Annotated[Path | None, typer.Argument(help="the document (omit with --paper)")] = None,
    subject: Annotated[str, typer.Option(help="trích yếu: what the document is about")] = "",
    number: Annotated[str, typer.Option(help="số ký hiệu, e.g. 12-CV/VPTW")] = "",
    doc_type: Annotated[str, typer.Option("--type", help="document type (cong-van, quyet-dinh, bao-cao, …)")] = "cong-van",
    doc_date: Annotated[str | None, typer.Option("--date", help="document date YYYY-MM-DD [today]")] = None,
    secret: Annotated[bool, typer.Option(
        "--secret", help="classification Mật (secret): signed, encrypted to the recipients, signed again")] = False,
    unsigned: Annotated[bool, typer.Option("--unsigned", help="send without a signature")] = False,
    paper: Annotated[bool, typer.Option("--paper", help="register a document sent on paper (no file)")] = False,
    message_id: Annotated[str | None, typer.Option(
        "--message-id", help="the id that makes a resend the same document: give the one printed by an "
        "earlier send to resend it safely [random]")] = None,
    hub: HubOpt = None,
    ca: CaOpt = None,
    keys: KeysOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Send FILE to one or more bodies, signed with your key (or --unsigned, or --paper)."""
    cfg = settings(hub_url=hub, keys_dir=keys)
    for recipient in to:
        known_body(cfg, recipient)
    if paper == (file is not None):
        raise InputError("give a FILE to send electronically, or --paper without a file")
    if file is not None and not file.is_file():
        raise InputFileError(f"{file} is a directory, not a file" if file.is_dir() else f"no such file: {file}")
    if secret and unsigned:
        raise InputError("a secret document is always signed (sign, encrypt, sign): drop --unsigned")
    metadata = DocumentMetadata.from_dict({
        "recipients": to, "subject": subject or (file.stem if file else ""), "number": number,
        "doc_type": doc_type, "doc_date": doc_date or date.today().isoformat(),
        "classification": (Classification.SECRET if secret else Classification.NORMAL).value,
        "message_id": message_id or str(uuid.uuid4()),
    })
    try:
        with _client(cfg, as_body, ca) as client:
            if paper:
                doc = client.send_paper(metadata=metadata)
            elif file is not None and secret:
                store = KeyStore.at(cfg.keys_dir)
                doc = send_secret(client, file, metadata=metadata, at=parse_time(None),
                                  paths=node_verifier(store, client).paths,
                                  own_encryption=store.encryption_certificate(as_body))
            elif file is not None:
                doc = client.send(file, metadata=metadata, sign=not unsigned)
    except TransportError as exc:
        # The hub may have stored it before the connection broke: the same message id makes
        # a resend the same document, never a second one.
        raise TransportError(f"{exc.message}; to resend it safely: --message-id {metadata.message_id}",
                             code=exc.code) from None
    if json_out:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        typer.echo(f"{doc['id']}  {doc['channel']} → {', '.join(doc['recipients'])}  "
                   f"message id {doc['message_id']}"
                   + ("  (already sent: same message id)" if doc.get("duplicate") else ""))


@app.command("inbox")
def inbox(as_body: AsOpt, all_: Annotated[bool, typer.Option("--all", help="include acknowledged")] = False,
          hub: HubOpt = None, ca: CaOpt = None, keys: KeysOpt = None, json_out: JsonOpt = False) -> None:
    """Documents delivered to you: new ones, or --all."""
    cfg = settings(hub_url=hub, keys_dir=keys)
    with _client(cfg, as_body, ca) as client:
        docs = client.inbox(include_all=all_)
    if json_out:
        typer.echo(json.dumps(docs, ensure_ascii=False, indent=2))
        return
    if not docs:
        typer.echo("inbox empty" if all_ else "no new documents")
    for d in docs:
        mine: dict[str, Any] = next((x for x in d["deliveries"] if x["recipient"] == as_body), {})
        typer.echo(f"{d['id']}  {d['created_at'][:19]}  from {d['sender']:<24} {d['channel']:<13} "
                   f"{mine.get('status_name') or 'new':<10} {d['number']} {d['subject'][:50]}")


@app.command("fetch")
def fetch_command(
    document_id: Annotated[str, typer.Argument(metavar="DOC_ID")],
    as_body: AsOpt,
    out: Annotated[Path, typer.Option("--out", help="directory to write the file and signature into")] = Path("."),
    hub: HubOpt = None, ca: CaOpt = None, keys: KeysOpt = None, json_out: JsonOpt = False,
) -> None:
    """Download a document and its signature, verify it yourself; exit status as `exchange verify`."""
    cfg = settings(hub_url=hub, keys_dir=keys)
    store = KeyStore.at(cfg.keys_dir)
    with _client(cfg, as_body, ca) as client:
        got = fetch(client, document_id, out_dir=out, verifier=node_verifier(store, client),
                    at=lambda: parse_time(None), decrypt_with=_decryption_keys(store, as_body))
    if got.report is None:
        typer.echo(f"{got.path}: unsigned electronic document (sha-256 {got.sha256}); nothing to verify")
        raise typer.Exit(EXIT_UNSIGNED)
    if got.secret is not None:
        _print_secret(got, json_out=json_out)
        return
    if not json_out:
        typer.echo(f"{got.path} (+ {got.signature_path.name if got.signature_path else ''})")
    print_report(got.report, json_out=json_out)
    raise typer.Exit(EXIT_BY_INDICATION[got.report.indication])


def _decryption_keys(store: KeyStore, body_id: str) -> list[Credential]:
    return store.encryption_credentials(body_id) if store.has_encryption(body_id) else []


def _print_secret(got: Fetched, *, json_out: bool) -> None:
    """The three layers of a fetched secret document; exits with the inner signature's status
    (1 when the outer signature failed or the envelope would not open)."""
    secret, outer = got.secret, got.report
    assert secret is not None and outer is not None
    if json_out:
        typer.echo(json.dumps({
            "envelope": str(got.path), "outer": outer.to_dict(),
            "plaintext": str(secret.path) if secret.path else None,
            "inner": secret.report.to_dict() if secret.report else None, "error": secret.error,
        }, ensure_ascii=False, indent=2))
    else:
        typer.echo(f"secret (Mật) document: envelope {got.path.name}; outer signature "
                   f"{outer.indication.value} ({outer.summary()})")
        if secret.error is not None:
            typer.echo(f"error: {secret.error}", err=True)
        elif secret.report is None:
            typer.echo(f"{secret.path}: the envelope held no inner signature")
        else:
            typer.echo(f"decrypted → {secret.path} (+ {secret.signature_path.name if secret.signature_path else ''})")
            typer.echo("inner signature:")
            print_report(secret.report, json_out=False)
    if secret.error is not None or not outer.passed:
        raise typer.Exit(1)
    if secret.report is None:
        raise typer.Exit(EXIT_UNSIGNED)
    raise typer.Exit(EXIT_BY_INDICATION[secret.report.indication])


@app.command("ack")
def ack(
    document_id: Annotated[str, typer.Argument(metavar="DOC_ID")],
    as_body: AsOpt,
    status: Annotated[str, typer.Option(help="received, rejected, accepted, assigned, processing, completed; "
                                        "change_accepted (15) or change_rejected (16) to answer a recall/update")],
    reason: Annotated[str, typer.Option(help="why (required for rejected)")] = "",
    hub: HubOpt = None, ca: CaOpt = None, keys: KeysOpt = None, json_out: JsonOpt = False,
) -> None:
    """Send a signed status for a document you received (it repeats the SHA-256 you received)."""
    parsed = ReceiptStatus.parse(status)
    if parsed is ReceiptStatus.REJECTED and not reason:
        raise InputError("--status rejected needs a --reason")
    cfg = settings(hub_url=hub, keys_dir=keys)
    store = KeyStore.at(cfg.keys_dir)
    with _client(cfg, as_body, ca) as client, tempfile.TemporaryDirectory() as tmp:
        got = fetch(client, document_id, out_dir=Path(tmp), verifier=node_verifier(store, client),
                    at=lambda: parse_time(None), decrypt_with=_decryption_keys(store, as_body))
        receipt = acknowledge(client, got, status=parsed, reason=reason)
    if json_out:
        typer.echo(json.dumps(receipt, ensure_ascii=False, indent=2))
    else:
        typer.echo(f"{document_id}: {parsed.label} ({parsed.value}) signed and recorded by the hub "
                   f"[{receipt['indication']}]")


@app.command("status")
def status_command(document_id: Annotated[str, typer.Argument(metavar="DOC_ID")], as_body: AsOpt,
                   hub: HubOpt = None, ca: CaOpt = None, keys: KeysOpt = None, json_out: JsonOpt = False) -> None:
    """The signed status trail of a document (all recipients' for its sender)."""
    cfg = settings(hub_url=hub, keys_dir=keys)
    with _client(cfg, as_body, ca) as client:
        doc = client.document(document_id)
        trail = client.status(document_id)
        events = client.business_events(document_id)
    if json_out:
        typer.echo(json.dumps(trail, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{doc['id']}  {doc['number']} {doc['subject']}  ({doc['channel']}, from {doc['sender']})")
    for d in doc["deliveries"]:
        typer.echo(f"  → {d['recipient']:<28} {d['state']:<10} latest: {d.get('status_name') or '—'}")
    for r in trail:
        typer.echo(f"  {r['stated_at'][:19]}  {r['recipient']:<28} {r['status']} {r['status_name']:<10} "
                   f"signature {r['indication']}" + (f"  reason: {r['reason']}" if r["reason"] else ""))
    for e in events:
        what = {"recall": "recall requested (13)", "update": "metadata updated"}.get(e["action"], "")
        if e["action"] == "replace":
            what = (f"replaced by {e['related_id']}" if e["document_id"] == document_id
                    else f"replaces {e['document_id']}")
        typer.echo(f"  {e['stated_at'][:19]}  {e['sender']:<28} {what}: {e['reason']}  "
                   f"statement signature {e['indication']}")


@app.command("register-incoming")
def register_incoming(
    as_body: AsOpt,
    from_agency: Annotated[str | None, typer.Option("--from", help="the outside agency, e.g. \"Bộ Tài chính\"")] = None,
    scanned: Annotated[Path | None, typer.Option("--scanned", help="the scan, if it was scanned")] = None,
    edxml: Annotated[Path | None, typer.Option("--edxml", help="an edXML package the agency sent (born digital)")] = None,
    subject: Annotated[str, typer.Option(help="what it is about")] = "",
    number: Annotated[str, typer.Option(help="its số ký hiệu")] = "",
    hub: HubOpt = None, ca: CaOpt = None, keys: KeysOpt = None, json_out: JsonOpt = False,
) -> None:
    """Record a document received from an outside (state) agency: scanned or not (--from), or
    an edXML package it sent (--edxml: a document counts in K3 as born digital; a status is
    recorded on the trail of the document of yours it answers)."""
    cfg = settings(hub_url=hub, keys_dir=keys)
    if edxml is not None:
        if from_agency or scanned:
            raise InputError("--edxml names the sender itself: give it without --from or --scanned")
        if not edxml.is_file():
            raise InputFileError(f"no such file: {edxml}")
        if edxml.stat().st_size > DEFAULT_MAX_PACKAGE:
            raise TooLargeError(f"{edxml} is over the edXML limit of {DEFAULT_MAX_PACKAGE:,} bytes")
        read_package(edxml.read_bytes())  # refuse here, with the same words, what the hub would refuse
        with _client(cfg, as_body, ca) as client:
            answer: dict[str, Any] = client.register_edxml(edxml.read_bytes(), filename=edxml.name)
        if json_out:
            typer.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        elif answer["incoming"]:
            inc = answer["incoming"]
            typer.echo(f"{inc['id']}  from {inc['from_agency']} ({answer['from_organ']})  edXML "
                       f"{answer['edxml_document_id']}  born digital: counts in K3 as received electronically")
        elif answer["document_id"]:
            typer.echo(f"status {answer['status_code']} from {answer['from_organ']} recorded on document "
                       f"{answer['document_id']}")
        else:
            typer.echo(f"edXML business type {answer['business_type']} from {answer['from_organ']} recorded on "
                       f"incoming document {answer['header'].get('business_document_id') or answer['edxml_document_id']}")
        return
    if not from_agency:
        raise InputError("give --from AGENCY (with --scanned FILE if it was scanned), or --edxml FILE")
    if scanned is not None and not scanned.is_file():
        raise InputFileError(f"no such file: {scanned}")
    with _client(cfg, as_body, ca) as client:
        row: dict[str, Any] = client.register_incoming(from_agency=from_agency, scan=scanned, subject=subject,
                                                       number=number)
    if json_out:
        typer.echo(json.dumps(row, ensure_ascii=False, indent=2))
    else:
        typer.echo(f"{row['id']}  from {row['from_agency']}  {'scanned' if row['scanned'] else 'not scanned'}")


ReasonOpt = Annotated[str, typer.Option("--reason", help="why (required; travels as BussinessDocReason)")]


@app.command("recall")
def recall(document_id: Annotated[str, typer.Argument(metavar="DOC_ID")], as_body: AsOpt, reason: ReasonOpt,
           hub: HubOpt = None, ca: CaOpt = None, keys: KeysOpt = None, json_out: JsonOpt = False) -> None:
    """Recall a document you sent (edXML status 13): each recipient answers with a signed
    receipt, 15 (agrees) or 16 (refuses): exchange node ack DOC_ID --status change_accepted."""
    cfg = settings(hub_url=hub, keys_dir=keys)
    with _client(cfg, as_body, ca) as client:
        event = client.business(_statement(BusinessAction.RECALL, document_id, as_body, reason))
        doc = client.document(document_id)
    _print_event(event, json_out, f"recall (13) sent to {', '.join(doc['recipients'])}; they answer 15 or 16")


@app.command("update")
def update(
    document_id: Annotated[str, typer.Argument(metavar="DOC_ID")], as_body: AsOpt, reason: ReasonOpt,
    subject: Annotated[str | None, typer.Option(help="new trích yếu")] = None,
    number: Annotated[str | None, typer.Option(help="new số ký hiệu")] = None,
    doc_type: Annotated[str | None, typer.Option("--type", help="new document type")] = None,
    doc_date: Annotated[str | None, typer.Option("--date", help="new date YYYY-MM-DD")] = None,
    hub: HubOpt = None, ca: CaOpt = None, keys: KeysOpt = None, json_out: JsonOpt = False,
) -> None:
    """Send a signed update of a document's metadata (edXML business type 2)."""
    changes = {k: v for k, v in (("subject", subject), ("number", number), ("doc_type", doc_type),
                                 ("doc_date", doc_date)) if v is not None}
    check_changes(changes)
    cfg = settings(hub_url=hub, keys_dir=keys)
    with _client(cfg, as_body, ca) as client:
        event = client.business(_statement(BusinessAction.UPDATE, document_id, as_body, reason, changes=changes))
    _print_event(event, json_out, "metadata updated: " + ", ".join(
        f"{k} {old!r} → {new!r}" for k, (old, new) in event["changes"].items()))


@app.command("replace")
def replace(
    document_id: Annotated[str, typer.Argument(metavar="DOC_ID")],
    file: Annotated[Path, typer.Argument(help="the new version")],
    as_body: AsOpt, reason: ReasonOpt,
    subject: Annotated[str | None, typer.Option(help="trích yếu [the replaced document's]")] = None,
    number: Annotated[str | None, typer.Option(help="số ký hiệu [the replaced document's]")] = None,
    doc_date: Annotated[str | None, typer.Option("--date", help="date YYYY-MM-DD [today]")] = None,
    hub: HubOpt = None, ca: CaOpt = None, keys: KeysOpt = None, json_out: JsonOpt = False,
) -> None:
    """Replace a document you sent with a new signed version (edXML business type 3): the new
    version goes to the same recipients, and a signed statement names the one it replaces."""
    if not file.is_file():
        raise InputFileError(f"no such file: {file}")
    cfg = settings(hub_url=hub, keys_dir=keys)
    with _client(cfg, as_body, ca) as client:
        old = client.document(document_id)
        if old["sender"] != as_body:
            raise InputError(f"document {document_id} was sent by {old['sender']}: only its sender replaces it")
        metadata = DocumentMetadata.from_dict({
            "recipients": old["recipients"], "subject": subject or old["subject"], "number": number or old["number"],
            "doc_type": old["doc_type"], "doc_date": doc_date or date.today().isoformat(),
            "classification": old["classification"], "message_id": str(uuid.uuid4())})
        new = client.send(file, metadata=metadata, sign=True)
        event = client.business(_statement(BusinessAction.REPLACE, document_id, as_body, reason,
                                           replacement=new["id"]))
    _print_event(event, json_out, f"replaced by {new['id']} (signed, sent to {', '.join(new['recipients'])})")


def _statement(action: BusinessAction, document_id: str, sender: str, reason: str, **extra: Any) -> BusinessStatement:
    statement = BusinessStatement(action=action, document_id=document_id, sender=sender,
                                  time=parse_time(None).replace(microsecond=0), reason=reason.strip(), **extra)
    statement.check()
    return statement


def _print_event(event: dict[str, Any], json_out: bool, words: str) -> None:
    if json_out:
        typer.echo(json.dumps(event, ensure_ascii=False, indent=2))
    else:
        typer.echo(f"{event['document_id']}: {words} [statement signature {event['indication']}]")
