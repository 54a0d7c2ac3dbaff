"""The little DER the CMS code writes by hand (X.690 §8.1, §10.1): lengths and TLVs.

Signing splices per-signature values into encodings asn1crypto made once, and verification
re-tags the signed attributes; both need only definite lengths and one-byte tags.
"""

from __future__ import annotations


def der_length(length: int) -> bytes:
    """The length octets: short form below 128, else 0x80 | count, then the bytes big-endian."""
    if length < 0x80:
        return bytes((length,))
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


def tlv(tag: int, contents: bytes) -> bytes:
    """One TLV with a one-byte *tag* (e.g. 0x30 SEQUENCE, 0x31 SET, 0x04 OCTET STRING)."""
    return bytes((tag,)) + der_length(len(contents)) + contents


def contents_of(der: bytes) -> bytes:
    """The contents of one TLV with a one-byte tag and a definite length (its header cut)."""
    first = der[1]
    start = 2 if first < 0x80 else 2 + (first & 0x7F)
    return der[start:]
