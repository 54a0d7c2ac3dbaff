"""A node's side of secret (Mật) documents: encrypt to recipients it has never met, and open.

Sending: the node asks the hub for each recipient's current encryption certificate
(``GET /api/bodies/{id}/certificates``), but believes it only after checking it itself: it
must chain to the node's own root, be valid now, not be on the CRLs the node enforces, allow
encryption and name that body. A hub that offered its own key would be refused here. Then
the node triple-wraps the document (:func:`exchange.cms.sealed.seal`) and sends the envelope
with its outer signature, as any signed document.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cryptography import x509

from exchange.cms.sealed import seal
from exchange.domain.documents import DocumentMetadata
from exchange.errors import UnusableCertificateError
from exchange.node.client import HubClient
from exchange.pki import PathValidator, check_encryption_certificate, load_certificates
from exchange.pki.certificates import read_file
from exchange.wire import DocumentPublic

#: the extension the envelope of a secret document travels under
ENVELOPE_SUFFIX = ".p7m"


def recipient_certificates(client: HubClient, recipients: Sequence[str], *, paths: PathValidator,
                           at: datetime) -> list[x509.Certificate]:
    """Each recipient's encryption certificate, as published by the hub and checked here.

    Raises UnusableCertificateError for a recipient with none, or one that must not be
    encrypted to (revoked, expired, untrusted, another body's, not for encryption).
    """
    certificates = []
    for recipient in dict.fromkeys(recipients):
        published = client.certificates(recipient).encryption
        if published is None:
            raise UnusableCertificateError(f"{recipient} has no encryption certificate: cannot send it a secret "
                                           "document")
        certificate = load_certificates(published.pem.encode(), source=f"{recipient}'s encryption certificate")[0]
        check_encryption_certificate(certificate, paths=paths, body_id=recipient, at=at,
                                     intermediates=client.credential.chain)
        certificates.append(certificate)
    return certificates


def send_secret(client: HubClient, content: Path | bytes, *, metadata: DocumentMetadata, paths: PathValidator,
                own_encryption: x509.Certificate | None, at: datetime, filename: str | None = None
                ) -> DocumentPublic:
    """Sign, encrypt (to the recipients and *own_encryption*) and sign again, then send.

    The hub receives the envelope and the outer signature only; the plaintext never leaves
    the node. *metadata* must be classified secret. Returns the hub's record.
    """
    data = read_file(content) if isinstance(content, Path) else bytes(content)
    certificates = recipient_certificates(client, metadata.recipients, paths=paths, at=at)
    if own_encryption is not None:
        check_encryption_certificate(own_encryption, paths=paths, body_id=client.body_id, at=at,
                                     intermediates=client.credential.chain)
    sealed = seal(data, sender=client.credential, recipients=certificates, sender_encryption=own_encryption, at=at)
    name = filename or (content.name if isinstance(content, Path) else "document.bin")
    return client.send(sealed.envelope, metadata=metadata, signature=sealed.outer_signature,
                       filename=name + ENVELOPE_SUFFIX)
