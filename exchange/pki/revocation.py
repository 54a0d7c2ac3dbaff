"""Certificate revocation lists: issuing them and answering "was this serial revoked, when?"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from exchange.errors import MalformedError
from exchange.pki.certificates import Credential


class RevocationReason(StrEnum):
    """RFC 5280 reason codes a clerk may give (the CLI's ``--reason``)."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "key_compromise"
    AFFILIATION_CHANGED = "affiliation_changed"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessation_of_operation"
    CERTIFICATE_HOLD = "certificate_hold"

    @property
    def flag(self) -> x509.ReasonFlags:
        """The reason as ``cryptography``'s ReasonFlags, as a CRL entry records it."""
        return x509.ReasonFlags[self.value]


@dataclass(frozen=True)
class RevokedEntry:
    """One certificate to list on a CRL: its serial, when it was revoked and why."""

    serial: int
    revoked_at: datetime
    reason: RevocationReason = RevocationReason.UNSPECIFIED


def build_crl(
    issuer: Credential,
    revoked: Iterable[RevokedEntry],
    *,
    at: datetime,
    next_update: timedelta = timedelta(days=7),
    number: int = 1,
) -> x509.CertificateRevocationList:
    """A CRL signed by *issuer* listing *revoked*, valid from *at* for *next_update*."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(at)
        .next_update(at + next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for entry in revoked:
        item = (
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.revoked_at)
        )
        if entry.reason is not RevocationReason.UNSPECIFIED:
            item = item.add_extension(x509.CRLReason(entry.reason.flag), critical=False)
        builder = builder.add_revoked_certificate(item.build())
    return builder.sign(issuer.private_key, hashes.SHA256())


def load_crl(data: bytes, *, source: str = "input") -> x509.CertificateRevocationList:
    """A CRL from PEM or DER *data*; raises MalformedError otherwise."""
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise MalformedError(f"{source} is not a CRL: {exc}") from None


def load_crls(data: bytes, *, source: str = "input") -> list[x509.CertificateRevocationList]:
    """Every CRL in *data*: one DER CRL, or one or more PEM blocks (a CRL bundle)."""
    if b"-----BEGIN" not in data:
        return [load_crl(data, source=source)]
    marker = b"-----BEGIN X509 CRL-----"
    blocks = [marker + part for part in data.split(marker)[1:]]
    if not blocks:
        raise MalformedError(f"{source} holds no PEM CRL")
    return [load_crl(block, source=source) for block in blocks]


def revoked_entries(crl: x509.CertificateRevocationList) -> list[RevokedEntry]:
    """The entries of *crl*, to carry them into the next CRL."""
    return [_entry(item) for item in crl]


def crl_number(crl: x509.CertificateRevocationList) -> int:
    """The CRL's CRLNumber extension (RFC 5280 §5.2.3), or 0 when it has none."""
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return 0


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    """*crl* as PEM bytes (how the key directory stores it)."""
    return crl.public_bytes(serialization.Encoding.PEM)


def crl_der(crl: x509.CertificateRevocationList) -> bytes:
    """*crl* as DER bytes (how the hub serves it and evidence bundles carry it)."""
    return crl.public_bytes(serialization.Encoding.DER)


def is_stale(crl: x509.CertificateRevocationList, at: datetime) -> bool:
    """Whether *crl* is no evidence at *at*: its issuer promised a newer one (``nextUpdate``)
    before then (RFC 5280 §5.1.2.5; ETSI EN 319 102-1 answers TRY_LATER)."""
    next_update = crl.next_update_utc
    return next_update is not None and next_update < at


class RevocationIndex:
    """The CRLs a validator was given, each checked against its issuer before it is believed.

    ``lookup`` answers for one certificate from the CRL its *issuer* signed; a CRL whose
    signature does not verify under that issuer's key is ignored, never trusted.
    """

    def __init__(self, crls: Iterable[x509.CertificateRevocationList] = ()) -> None:
        self._crls = list(crls)
        # issuer certificate -> its verified CRLs, as given and newest first; filled lazily.
        # Certificates compare and hash by their whole DER, so this is keyed by issuer name
        # and key as before, without computing a fingerprint at every lookup.
        self._verified: dict[x509.Certificate, list[x509.CertificateRevocationList]] = {}
        self._newest_first: dict[x509.Certificate, list[x509.CertificateRevocationList]] = {}

    def __bool__(self) -> bool:
        return bool(self._crls)

    def crls_for(self, issuer: x509.Certificate) -> list[x509.CertificateRevocationList]:
        """CRLs signed by *issuer* (signature verified once, then cached)."""
        found = self._verified.get(issuer)
        if found is None:
            found = [
                crl
                for crl in self._crls
                if crl.issuer == issuer.subject and crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
            ]
            # The newest CRL is authoritative; older ones only add history. (Stored before
            # _verified, so a concurrent lookup that finds one finds both.)
            self._newest_first[issuer] = sorted(found, key=lambda c: c.last_update_utc, reverse=True)
            self._verified[issuer] = found
        return found

    def lookup(
        self, certificate: x509.Certificate, issuer: x509.Certificate
    ) -> tuple[bool, RevokedEntry | None, x509.CertificateRevocationList | None]:
        """(covered, entry, crl): whether a verified CRL of *issuer* covers it, and the entry."""
        if not self.crls_for(issuer):
            return False, None, None
        crls = self._newest_first[issuer]
        for crl in crls:
            item = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
            if item is not None:
                return True, _entry(item), crl
        return True, None, crls[0]


def _entry(item: x509.RevokedCertificate) -> RevokedEntry:
    try:
        flag = item.extensions.get_extension_for_class(x509.CRLReason).value.reason
        reason = RevocationReason(flag.name)
    except (x509.ExtensionNotFound, ValueError):
        reason = RevocationReason.UNSPECIFIED
    return RevokedEntry(item.serial_number, item.revocation_date_utc, reason)
