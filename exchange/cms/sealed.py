"""Secret documents, triple-wrapped as RFC 2634 §1.1 describes: sign, encrypt, sign.

1. **Inner signature** over the plaintext (non-repudiation: only the recipients ever see it):
   a CMS SignedData that carries the plaintext (``openssl cms -verify`` reads it alone).
2. **Envelope** around the inner SignedData (:mod:`exchange.cms.envelope`, AES-256-GCM), with one
   RecipientInfo per recipient and one for the sender, so it can reread what it sent.
3. **Outer signature**, detached, over the envelope's bytes: the hub checks who sent it and
   that nothing changed in transit exactly as it checks any document, without the plaintext.

The envelope and its outer signature travel like any signed document (file + ``.p7s``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms
from cryptography import x509

from exchange.cms.envelope import Envelope, encrypt
from exchange.cms.report import ValidationReport
from exchange.cms.sign import sign_detached
from exchange.cms.verify import MalformedSignatureError, Verifier
from exchange.errors import DecryptionError
from exchange.pki.certificates import Credential


@dataclass(frozen=True)
class Sealed:
    """A triple-wrapped document: the envelope (DER) and its outer detached signature (DER)."""

    envelope: bytes
    outer_signature: bytes


@dataclass(frozen=True)
class Opened:
    """An opened envelope: the plaintext, the inner signature (detached form) and its report.

    ``inner_signature`` and ``report`` are None when the envelope held unsigned content.
    """

    content: bytes
    inner_signature: bytes | None
    report: ValidationReport | None
    envelope: Envelope


def seal(content: bytes, *, sender: Credential, recipients: Sequence[x509.Certificate],
         sender_encryption: x509.Certificate | None, at: datetime) -> Sealed:
    """Sign *content* as *sender*, encrypt it to *recipients* (and *sender_encryption*, the
    sender's own encryption certificate), and sign the envelope: the three layers.

    The recipients' certificates must have been checked by the caller
    (:func:`exchange.pki.check_encryption_certificate`).
    """
    inner = attach(sign_detached(content, sender, at=at), content)
    readers = [*recipients, *([sender_encryption] if sender_encryption is not None else [])]
    envelope = encrypt(inner, readers, content_type="signed_data")
    return Sealed(envelope, sign_detached(envelope, sender, at=at))


def attach(signature: bytes, content: bytes) -> bytes:
    """The detached SignedData *signature* with *content* encapsulated (the same signature:
    signed attributes cover the content's digest, not where it travels)."""
    info = cms.ContentInfo.load(signature)
    signed = info["content"]
    signed["encap_content_info"] = {"content_type": "data", "content": content}
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())


def detach(signed_data: bytes) -> tuple[bytes, bytes]:
    """(content, detached signature) from a SignedData that carries its content.

    Raises MalformedSignatureError if it is not one.
    """
    try:
        info = cms.ContentInfo.load(signed_data)
        if info["content_type"].native != "signed_data":
            raise MalformedSignatureError("the inner layer is not a CMS SignedData")
        signed = info["content"]
        content = signed["encap_content_info"]["content"].native
        if content is None:
            raise MalformedSignatureError("the inner SignedData carries no content")
        signed["encap_content_info"] = {"content_type": "data"}
        detached = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()
    except MalformedSignatureError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedSignatureError(f"the inner layer is not a valid SignedData: {exc}") from None
    return bytes(content), detached


def open_sealed(envelope: bytes, *, credentials: Sequence[Credential], verifier: Verifier | None,
                at: datetime) -> Opened:
    """Decrypt *envelope* with the first of *credentials* it is addressed to, and validate
    the inner signature with *verifier* at *at* (not validated when *verifier* is None).

    Raises MalformedEnvelopeError for bytes that are not an envelope, DecryptionError when
    none of *credentials* may open it or it does not open.
    """
    parsed = Envelope.from_der(envelope)
    credential = next((c for c in credentials if parsed.is_for(c.certificate)), None)
    if credential is None:
        raise DecryptionError("the envelope is not addressed to any of your encryption certificates "
                              f"({len(parsed.recipients)} recipient(s))", code="not-a-recipient")
    plain = parsed.decrypt(credential.certificate, credential.private_key)
    inner = _inner_signed_data(parsed.content_type, plain)
    if inner is None:
        return Opened(plain, None, None, parsed)
    content, detached = detach(inner)
    report = verifier.verify(content, detached, at=at) if verifier is not None else None
    return Opened(content, detached, report, parsed)


def _inner_signed_data(content_type: str, plain: bytes) -> bytes | None:
    """The inner SignedData if the envelope holds one: typed as such (ours), or as ``data``
    whose bytes are a SignedData that carries content (``openssl cms -sign | cms -encrypt``)."""
    if content_type == "signed_data":
        return plain
    if content_type != "data" or not plain.startswith(b"\x30"):
        return None
    try:
        info = cms.ContentInfo.load(plain)
        if info["content_type"].native == "signed_data" and \
                info["content"]["encap_content_info"]["content"].native is not None:
            return plain
    except (ValueError, TypeError, KeyError):
        return None
    return None
