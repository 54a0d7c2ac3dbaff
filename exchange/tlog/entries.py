"""The log's entries: what each kind records, and their one canonical byte encoding.

An entry is a JSON object serialized canonically (RFC 8785 for the values we use: strings,
integers, booleans, null and arrays of strings; keys sorted, no whitespace, UTF-8, no
floats), and those exact bytes are the Merkle leaf. Anyone can recompute a leaf hash from the
entry with any JSON library: see docs/evidence-log.md. Entries hold ids, body ids, hashes,
times and outcomes, never a subject or a document's content.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from exchange.clock import utc_iso
from exchange.errors import MalformedError

#: the version of the entry format, the ``v`` of every entry
ENTRY_VERSION = 1


class EntryKind(StrEnum):
    """What an entry records (its ``kind``)."""

    ACCEPTED = "accepted"  # an electronic document accepted: its signature passed (or unsigned)
    REFUSED = "refused"  # an electronic document refused, with the validation's indication
    DELIVERED = "delivered"  # made available to one recipient
    PAPER = "paper"  # a document sent on paper, registered
    DOWNLOADED = "downloaded"  # a recipient fetched the document's bytes (first time)
    RECEIPT = "receipt"  # a recipient's signed status, accepted by the hub
    INCOMING = "incoming"  # a document from an outside agency registered (K3)
    CERTIFICATE_REVOKED = "certificate-revoked"  # the hub saw a revoked certificate in use
    ACCESS_REFUSED = "access-refused"  # a request refused for authentication or access


class MalformedEntryError(MalformedError):
    """Raised when leaf bytes do not parse as a canonical log entry (not the JSON the hub writes)."""

    code = "malformed-entry"


def canonical_json(value: dict[str, Any]) -> bytes:
    """*value*'s canonical encoding: sorted keys, no whitespace, UTF-8 (not \\u-escaped)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


#: a time as entries write it: UTC, ISO 8601, ``Z``, microseconds only when not zero
entry_time = utc_iso


def make_entry(kind: EntryKind, *, at: datetime, **fields: Any) -> bytes:
    """The leaf bytes of one entry of *kind* at *at* with *fields* (None values kept as null)."""
    return canonical_json({"v": ENTRY_VERSION, "kind": kind.value, "at": entry_time(at), **fields})


def decode_leaf(leaf: bytes) -> dict[str, Any]:
    """The entry in *leaf*; MalformedEntryError unless the bytes are its canonical encoding."""
    try:
        value = json.loads(leaf.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise MalformedEntryError("the leaf is not UTF-8 JSON") from None
    if not isinstance(value, dict) or "kind" not in value or "at" not in value:
        raise MalformedEntryError("the leaf is not a log entry (no kind or time)")
    if canonical_json(value) != leaf:
        raise MalformedEntryError("the leaf is not in canonical form")
    return value
