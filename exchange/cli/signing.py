"""``exchange sign`` and ``exchange verify``: detached CMS signatures on files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from exchange.cli.common import JsonOpt, KeysOpt, known_body, parse_time, settings
from exchange.cli.render import print_report
from exchange.cms import (
    Indication,
    TimestampToken,
    Verifier,
    add_timestamp,
    sign_detached,
)
from exchange.cms.report import iso
from exchange.cms.tokens import signature_value
from exchange.errors import InputFileError
from exchange.node.tsa_client import request_token
from exchange.pki import KeyStore, PathValidator, load_certificate_file
from exchange.pki.certificates import read_file
from exchange.pki.revocation import load_crls

#: verify's exit statuses, by indication (2 is a usage error, as for every command)
EXIT_BY_INDICATION = {Indication.TOTAL_PASSED: 0, Indication.TOTAL_FAILED: 1, Indication.INDETERMINATE: 3}


def sign_command(
    file: Annotated[Path, typer.Argument(help="document to sign")],
    as_body: Annotated[str, typer.Option("--as", help="body id of the signer")],
    keys: KeysOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="signature file [FILE.p7s]")] = None,
    timestamp: Annotated[str | None, typer.Option(
        "--timestamp", metavar="URL",
        help="add a signature time-stamp from this RFC 3161 TSA (e.g. HUB/api/tsa): CAdES-B-T")] = None,
) -> None:
    """Sign FILE as body ID: a detached CMS SignedData signature (DER)."""
    cfg = settings(keys_dir=keys)
    _require_file(file)
    known_body(cfg, as_body)
    credential = KeyStore.at(cfg.keys_dir).credential(as_body)
    signature = sign_detached(file, credential, at=parse_time(None))
    stamped = ""
    if timestamp is not None:
        token = request_token(timestamp, signature_value(signature))
        signature = add_timestamp(signature, token)
        stamped = f", time-stamped at {iso(TimestampToken.from_der(token).gen_time)} by {timestamp}"
    target = output or file.with_name(file.name + ".p7s")
    target.write_bytes(signature)
    typer.echo(f"signed {file} as {as_body}{stamped}: {target}")


def verify_command(
    file: Annotated[Path, typer.Argument(help="signed document")],
    signature: Annotated[Path | None, typer.Argument(help="detached signature [FILE.p7s]")] = None,
    ca: Annotated[list[Path] | None, typer.Option(
        "--ca", help="trusted root certificate(s), repeatable; e.g. another PKI's root for its TSA "
                     "[KEYS/root-ca.pem]")] = None,
    crl: Annotated[list[Path] | None, typer.Option(
        "--crl", help="CRL(s) to enforce, PEM or DER, repeatable [KEYS/crl.pem and KEYS/root-crl.pem]")] = None,
    at: Annotated[str | None, typer.Option("--at", help="validation time, ISO-8601 [now]")] = None,
    require_revocation: Annotated[bool, typer.Option(
        "--require-revocation",
        help="INDETERMINATE when no CRL covers a certificate below the root")] = False,
    keys: KeysOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Validate a detached CMS signature over FILE; exit 0 passed, 1 failed, 3 indeterminate.

    A signature time-stamp (RFC 3161) on it, from the hub or any TSA under a trusted root, is
    proof that the signature existed at its time: a certificate revoked or expired after it
    still passes, saying why.
    """
    cfg = settings(keys_dir=keys)
    _require_file(file)
    sig_path = signature or file.with_name(file.name + ".p7s")
    sig_bytes = read_file(sig_path)
    verifier = local_verifier(KeyStore.at(cfg.keys_dir), ca=ca, crl=crl, require_revocation=require_revocation)
    report = verifier.verify(file, sig_bytes, at=parse_time(at))
    print_report(report, json_out=json_out)
    raise typer.Exit(EXIT_BY_INDICATION[report.indication])


def local_verifier(store: KeyStore, *, ca: Path | list[Path] | None, crl: list[Path] | None,
                   require_revocation: bool = False) -> Verifier:
    """A verifier trusting the roots in *ca* (default the key folder's root) and enforcing the
    CRLs in *crl* (default, without --ca, the PKI's own: the issuing CA's and the root's,
    enforced like explicit ones)."""
    ca = [ca] if isinstance(ca, Path) else ca
    if ca:
        anchors = [cert for path in ca for cert in load_certificate_file(path)]
    elif store.exists():
        anchors = load_certificate_file(store.root_path)
    else:
        raise InputFileError(f"no trusted root: give --ca ROOT.pem (no PKI in {store.directory}/)")
    crl_paths = list(crl or [])
    if not crl_paths and not ca and store.exists():
        crl_paths = store.crl_paths
    crls = [c for p in crl_paths for c in load_crls(read_file(p), source=str(p))]
    return Verifier(paths=PathValidator(trust_anchors=anchors, crls=crls, require_revocation=require_revocation))


def _require_file(path: Path) -> None:
    if path.is_dir():
        raise InputFileError(f"{path} is a directory, not a file")
    if not path.is_file():
        raise InputFileError(f"no such file: {path}")
