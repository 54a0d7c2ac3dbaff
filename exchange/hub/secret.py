"""What the hub checks of a secret (Mật) document, and what it publishes for senders to encrypt.

The hub never holds a secret document's plaintext: the file of a secret document must be a
CMS envelope addressed to every recipient (each by one of its encryption certificates), and
the hub checks the outer signature over that envelope like any document's. It cannot open it:
it holds no recipient's key. A plaintext sent as secret is refused and its bytes removed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cryptography import x509
from pydantic import BaseModel

from exchange.clock import utc_iso
from exchange.cms.envelope import Envelope, MalformedEnvelopeError
from exchange.errors import NotFoundError, RejectedError
from exchange.pki import CertificateStatus, KeyStore, certificate_status
from exchange.pki.certificates import certificate_pem


class CertificatePublic(BaseModel):
    """One certificate as the hub publishes it."""

    pem: str
    serial: str
    not_before: str
    not_after: str
    status: CertificateStatus


class BodyCertificates(BaseModel):
    """A body's current certificates: ``encryption`` is what senders encrypt secret documents to."""

    body: str
    signing: CertificatePublic
    encryption: CertificatePublic | None


def body_certificates(store: KeyStore, body_id: str, *, crl: x509.CertificateRevocationList,
                      at: datetime) -> BodyCertificates:
    """*body_id*'s current signing and encryption certificates with their status at *at*.

    Raises NotFoundError if the key folder holds no certificate for it.
    """
    if not store.has_body(body_id):
        raise NotFoundError(f"no certificate for body {body_id!r}")
    encryption = store.encryption_certificate(body_id) if store.has_encryption(body_id) else None
    return BodyCertificates(
        body=body_id,
        signing=_public(store.certificate(body_id), crl, at),
        encryption=_public(encryption, crl, at) if encryption is not None else None,
    )


def _public(cert: x509.Certificate, crl: x509.CertificateRevocationList, at: datetime) -> CertificatePublic:
    return CertificatePublic(pem=certificate_pem(cert).decode(), serial=f"{cert.serial_number:x}",
                             not_before=utc_iso(cert.not_valid_before_utc), not_after=utc_iso(cert.not_valid_after_utc),
                             status=certificate_status(cert, crl, at=at))


def check_envelope(path: Path, *, recipients: tuple[str, ...], store: KeyStore) -> Envelope:
    """The parsed envelope of a secret document stored at *path*.

    Raises RejectedError ``not-encrypted`` when the file is not a CMS envelope, and
    ``not-encrypted-to-recipient`` when a recipient has no RecipientInfo in it (it could
    never read the document).
    """
    try:
        envelope = Envelope.from_der(path.read_bytes())
    except MalformedEnvelopeError as exc:
        raise RejectedError(f"a secret (Mật) document must be sent encrypted (a CMS envelope): {exc}",
                            code="not-encrypted") from None
    for recipient in recipients:
        if not any(envelope.is_for(cert) for cert in store.encryption_certificates(recipient)):
            raise RejectedError(f"the envelope is not addressed to {recipient}'s encryption certificate: "
                                "it could never read the document", code="not-encrypted-to-recipient")
    return envelope
