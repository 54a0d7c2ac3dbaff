"""Checkpoints in the C2SP ``tlog-checkpoint`` text form, signed as a C2SP signed note and as
a detached CMS signature (so ``openssl cms -verify`` checks the same text).

A checkpoint's text (the note's body)::

    <origin>
    <tree size, decimal>
    <root hash, base64>

The signed note adds a blank line and one signature line ``— <origin> base64(key ID ||
signature)``. Our keys are X.509 (RSA or ECDSA), which signed-note has no type byte for, so the
key ID follows its rule for other types: the first four bytes of
``SHA-256(origin || 0x0A || 0xFF || "x509-sha256" || the certificate's SubjectPublicKeyInfo DER)``
and the signature is PKCS#1 v1.5 (RSA) or ECDSA (DER), SHA-256, over the text's bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from exchange.cms import sign_detached
from exchange.errors import MalformedError
from exchange.pki.certificates import Credential
from exchange.tlog.hashing import HASH_SIZE

_SIGNATURE_TYPE = b"\xffx509-sha256"
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


class MalformedCheckpointError(MalformedError):
    """Raised when a checkpoint or signed note does not parse (the message says which line and why)."""

    code = "malformed-checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    """A log's state: its origin (the log's name), its size and its root hash."""

    origin: str
    size: int
    root: bytes

    def text(self) -> bytes:
        """The checkpoint's exact bytes, the ones that are signed."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n".encode()

    @classmethod
    def from_text(cls, text: bytes) -> Checkpoint:
        """Parse a checkpoint body (extension lines after the root are allowed and ignored)."""
        try:
            lines = text.decode("utf-8").split("\n")
        except UnicodeDecodeError:
            raise MalformedCheckpointError("the checkpoint is not UTF-8 text") from None
        if len(lines) < 4 or lines[-1] != "":
            raise MalformedCheckpointError("a checkpoint is an origin, a size and a root hash, one a line")
        origin, size, root = lines[0], lines[1], lines[2]
        if not origin or any(ch.isspace() or ch == "+" for ch in origin):
            raise MalformedCheckpointError(f"the checkpoint's origin {origin!r} is empty or has spaces")
        if not _SIZE.fullmatch(size):
            raise MalformedCheckpointError(f"the checkpoint's size {size!r} is not a decimal number")
        try:
            digest = base64.b64decode(root, validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != HASH_SIZE:
            raise MalformedCheckpointError("the checkpoint's root is not a base64 SHA-256 hash")
        return cls(origin, int(size), digest)


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint with its signed note (text + signature line) and its detached CMS."""

    checkpoint: Checkpoint
    note: bytes
    cms: bytes

    @classmethod
    def sign(cls, checkpoint: Checkpoint, credential: Credential, *, at: datetime) -> SignedCheckpoint:
        """Sign *checkpoint* with *credential* (the hub's) as a signed note and a detached CMS."""
        text = checkpoint.text()
        key = credential.private_key
        if isinstance(key, rsa.RSAPrivateKey):
            raw = key.sign(text, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            raw = key.sign(text, ec.ECDSA(hashes.SHA256()))
        else:  # pragma: no cover - the PKI makes RSA or ECDSA keys only
            raise TypeError(f"unsupported key type {type(key).__name__}")
        line = base64.b64encode(key_id(checkpoint.origin, credential.certificate) + raw).decode()
        note = text + f"\n\u2014 {checkpoint.origin} {line}\n".encode()
        return cls(checkpoint, note, sign_detached(text, credential, at=at))

    @classmethod
    def from_note(cls, note: bytes, cms: bytes) -> SignedCheckpoint:
        """Parse a signed note (signatures are checked by :func:`note_signature_valid`)."""
        text, _, _ = note.partition(b"\n\n")
        return cls(Checkpoint.from_text(text + b"\n"), note, cms)


def key_id(name: str, certificate: x509.Certificate) -> bytes:
    """The signed-note key ID of *certificate*'s key under *name* (see the module's docstring)."""
    spki = certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(name.encode() + b"\n" + _SIGNATURE_TYPE + spki).digest()[:4]


def note_signature_valid(signed: SignedCheckpoint, certificate: x509.Certificate) -> bool:
    """Whether the note carries a signature line by *certificate*'s key over the checkpoint's
    text (lines from other keys are ignored, as signed-note requires)."""
    text = signed.checkpoint.text()
    if not signed.note.startswith(text + b"\n"):
        return False
    wanted = key_id(signed.checkpoint.origin, certificate)
    public = certificate.public_key()
    for line in signed.note[len(text) + 1:].decode("utf-8", "replace").splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014" or parts[1] != signed.checkpoint.origin:
            continue
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except (binascii.Error, ValueError):
            continue
        if blob[:4] != wanted:
            continue
        try:
            if isinstance(public, rsa.RSAPublicKey):
                public.verify(blob[4:], text, padding.PKCS1v15(), hashes.SHA256())
            elif isinstance(public, ec.EllipticCurvePublicKey):
                public.verify(blob[4:], text, ec.ECDSA(hashes.SHA256()))
            else:
                return False
        except InvalidSignature:
            return False
        return True
    return False
