"""The CA's history: every certificate a body was issued, and every revocation, with dates.

A report on a past period cannot read the *current* certificates only: a certificate revoked
and then renewed (Nghệ An's, in every demo) is no longer any body's current certificate, yet
its revocation happened in that period. The CRL keeps every revocation (serial, date, reason)
and the key directory keeps every replaced certificate (``bodies/archive/``), so the two
together give the whole history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from exchange.pki.certificates import body_id_of, load_certificate_file
from exchange.pki.revocation import RevocationReason, revoked_entries
from exchange.pki.store import KeyStore


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """One signing certificate the CA issued a body."""

    body_id: str
    serial: int
    not_before: datetime
    not_after: datetime
    current: bool  # the body's certificate now (not archived)

    @property
    def serial_hex(self) -> str:
        """The serial in lower-case hex, as ``keys list`` and the pages show it."""
        return f"{self.serial:x}"


@dataclass(frozen=True, slots=True)
class Revocation:
    """A revocation from the CRL, with the body it concerned and what replaced the certificate."""

    body_id: str | None  # None: a serial the key directory does not know
    serial: int
    revoked_at: datetime
    reason: RevocationReason
    renewed_at: datetime | None  # when the body's next certificate was issued, if any
    renewed_serial: int | None

    @property
    def serial_hex(self) -> str:
        """The revoked serial in lower-case hex."""
        return f"{self.serial:x}"

    @property
    def renewed_serial_hex(self) -> str:
        """The serial of the certificate that replaced it, in hex; empty when it was not renewed."""
        return f"{self.renewed_serial:x}" if self.renewed_serial is not None else ""


def _certificates(store: KeyStore) -> list[tuple[x509.Certificate, bool]]:
    found = [(load_certificate_file(p)[0], True) for p in sorted((store.directory / "bodies").glob("*.pem"))]
    found += [(load_certificate_file(p)[0], False) for p in sorted(store.archive_dir.glob("*.pem"))]
    return found


def issued(store: KeyStore) -> list[IssuedCertificate]:
    """Every body certificate in the key directory (current and archived), oldest first.
    Raises PKINotFoundError if there is no PKI."""
    store.require()
    items = []
    for cert, current in _certificates(store):
        body = body_id_of(cert)
        if body is not None:
            items.append(IssuedCertificate(body, cert.serial_number, cert.not_valid_before_utc,
                                           cert.not_valid_after_utc, current))
    return sorted(items, key=lambda c: (c.not_before, c.body_id, c.serial))


def revocations(store: KeyStore, *, start: datetime | None = None,
                end: datetime | None = None) -> list[Revocation]:
    """The CRL's revocations dated in [start, end), oldest first, each with its body and the
    certificate issued to that body next (the renewal), if any."""
    certificates = issued(store)
    by_serial = {c.serial: c for c in certificates}
    found = []
    for entry in revoked_entries(store.crl()):
        if (start is not None and entry.revoked_at < start) or (end is not None and entry.revoked_at >= end):
            continue
        cert = by_serial.get(entry.serial)
        body = cert.body_id if cert else None
        later = [c for c in certificates if c.body_id == body and cert is not None and c.serial != entry.serial
                 and c.not_before > cert.not_before]
        renewal = later[0] if later else None
        found.append(Revocation(body, entry.serial, entry.revoked_at, entry.reason,
                                renewal.not_before if renewal else None, renewal.serial if renewal else None))
    return sorted(found, key=lambda r: (r.revoked_at, r.body_id or "", r.serial))
