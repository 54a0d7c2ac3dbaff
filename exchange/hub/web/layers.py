"""The three layers of a secret (Mật) document, for the workflow page: what each protects and
who can open what.

What the hub shows comes from what it holds: the envelope's RecipientInfos (whose encryption
certificates the content key was wrapped to: readable without the plaintext), its own check
of the outer signature, and each receiver's report of the inner signature (in its receipt).
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange.cms.envelope import Envelope, MalformedEnvelopeError
from exchange.domain.bodies import BodyRegistry
from exchange.domain.documents import Channel, Classification
from exchange.domain.indication import Indication
from exchange.hub.service import ExchangeService
from exchange.hub.store.models import DocumentPublic
from exchange.hub.web.documents import body_name
from exchange.pki import KeyStore

CIPHER_WORDS = {"aes256_gcm": "AES-256-GCM", "aes128_gcm": "AES-128-GCM", "aes256_cbc": "AES-256-CBC",
                "aes128_cbc": "AES-128-CBC", "aes192_cbc": "AES-192-CBC", "aes192_gcm": "AES-192-GCM"}
#: a step's state, as on the rest of the workflow page (also its CSS class)
OK, FAILED, PENDING, SKIPPED = "ok", "failed", "pending", "skipped"


@dataclass(frozen=True)
class Layer:
    """One protective layer of a secret document's triple wrap (inner signature, envelope, outer
    signature) and what it protects."""

    number: int
    title: str
    what: str  # what it protects
    state: str
    outcome: str


@dataclass(frozen=True)
class Reader:
    """One party and what it can do with the document."""

    who: str
    role: str
    metadata: bool
    outer: bool
    decrypt: bool
    inner: bool


@dataclass(frozen=True)
class SecretLayers:
    """How a secret document is wrapped: its layers, who can open it, and the recipients its
    envelope names."""

    layers: list[Layer]
    readers: list[Reader]
    wrapped_to: list[str]  # the envelope's recipient infos, in words

    @classmethod
    def build(cls, service: ExchangeService, doc: DocumentPublic, bodies: BodyRegistry) -> SecretLayers | None:
        """The layers of *doc*, or None unless it is a secret document sent electronically."""
        if doc.classification == Classification.NORMAL or doc.sha256 is None or not service.blobs.exists(doc.sha256):
            return None
        try:
            envelope = Envelope.from_der(service.blobs.path(doc.sha256).read_bytes())
        except MalformedEnvelopeError:
            envelope = None
        store = service.trust.store
        parties = [doc.sender, *doc.recipients]
        can_open = {p for p in parties if envelope is not None and _addressed(envelope, store, p)}
        wrapped = []
        if envelope is not None:
            for r in envelope.recipients:
                owner = next((p for p in parties if any(r.matches(c) for c in store.encryption_certificates(p))),
                             None)
                wrapped.append(f"{body_name(bodies, owner) if owner else 'an unknown certificate'}: {r.kind}")
        return cls(_layers(doc, envelope, bodies), _readers(doc, can_open, bodies), wrapped)


def _addressed(envelope: Envelope, store: KeyStore, body_id: str) -> bool:
    return any(envelope.is_for(c) for c in store.encryption_certificates(body_id))


def _layers(doc: DocumentPublic, envelope: Envelope | None, bodies: BodyRegistry) -> list[Layer]:
    sender = body_name(bodies, doc.sender)
    verified = [d.verified for d in doc.deliveries]
    if any(v is False for v in verified):
        inner = Layer(1, "Inner signature", "the plaintext: who wrote it (non-repudiation)", FAILED,
                      "a receiver's own verification of the inner signature FAILED")
    elif verified and all(v is True for v in verified):
        inner = Layer(1, "Inner signature", "the plaintext: who wrote it (non-repudiation)", OK,
                      f"signed by {sender}; verified by every receiver after decrypting")
    elif doc.indication is None:
        inner = Layer(1, "Inner signature", "the plaintext: who wrote it (non-repudiation)", SKIPPED,
                      "sent unsigned: no inner signature")
    else:
        inner = Layer(1, "Inner signature", "the plaintext: who wrote it (non-repudiation)", PENDING,
                      "inside the envelope: only the receivers can see and verify it; not verified yet")
    if envelope is None:
        sealed = Layer(2, "Envelope", "the content: who may read it", FAILED, "not a CMS envelope")
    else:
        cipher = CIPHER_WORDS.get(envelope.cipher, envelope.cipher)
        sealed = Layer(2, "Envelope", "the content: who may read it", OK,
                       f"CMS {'AuthEnvelopedData' if envelope.kind == 'authenticated_enveloped_data' else 'EnvelopedData'}"
                       f", {cipher}; the content key wrapped to {len(envelope.recipients)} encryption "
                       "certificate(s); the hub holds no key to open it")
    if doc.indication is None:
        outer = Layer(3, "Outer signature", "the envelope: who sent it, unchanged in transit", SKIPPED,
                      "sent unsigned: no outer signature")
    elif doc.indication == Indication.TOTAL_PASSED and doc.channel == Channel.SIGNED_VALID:
        outer = Layer(3, "Outer signature", "the envelope: who sent it, unchanged in transit", OK,
                      f"signed by {sender}; the hub verified it without seeing the plaintext")
    else:
        outer = Layer(3, "Outer signature", "the envelope: who sent it, unchanged in transit", FAILED,
                      f"the hub refused it: {doc.indication}" + (f" / {doc.sub_indication}" if doc.sub_indication
                                                                 else ""))
    return [inner, sealed, outer]


def _readers(doc: DocumentPublic, can_open: set[str], bodies: BodyRegistry) -> list[Reader]:
    signed = doc.indication is not None
    rows = [Reader(body_name(bodies, doc.sender), "sender", True, signed, doc.sender in can_open,
                   signed and doc.sender in can_open)]
    for recipient in doc.recipients:
        opens = recipient in can_open
        rows.append(Reader(body_name(bodies, recipient), "receiver", True, signed, opens, signed and opens))
    rows.append(Reader("The hub", "passes it on", True, signed, False, False))
    rows.append(Reader("Any other body", "not addressed", False, False, False, False))
    return rows
