"""The demo certification authority: create the PKI, revoke and renew body certificates,
re-issue the CRLs.

Modelled on the Government Cipher Committee's service: one root, one issuing CA, a signing
certificate per body, a hub certificate, the hub's time-stamping authority (TSA) certificate,
and two CRLs: the issuing CA's over the end-entity certificates (re-signed by every
revocation) and the root's over the issuing CA. Each CRL promises its successor by its
``nextUpdate`` (``Validity.crl`` days): the CA re-issues both on a schedule
(:func:`reissue_crls`, ``exchange keys crl``), and validators treat a CRL past that date as no
evidence at all.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from exchange.clock import utc_iso
from exchange.domain.bodies import Body
from exchange.errors import ConflictError, InputError, PKIError, PKIExistsError
from exchange.pki.certificates import (
    DEFAULT_HUB_URL,
    Credential,
    KeyAlgorithm,
    PrivateKey,
    certificate_pem,
    crl_urls,
    generate_key,
    generate_keys,
    issue_ca,
    issue_hub_certificate,
    issue_root,
    issue_signing_certificate,
    issue_tsa_certificate,
    private_key_pem,
)
from exchange.pki.encryption import HUB_ID, HUB_NAME, archive_encryption, issue_encryption
from exchange.pki.revocation import (
    RevocationReason,
    RevokedEntry,
    build_crl,
    crl_number,
    crl_pem,
    revoked_entries,
)
from exchange.pki.store import KeyStore

#: Certificates are back-dated a little so a clock a few minutes slow still accepts them.
BACKDATE = timedelta(minutes=10)


@dataclass(frozen=True)
class Validity:
    """How long each kind of certificate lives, and each CRL is promised to stay current, in
    days. The TSA outlives the bodies' certificates (its tokens must outlast them) but not the
    issuing CA above it."""

    root: int = 3650
    issuing: int = 1825
    body: int = 730
    hub: int = 730
    tsa: int = 1460
    crl: int = 7


def init_pki(
    store: KeyStore,
    bodies: Iterable[Body],
    *,
    at: datetime,
    algorithm: KeyAlgorithm = KeyAlgorithm.RSA2048,
    force: bool = False,
    validity: Validity = Validity(),
    bodies_file: str | None = None,
    hub_url: str = DEFAULT_HUB_URL,
) -> int:
    """Create a whole demo PKI in *store*; returns the number of body certificates.

    *hub_url*: the hub that will publish the CRLs (the certificates' distribution points).
    Refuses (PKIExistsError) to replace an existing PKI unless *force*.
    """
    if store.exists() and not force:
        raise PKIExistsError(f"a PKI already exists in {store.directory}/; use --force to replace it")
    if force:
        for name in ("bodies", "encryption"):
            shutil.rmtree(store.directory / name, ignore_errors=True)
    crl_url, root_crl_url = crl_urls(hub_url)
    start = at - BACKDATE
    bodies = list(bodies)
    # root, issuing CA, hub, hub's encryption, TSA; then a signing and an encryption key a body
    keys = iter(generate_keys(algorithm, 5 + 2 * len(bodies)))
    root_key = next(keys)
    root = Credential(issue_root(root_key, not_before=start, days=validity.root), root_key)
    ca_key = next(keys)
    issuing = Credential(issue_ca(ca_key, issuer=root, not_before=start, days=validity.issuing,
                                  crl_url=root_crl_url), ca_key, (root.certificate,))
    _write_credential(store, "root-ca", root.certificate, root_key)
    _write_credential(store, "issuing-ca", issuing.certificate, ca_key)
    hub_key = next(keys)
    _write_credential(store, "hub", issue_hub_certificate(hub_key, issuer=issuing, not_before=start,
                                                          days=validity.hub, crl_url=crl_url), hub_key)
    issue_encryption(store, body_id=HUB_ID, name_vi=HUB_NAME, issuing=issuing, at=at, algorithm=algorithm,
                     days=validity.hub, backdate=BACKDATE, crl_url=crl_url, key=next(keys))
    tsa_key = next(keys)
    _write_credential(store, "tsa", issue_tsa_certificate(tsa_key, issuer=issuing, not_before=start,
                                                          days=validity.tsa, crl_url=crl_url), tsa_key)
    count = 0
    for body in bodies:
        issue_body(store, body, issuing=issuing, at=at, algorithm=algorithm, days=validity.body,
                   crl_url=crl_url, key=next(keys))
        issue_encryption(store, body_id=body.id, name_vi=body.name_vi, unit=body.name_en, issuing=issuing,
                         at=at, algorithm=algorithm, days=validity.body, backdate=BACKDATE, crl_url=crl_url,
                         key=next(keys))
        count += 1
    lifetime = timedelta(days=validity.crl)
    store.write("crl.pem", crl_pem(build_crl(issuing, [], at=start, next_update=lifetime)))
    store.write("root-crl.pem", crl_pem(build_crl(root, [], at=start, next_update=lifetime)))
    manifest = {
        "algorithm": algorithm.value,
        "created": utc_iso(at),
        "bodies_file": bodies_file,
        "validity_days": validity.__dict__,
        "hub_url": hub_url,
        "note": "DEMO PKI generated by `exchange keys init`; not a real certification authority",
    }
    store.write("pki.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode())
    return count


def issue_body(
    store: KeyStore,
    body: Body,
    *,
    issuing: Credential,
    at: datetime,
    algorithm: KeyAlgorithm,
    days: int = 730,
    key_usage: x509.KeyUsage | None = None,
    crl_url: str | None = None,
    key: PrivateKey | None = None,
) -> x509.Certificate:
    """Issue *body* a fresh key (*key* if given) and signing certificate and write both to *store*.

    *crl_url* (default: the issuing CA's CRL at the hub the PKI names) is its distribution point.
    """
    key = key if key is not None else generate_key(algorithm)
    cert = issue_signing_certificate(
        key, issuer=issuing, body_id=body.id, name_vi=body.name_vi, unit=body.name_en,
        not_before=at - BACKDATE, days=days, key_usage=key_usage,
        crl_url=crl_url or crl_urls(_hub_url(store))[0],
    )
    _write_credential(store, f"bodies/{body.id}", cert, key)
    return cert


def issue_unstored(store: KeyStore, body: Body, *, at: datetime, days: int = 30,
                   not_before: datetime | None = None, unit: str | None = None) -> Credential:
    """A fresh key and signing certificate for *body* from the issuing CA, valid from
    *not_before* (default: *at* less the usual back-dating) for *days*, in the PKI's algorithm;
    returned only, never written to *store*: a one-off signer that leaves the body's own
    certificate alone (the training mode's revoked and expired certificates). *unit* names it
    in the certificate (default: the body's English name)."""
    issuing = store.issuing_ca()
    algorithm = KeyAlgorithm(store.manifest().get("algorithm", KeyAlgorithm.RSA2048.value))
    key = generate_key(algorithm)
    cert = issue_signing_certificate(key, issuer=issuing, body_id=body.id, name_vi=body.name_vi,
                                     unit=unit if unit is not None else body.name_en,
                                     not_before=not_before if not_before is not None else at - BACKDATE,
                                     days=days)
    return Credential(cert, key, (issuing.certificate,))


def revoke(
    store: KeyStore,
    body_id: str,
    *,
    at: datetime,
    reason: RevocationReason = RevocationReason.UNSPECIFIED,
) -> x509.Certificate:
    """Add the body's current certificate (and its encryption certificate, which a compromise
    of the body takes with it) to the CRL and re-sign it; returns the signing certificate.

    Raises ConflictError if it is already revoked.
    """
    return revoke_certificate(store, store.certificate(body_id), at=at, reason=reason,
                              name=f"the certificate of {body_id}", with_encryption_of=body_id)


def revoke_certificate(
    store: KeyStore,
    cert: x509.Certificate,
    *,
    at: datetime,
    reason: RevocationReason = RevocationReason.UNSPECIFIED,
    name: str | None = None,
    with_encryption_of: str | None = None,
) -> x509.Certificate:
    """Add *cert* to the CRL of the CA that issued it (the issuing CA's ``crl.pem`` for bodies,
    the hub and the TSA; the root's ``root-crl.pem`` for the issuing CA and the TLS CA) and
    re-sign that CRL. *with_encryption_of*: also revoke that body's encryption certificate (a
    compromise of the body takes it with it).

    Raises ConflictError if it is already revoked, InputError if this PKI did not issue it.
    """
    signer, file = _crl_signer(store, cert)
    current = store.read_crl(file)
    entries = revoked_entries(current)
    if any(e.serial == cert.serial_number for e in entries):
        raise ConflictError(f"{name or 'the certificate'} (serial {cert.serial_number:x}) is already revoked")
    entries.append(RevokedEntry(cert.serial_number, at.replace(microsecond=0), reason))
    if with_encryption_of is not None and store.has_encryption(with_encryption_of):
        enc = store.encryption_certificate(with_encryption_of)
        if not any(e.serial == enc.serial_number for e in entries):
            entries.append(RevokedEntry(enc.serial_number, at.replace(microsecond=0), reason))
    crl = build_crl(signer, entries, at=at, number=crl_number(current) + 1,
                    next_update=crl_lifetime(store))
    store.write(file, crl_pem(crl))
    return cert


def reissue_crls(store: KeyStore, *, at: datetime, days: int | None = None
                 ) -> list[x509.CertificateRevocationList]:
    """Re-sign both CRLs now, same entries, next number, current for *days* (default: the
    PKI's ``Validity.crl``): what the CA does on its schedule. Returns [issuing CA's, root's]."""
    lifetime = timedelta(days=days) if days is not None else crl_lifetime(store)
    made = []
    for signer, file in ((store.issuing_ca(), "crl.pem"), (store.root_credential(), "root-crl.pem")):
        current = store.read_crl(file) if (store.directory / file).is_file() else None
        entries = revoked_entries(current) if current is not None else []
        number = crl_number(current) + 1 if current is not None else 1
        crl = build_crl(signer, entries, at=at.replace(microsecond=0), number=number, next_update=lifetime)
        store.write(file, crl_pem(crl))
        made.append(crl)
    return made


def crl_lifetime(store: KeyStore) -> timedelta:
    """How long this PKI's CRLs stay current (``validity_days.crl`` of pki.json, else 7 days)."""
    days = store.manifest().get("validity_days", {}).get("crl", Validity.crl)
    return timedelta(days=int(days))


def _crl_signer(store: KeyStore, cert: x509.Certificate) -> tuple[Credential, str]:
    """The CA that issued *cert* (by its signature, not only its name) and the CRL file it signs."""
    for ca, file in ((store.issuing_ca(), "crl.pem"), (store.root_credential(), "root-crl.pem")):
        if cert != ca.certificate and _issued_by(cert, ca.certificate):
            return ca, file
    raise InputError(f"{cert.subject.rfc4514_string()} was not issued by this PKI's CAs")


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _hub_url(store: KeyStore) -> str:
    try:
        return str(store.manifest().get("hub_url") or DEFAULT_HUB_URL)
    except PKIError:
        return DEFAULT_HUB_URL


def renew(store: KeyStore, body: Body, *, at: datetime) -> x509.Certificate:
    """Give *body* a new key and certificate; the old certificate moves to the archive.

    What the old key signed stays verifiable: each signature carries its own certificate.
    """
    old = store.certificate(body.id)
    manifest = store.manifest()
    store.write(store.archive_dir.relative_to(store.directory) / f"{body.id}-{old.serial_number:x}.pem",
                certificate_pem(old))
    days = int(manifest.get("validity_days", {}).get("body", 730))
    issuing = store.issuing_ca()
    algorithm = KeyAlgorithm(manifest["algorithm"])
    cert = issue_body(store, body, issuing=issuing, at=at, algorithm=algorithm, days=days)
    archive_encryption(store, body.id)
    issue_encryption(store, body_id=body.id, name_vi=body.name_vi, unit=body.name_en, issuing=issuing, at=at,
                     algorithm=algorithm, days=days, backdate=BACKDATE, crl_url=crl_urls(_hub_url(store))[0])
    return cert


class CertificateStatus(StrEnum):
    """A certificate's status at a given time, as ``keys list`` reports it: valid, revoked, expired
    or not yet valid."""

    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"


def certificate_status(
    cert: x509.Certificate, crl: x509.CertificateRevocationList, *, at: datetime
) -> CertificateStatus:
    """The status `keys list` shows: revoked (per the CRL) outranks expired."""
    item = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if item is not None and item.revocation_date_utc <= at:
        return CertificateStatus.REVOKED
    if at > cert.not_valid_after_utc:
        return CertificateStatus.EXPIRED
    if at < cert.not_valid_before_utc:
        return CertificateStatus.NOT_YET_VALID
    return CertificateStatus.VALID


def _write_credential(store: KeyStore, stem: str, cert: x509.Certificate, key: PrivateKey) -> None:
    store.write(f"{stem}.key", private_key_pem(key), private=True)
    store.write(f"{stem}.pem", certificate_pem(cert))
