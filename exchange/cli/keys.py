"""``exchange keys``: create the demo PKI, list, revoke and renew body certificates, re-issue
the CRLs."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from cryptography import x509
from rich.console import Console
from rich.table import Table

from exchange.cli.common import BodiesOpt, JsonOpt, KeysOpt, parse_time, registry, settings
from exchange.clock import utc_iso
from exchange.pki import (
    CertificateStatus,
    KeyAlgorithm,
    KeyStore,
    RevocationReason,
    certificate_status,
    init_pki,
    reissue_crls,
    renew,
    revoke,
)
from exchange.pki.ca import Validity, crl_lifetime
from exchange.pki.certificates import common_name_of

app = typer.Typer(help="The demo PKI: root CA, issuing CA, one signing certificate per body, the hub's "
                       "time-stamping authority, CRLs.", no_args_is_help=True)


@app.command("init")
def init_command(
    keys: KeysOpt = None,
    bodies: BodiesOpt = None,
    algorithm: Annotated[KeyAlgorithm, typer.Option(help="key algorithm")] = KeyAlgorithm.RSA2048,
    force: Annotated[bool, typer.Option("--force", help="replace an existing PKI")] = False,
    hub: Annotated[str | None, typer.Option(
        "--hub", help="the hub that publishes the CRLs (the certificates' CRL distribution points) "
                      "[env EXCHANGE_HUB, default http://127.0.0.1:8000]")] = None,
    crl_days: Annotated[int, typer.Option("--crl-days", min=1, max=3650,
                                          help="days each CRL stays current")] = Validity.crl,
) -> None:
    """Create the root CA, issuing CA, hub, time-stamping authority and body certificates, and
    the two (empty) CRLs."""
    cfg = settings(keys_dir=keys, bodies_file=bodies, hub_url=hub)
    reg = registry(cfg)
    store = KeyStore.at(cfg.keys_dir)
    count = init_pki(store, reg, at=parse_time(None), algorithm=algorithm, force=force,
                     bodies_file=str(cfg.resolved_bodies_file().resolve()), hub_url=cfg.hub_url,
                     validity=Validity(crl=crl_days))
    typer.echo(f"created a demo PKI ({algorithm.value}) in {store.directory}/: root CA, issuing CA, "
               f"hub, time-stamping authority and {count} body certificates; CRLs current for {crl_days} "
               f"days (re-issue with `exchange keys crl`); trust anchor {store.root_path}")


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
    if store.has_tsa():
        tsa = store.tsa_credential().certificate
        rows.append({
            "id": "tsa",
            "kind": "tsa",
            "name": common_name_of(tsa),
            "name_en": "the hub's time-stamping authority (RFC 3161)",
            "serial": f"{tsa.serial_number:x}",
            "not_before": utc_iso(tsa.not_valid_before_utc),
            "not_after": utc_iso(tsa.not_valid_after_utc),
            "status": certificate_status(tsa, crl, at=moment).value,
            "cert_path": str(store.tsa_path.resolve()),
            "key_path": str((store.directory / "tsa.key").resolve()),
        })
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(rows)} certificates in {store.directory}/ (bodies and the TSA)")
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


@app.command("crl")
def crl_command(
    days: Annotated[int | None, typer.Option("--days", min=1, max=3650,
                                             help="days the new CRLs stay current [the PKI's, 7]")] = None,
    keys: KeysOpt = None,
) -> None:
    """Re-issue both CRLs now (same entries, next number): what the CA does on its schedule.

    A CRL past its next update is no evidence: validators answer INDETERMINATE / TRY_LATER and a
    running hub refuses new documents (revocation-data-stale) until this is run. The hub reloads
    the new CRLs within a second.
    """
    cfg = settings(keys_dir=keys)
    store = KeyStore.at(cfg.keys_dir)
    crls = reissue_crls(store, at=parse_time(None), days=days)
    lifetime = f"{days} days" if days is not None else f"{crl_lifetime(store).days} days"
    issued = crls[0].last_update_utc
    typer.echo(f"re-issued the CRLs in {store.directory}/ (crl.pem, root-crl.pem) at {utc_iso(issued)}, "
               f"current for {lifetime}, until {utc_iso(crls[0].next_update_utc or issued)}")
