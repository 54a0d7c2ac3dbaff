"""A body's certificates as the hub publishes them (``/api/bodies/{id}/certificates``): what a
sender checks, against its own root and CRL, before it encrypts a secret document."""

from __future__ import annotations

from pydantic import BaseModel

from exchange.pki import CertificateStatus

__all__ = ["BodyCertificates", "CertificatePublic"]


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
