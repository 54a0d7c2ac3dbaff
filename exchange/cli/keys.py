"""``exchange keys``: create the demo PKI, list, revoke and renew body certificates."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from cryptography import x509
from rich.console import Console
from rich.table import Table

from exchange.cli.common import BodiesOpt, JsonOpt, KeysOpt, parse_time, registry, settings
from exchange.pki import (
    CertificateStatus,
    KeyAlgorithm,
    KeyStore,
    RevocationReason,
    certificate_status,
    init_pki,
    renew,
    revoke,
)
from exchange.pki.store import utc_iso

app = typer.Typer(help="The demo PKI: root CA, issuing CA, one signing certificate per body, CRL.",
                  no_args_is_help=True)


@app.command("init")
def init_command(
    keys: KeysOpt = None,
    bodies: BodiesOpt = None,
    algorithm: Annotated[KeyAlgorithm, typer.Option(help="key algorithm")] = KeyAlgorithm.RSA2048,
    force: Annotated[bool, typer.Option("--force", help="replace an existing PKI")] = False,
) -> None:
    """Create the root CA, issuing CA, hub and body certificates, and an empty CRL."""
    cfg = settings(keys_dir=keys, bodies_file=bodies)
    reg = registry(cfg)
    store = KeyStore.at(cfg.keys_dir)
    count = init_pki(store, reg, at=parse_time(None), algorithm=algorithm, force=force,
                     bodies_file=str(cfg.resolved_bodies_file().resolve()))
    typer.echo(f"created a demo PKI ({algorithm.value}) in {store.directory}/: root CA, issuing CA, "
               f"hub and {count} body certificates; trust anchor {store.root_path}")


@app.command("list")
def list_command(keys: KeysOpt = None, bodies: BodiesOpt = None, json_out: JsonOpt = False,
                 at: Annotated[str | None, typer.Option(help="status at this ISO time")] = None) -> None:
    """Each body's certificates (signing and encryption): serial, expiry, status (valid, revoked, expired)."""
    cfg = settings(keys_dir=keys, bodies_file=bodies)
    store = KeyStore.at(cfg.keys_dir)
    crl = store.crl()
    moment = parse_time(at)
    reg = registry(cfg)
    rows: list[dict[str, Any]] = []
    for body in reg:
        if not store.has_body(body.id):
            continue
        cert = store.certificate(body.id)
        rows.append({
            "id": body.id,
            "kind": body.kind.value,
            "name": body.name_vi,
            "name_en": body.name_en,
            "serial": f"{cert.serial_number:x}",
            "not_before": utc_iso(cert.not_valid_before_utc),
            "not_after": utc_iso(cert.not_valid_after_utc),
            "status": certificate_status(cert, crl, at=moment).value,
            "cert_path": str(store.cert_path(body.id).resolve()),
            "key_path": str(store.key_path(body.id).resolve()),
            **_encryption_row(store, body.id, crl, moment),
        })
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(rows)} body certificates in {store.directory}/")
    for col in ("id", "kind", "name", "serial", "not_after", "status", "encryption"):
        table.add_column(col, overflow="fold")
    styles = {CertificateStatus.VALID.value: "green", CertificateStatus.REVOKED.value: "red"}
    for r in rows:
        enc = r.get("encryption_status") or "none"
        table.add_row(r["id"], r["kind"], r["name"], r["serial"][:16] + "…", r["not_after"][:10],
                      f"[{styles.get(r['status'], 'yellow')}]{r['status']}[/]",
                      f"[{styles.get(enc, 'yellow')}]{enc}[/]")
    Console().print(table)


def _encryption_row(store: KeyStore, body_id: str, crl: x509.CertificateRevocationList,
                    moment: datetime) -> dict[str, str | None]:
    """The body's encryption certificate as ``keys list --json`` shows it (None: it has none)."""
    if not store.has_encryption(body_id):
        return {"encryption_cert_path": None, "encryption_key_path": None, "encryption_serial": None,
                "encryption_not_after": None, "encryption_status": None}
    cert = store.encryption_certificate(body_id)
    return {
        "encryption_cert_path": str(store.encryption_cert_path(body_id).resolve()),
        "encryption_key_path": str(store.encryption_key_path(body_id).resolve()),
        "encryption_serial": f"{cert.serial_number:x}",
        "encryption_not_after": utc_iso(cert.not_valid_after_utc),
        "encryption_status": certificate_status(cert, crl, at=moment).value,
    }


@app.command("revoke")
def revoke_command(
    body_id: Annotated[str, typer.Argument(metavar="ID", help="body id")],
    reason: Annotated[RevocationReason, typer.Option(help="RFC 5280 reason")] = RevocationReason.UNSPECIFIED,
    keys: KeysOpt = None,
    bodies: BodiesOpt = None,
) -> None:
    """Revoke the body's current certificates (signing and encryption): add them to the CRL, re-sign it."""
    cfg = settings(keys_dir=keys, bodies_file=bodies)
    registry(cfg).get(body_id)
    cert = revoke(KeyStore.at(cfg.keys_dir), body_id, at=parse_time(None), reason=reason)
    typer.echo(f"revoked {body_id} (serial {cert.serial_number:x}, reason {reason.value}); "
               f"CRL re-signed at {cfg.keys_dir / 'crl.pem'}")


@app.command("renew")
def renew_command(
    body_id: Annotated[str, typer.Argument(metavar="ID", help="body id")],
    keys: KeysOpt = None,
    bodies: BodiesOpt = None,
) -> None:
    """Issue the body new keys and certificates (signing and encryption); the old ones are archived."""
    cfg = settings(keys_dir=keys, bodies_file=bodies)
    body = registry(cfg).get(body_id)
    cert = renew(KeyStore.at(cfg.keys_dir), body, at=parse_time(None))
    typer.echo(f"renewed {body_id}: new serial {cert.serial_number:x}, valid until "
               f"{utc_iso(cert.not_valid_after_utc)}")
