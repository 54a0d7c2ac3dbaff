"""``exchange edxml``: export a document or a status as an edXML package; inspect a package."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from exchange.cli.common import CaOpt, JsonOpt, KeysOpt, known_body, parse_time, registry, settings
from exchange.config import Settings
from exchange.domain.documents import Classification
from exchange.edxml import (
    DEFAULT_MAX_PACKAGE,
    BusinessDocType,
    DocumentPackage,
    XmlSignatureReport,
    XmlSignatureStatus,
    document_package_xml,
    read_package,
    sign_package,
    status_package_xml,
    verify_package,
)
from exchange.edxml.compose import document_package, status_package
from exchange.errors import InputError, InputFileError, NotFoundError, TooLargeError
from exchange.node import HubClient
from exchange.node.client import body_trust
from exchange.pki import KeyStore
from exchange.pki.path import PathValidator

app = typer.Typer(help="edXML (QCVN 102:2016): export documents and statuses, inspect packages.",
                  no_args_is_help=True)

AsOpt = Annotated[str, typer.Option("--as", help="your body id")]
HubOpt = Annotated[str | None, typer.Option("--hub", help="hub URL, or several separated by commas (hub processes "
                                           "sharing one database: the next is used when one is down) [env EXCHANGE_HUB]")]
OutOpt = Annotated[Path, typer.Option("-o", "--output", help="the .edxml file to write")]
_KINDS = {"new": BusinessDocType.NEW, "revoke": BusinessDocType.REVOKE, "recall": BusinessDocType.REVOKE,
          "update": BusinessDocType.UPDATE, "replace": BusinessDocType.REPLACE}


def _client(cfg: Settings, body_id: str, ca: Path | None) -> HubClient:
    known_body(cfg, body_id)
    store = KeyStore.at(cfg.keys_dir)
    return HubClient(cfg.hub_url, credential=store.credential(body_id),
                     verify=body_trust(cfg.hub_url, store, body_id, ca=ca, at=parse_time(None)))


@app.command("export")
def export(
    document_id: Annotated[str, typer.Argument(metavar="DOC_ID")],
    as_body: AsOpt,
    output: OutOpt,
    business: Annotated[str | None, typer.Option(
        "--business", help="new, revoke (recall), update or replace [replace if it replaces one, else new]")] = None,
    hub: HubOpt = None, ca: CaOpt = None, keys: KeysOpt = None,
) -> None:
    """Export a document you sent as an edXML package signed (XMLDSig) with your key."""
    kind = None
    if business is not None:
        if business not in _KINDS:
            raise InputError(f"--business must be one of {', '.join(_KINDS)}")
        kind = _KINDS[business]
    cfg = settings(hub_url=hub, keys_dir=keys)
    bodies = registry(cfg)
    with _client(cfg, as_body, ca) as client, tempfile.TemporaryDirectory() as tmp:
        doc = client.document(document_id)
        if doc["sender"] != as_body:
            raise InputError(f"document {document_id} was sent by {doc['sender']}: only its sender exports it "
                             "(the envelope is signed with the sender's key)")
        if doc["sha256"] is None:
            raise InputError(f"document {document_id} was sent on paper: there is no file to put in a package")
        if doc["classification"] != Classification.NORMAL:
            raise InputError(f"document {document_id} is secret (Mật): edXML carries no encryption, so a secret "
                             "document never leaves as an edXML package")
        content = client.download(document_id, Path(tmp) / "document").read_bytes()
        signature = _signature(client, document_id)
        events = client.business_events(document_id)
        replaced = [client.document(e["document_id"]) for e in events
                    if e["action"] == "replace" and e.get("related_id") == document_id]
        credential = client.credential
    package = document_package(doc, bodies=bodies, content=content, signature=signature, at=parse_time(None),
                               business=events, replaced_docs=replaced, kind=kind)
    _write(output, sign_package(document_package_xml(package), credential))
    typer.echo(f"{output}: edXML {package.business.doc_type.name.lower()} package {package.document_id} "
               f"→ {', '.join(r.organ_id for r in package.recipients)}; {len(package.attachments)} attachments; "
               f"XML-signed by {as_body}")


@app.command("status")
def status(
    document_id: Annotated[str, typer.Argument(metavar="DOC_ID")],
    as_body: AsOpt,
    output: OutOpt,
    to: Annotated[str | None, typer.Option("--to", help="for a recall (13): the recipient it is addressed to")] = None,
    hub: HubOpt = None, ca: CaOpt = None, keys: KeysOpt = None,
) -> None:
    """Export your latest signed status of a document as an edXML status package (01–06, 13, 15, 16)."""
    cfg = settings(hub_url=hub, keys_dir=keys)
    bodies = registry(cfg)
    with _client(cfg, as_body, ca) as client:
        doc = client.document(document_id)
        if doc["sender"] == as_body:
            events = client.business_events(document_id)
            recalls = [e for e in events if e["action"] == "recall" and e["document_id"] == document_id]
            if not recalls:
                raise InputError(f"you sent document {document_id}; its sender's only status is a recall (13), "
                                 "and it is not recalled (exchange node recall)")
            code, reason = "13", recalls[-1]["reason"]
            if to is not None and to not in doc["recipients"]:
                raise InputError(f"--to {to} is not a recipient of document {document_id}")
        else:
            mine = [r for r in client.status(document_id) if r["recipient"] == as_body]
            if not mine:
                raise InputError(f"you have sent no status for document {document_id} yet (exchange node ack)")
            code, reason = mine[-1]["status"], mine[-1]["reason"]
        credential = client.credential
    package = status_package(doc, bodies=bodies, by=as_body, status=code, at=parse_time(None), reason=reason, to=to)
    _write(output, sign_package(status_package_xml(package), credential))
    typer.echo(f"{output}: edXML status {package.status_code} for {package.response_for.document_id}; "
               f"XML-signed by {as_body}")


@app.command("inspect")
def inspect(
    file: Annotated[Path, typer.Argument(help="an .edxml package")],
    keys: KeysOpt = None,
    ca: Annotated[Path | None, typer.Option("--ca", help="root certificate to check the XML signature against")] = None,
    at: Annotated[str | None, typer.Option("--at", help="validation time (ISO 8601) [now]")] = None,
    json_out: JsonOpt = False,
) -> None:
    """What a package says: sender, recipients, code, subject, business type or status,
    attachments (name, size, SHA-256), and the XML signature's verdict. Exit 1 if the
    signature does not match the package; 2 if the file is not a readable edXML package."""
    data = _read(file)
    package = read_package(data)
    verdict = verify_package(data, validator=_validator(keys, ca), at=parse_time(at))
    summary = package.summary()
    summary["xml_signature"] = verdict.to_dict()
    if json_out:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        _print(summary, package, verdict)
    if verdict.status is XmlSignatureStatus.INVALID:
        raise typer.Exit(1)


def _validator(keys: Path | None, ca: Path | None) -> PathValidator | None:
    if ca is not None:
        if not ca.is_file():
            raise InputFileError(f"no such file: {ca}")
        return PathValidator.from_files(ca)
    store = KeyStore.at(settings(keys_dir=keys).keys_dir)
    if store.exists():
        return store.path_validator(require_revocation=False)
    return None


def _print(summary: dict[str, Any], package: Any, verdict: XmlSignatureReport) -> None:
    who = summary["from"]
    if isinstance(package, DocumentPackage):
        typer.echo(f"edXML document, business type {summary['business_type']} ({summary['business_name']})"
                   + (f": {summary['business_reason']}" if summary["business_reason"] else ""))
        typer.echo(f"  from        {who['organ_id']}  {who['name']}")
        for to in summary["to"]:
            typer.echo(f"  to          {to['organ_id']}  {to['name']}")
        typer.echo(f"  DocumentId  {summary['document_id']}")
        typer.echo(f"  code        {summary['code']}   date {summary['promulgation_date'] or '—'}   "
                   f"type {summary['type_name'] or '—'}")
        typer.echo(f"  subject     {summary['subject']}")
        if summary["replaces"]:
            typer.echo(f"  replaces    {', '.join(summary['replaces'])}")
        if summary["business_document_id"] and summary["business_type"] != "0":
            typer.echo(f"  concerns    {summary['business_document_id']}")
        for a in summary["attachments"]:
            typer.echo(f"  attachment  {a['name']}  {a['size']:,} bytes  sha256 {a['sha256']}"
                       + ("  (was zipped)" if a["zipped"] else ""))
    else:
        typer.echo(f"edXML status {summary['status']} ({summary['status_name']}): {summary['description']}")
        typer.echo(f"  from        {who['organ_id']}  {who['name']}")
        rf = summary["response_for"]
        typer.echo(f"  about       {rf['document_id']}  (code {rf['code']}, organ {rf['organ_id']})")
        typer.echo(f"  time        {summary['timestamp'] or '—'}")
    typer.echo(f"  {verdict.summary()}")


def _read(file: Path) -> bytes:
    if not file.is_file():
        raise InputFileError(f"{file} is a directory, not a file" if file.is_dir() else f"no such file: {file}")
    size = file.stat().st_size
    if size > DEFAULT_MAX_PACKAGE:
        raise TooLargeError(f"{file} is {size:,} bytes, over the edXML limit of {DEFAULT_MAX_PACKAGE:,}")
    return file.read_bytes()


def _signature(client: HubClient, document_id: str) -> bytes | None:
    try:
        return client.signature(document_id)
    except NotFoundError:
        return None  # an unsigned document travels without a .p7s


def _write(output: Path, data: bytes) -> None:
    if output.is_dir():
        raise InputFileError(f"{output} is a directory: give a file name")
    tmp = output.with_name(f".{output.name}.part")
    try:
        tmp.write_bytes(data)
        tmp.replace(output)
    except OSError as exc:
        raise InputFileError(f"cannot write {output}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)
